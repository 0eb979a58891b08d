// TopicLog (durable mode's per-topic log) and GroupCommitter: round trip, offsets across
// reopen and segments, recovery from a torn tail at every byte, CRC and offset mismatches,
// format version, failed fsync, and group commit (many appends share one fsync).
#include "nsqd/storage/topic_log.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "common/disk/forwarding_file_ops.hpp"
#include "nsqd/storage/group_committer.hpp"
#include "support/file_bytes.hpp"
#include "support/result_assertions.hpp"
#include "support/temp_dir.hpp"

namespace nsq::nsqd {
namespace {

namespace fs = std::filesystem;
using test_support::succeeded;
using test_support::TempDir;

using test_support::slurp;
using test_support::spit;

protocol::MessageId id_of(int i) {
  return protocol::message_id_from_guid(1000 + i);
}

std::string body_of(int i) {
  return "body-" + std::to_string(i) + std::string(i % 7, 'x');
}

std::shared_ptr<TopicLog> open_log(
    const std::string& dir, int64_t segment_bytes = 1 << 20, disk::FileOps* ops = nullptr,
    int64_t preallocate_bytes = TopicLogOptions{}.preallocate_bytes) {
  auto log = TopicLog::open({.dir = dir,
                             .segment_bytes = segment_bytes,
                             .preallocate_bytes = preallocate_bytes,
                             .ops = ops});
  EXPECT_TRUE(succeeded(log));
  return log ? *log : nullptr;
}

// Appends messages [from, from + n), one append each.
void append_n(TopicLog& log, int from, int n, int64_t due_ns = 0) {
  for (int i = from; i < from + n; ++i) {
    const std::string body = body_of(i);
    const LogAppend item{id_of(i), 100 + i, due_ns, body};
    const auto offset = log.append(std::span(&item, 1));
    ASSERT_TRUE(succeeded(offset));
    ASSERT_EQ(*offset, static_cast<uint64_t>(i));
  }
}

std::vector<LogRecord> read_all(TopicLog& log, uint64_t from = 0) {
  std::vector<LogRecord> out;
  EXPECT_TRUE(succeeded(log.read(from, 1'000'000, out)));
  return out;
}

void expect_records(const std::vector<LogRecord>& recs, int from, int n) {
  ASSERT_EQ(recs.size(), static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    const int i = from + k;
    EXPECT_EQ(recs[k].offset, static_cast<uint64_t>(i));
    EXPECT_EQ(recs[k].id, id_of(i));
    EXPECT_EQ(recs[k].timestamp_ns, 100 + i);
    EXPECT_EQ(recs[k].body, body_of(i));
  }
}

const std::string kSeg0 = "/00000000000000000000.seg";

// Real syscalls; fsync can be made slow or failing, and is counted.
class CountingOps : public disk::ForwardingFileOps {
 public:
  std::atomic<int> fsyncs{0};
  std::atomic<int> fsync_delay_ms{0};
  std::atomic<bool> fail_fsync{false};
  std::atomic<bool> real_fsync{true};    // false: tests that only need the calls, not the disk
  std::atomic<int> fail_after{INT_MAX};  // every fsync after this many fails
  int fsync(int fd) override {
    const int n = ++fsyncs;
    std::this_thread::sleep_for(std::chrono::milliseconds(fsync_delay_ms.load()));
    if (fail_fsync || n > fail_after) return -EIO;
    return real_fsync ? inner().fsync(fd) : 0;
  }
};

TEST(TopicLogTest, AppendsGetConsecutiveOffsetsAndReadBack) {
  TempDir dir;
  auto log = open_log(dir.path());
  append_n(*log, 0, 10);
  const std::string body = "deferred";
  const LogAppend batch[2] = {{id_of(10), 110, 5'000, body}, {id_of(11), 111, 0, body}};
  const auto first = log->append(batch);
  ASSERT_TRUE(succeeded(first));
  EXPECT_EQ(*first, 10u);
  EXPECT_EQ(log->next_offset(), 12u);
  auto recs = read_all(*log);
  ASSERT_EQ(recs.size(), 12u);
  expect_records({recs.begin(), recs.begin() + 10}, 0, 10);
  EXPECT_EQ(recs[10].due_ns, 5'000);
  EXPECT_EQ(recs[11].due_ns, 0);
  std::vector<LogRecord> part;
  ASSERT_TRUE(succeeded(log->read(7, 3, part)));  // a bounded read from the middle
  expect_records(part, 7, 3);
}

TEST(TopicLogTest, SegmentHeaderAndRecordLayoutAreTheDocumentedOnes) {
  TempDir dir;
  auto log = open_log(dir.path());
  append_n(*log, 0, 1);
  log.reset();
  const std::string bytes = slurp(dir.path() + kSeg0);
  ASSERT_EQ(bytes.size(), kTopicLogSegmentHeaderSize + kTopicLogRecordHeaderSize + 6);
  EXPECT_EQ(bytes.substr(0, 8), std::string("NSQL\0\1\0\0", 8));
  EXPECT_EQ(bytes.substr(8, 8), std::string(8, '\0'));           // base offset 0
  EXPECT_EQ(bytes.substr(16, 4), std::string("\0\0\0\x2e", 4));  // 40 + 6 payload bytes
  EXPECT_EQ(bytes.substr(24, 8), std::string(8, '\0'));          // offset 0
  EXPECT_EQ(bytes.substr(bytes.size() - 6), "body-0");
}

TEST(TopicLogTest, ReopenKeepsRecordsAndContinuesOffsets) {
  TempDir dir;
  {
    auto log = open_log(dir.path());
    append_n(*log, 0, 5);
  }
  auto log = open_log(dir.path());
  EXPECT_EQ(log->next_offset(), 5u);
  EXPECT_EQ(log->synced_offset(), 5u);
  append_n(*log, 5, 3);
  expect_records(read_all(*log), 0, 8);
}

TEST(TopicLogTest, ATornTailAtEveryByteKeepsEveryWholeRecordBeforeIt) {
  TempDir src;
  std::vector<size_t> ends;  // file size after each record
  {
    auto log = open_log(src.path());
    for (int i = 0; i < 4; ++i) {
      append_n(*log, i, 1);
      ends.push_back(fs::file_size(src.path() + kSeg0));
    }
  }
  const std::string full = slurp(src.path() + kSeg0);
  CountingOps ops;
  ops.real_fsync = false;  // ~270 opens: the recovery logic is under test, not the disk
  for (size_t cut = kTopicLogSegmentHeaderSize; cut <= full.size(); ++cut) {
    TempDir dir;
    spit(dir.path() + kSeg0, full.substr(0, cut));
    auto log = open_log(dir.path(), 1 << 20, &ops);
    ASSERT_NE(log, nullptr);
    const int whole = static_cast<int>(
        std::count_if(ends.begin(), ends.end(), [&](size_t e) { return e <= cut; }));
    EXPECT_EQ(log->next_offset(), static_cast<uint64_t>(whole)) << "cut at " << cut;
    expect_records(read_all(*log), 0, whole);
    // The torn bytes are gone, and the next append reuses the lost offset cleanly.
    append_n(*log, whole, 1);
    expect_records(read_all(*log), 0, whole + 1);
  }
}

TEST(TopicLogTest, ATornSegmentHeaderOfTheLastSegmentIsRewritten) {
  TempDir dir;
  spit(dir.path() + kSeg0, "NSQ");
  auto log = open_log(dir.path());
  EXPECT_EQ(log->next_offset(), 0u);
  append_n(*log, 0, 2);
  expect_records(read_all(*log), 0, 2);
}

TEST(TopicLogTest, ACrcMismatchCutsTheLogBeforeTheCorruptRecord) {
  TempDir dir;
  {
    auto log = open_log(dir.path());
    append_n(*log, 0, 4);
  }
  std::string bytes = slurp(dir.path() + kSeg0);
  // Flip the last body byte of record 2 (records are 48 + body bytes).
  size_t pos = kTopicLogSegmentHeaderSize;
  for (int i = 0; i < 3; ++i) pos += kTopicLogRecordHeaderSize + body_of(i).size();
  bytes[pos - 1] ^= 0x20;
  spit(dir.path() + kSeg0, bytes);
  auto log = open_log(dir.path());
  EXPECT_EQ(log->next_offset(), 2u);
  expect_records(read_all(*log), 0, 2);
  EXPECT_EQ(fs::file_size(dir.path() + kSeg0), pos - kTopicLogRecordHeaderSize - body_of(2).size());
}

TEST(TopicLogTest, AnOffsetOutOfSequenceIsCorruption) {
  TempDir dir;
  {
    auto log = open_log(dir.path());
    append_n(*log, 0, 2);
  }
  // A segment whose header says base 0 but whose first record says offset 0 twice: splice
  // record 0 in place of record 1 (valid CRC, wrong offset).
  std::string bytes = slurp(dir.path() + kSeg0);
  const size_t r0 = kTopicLogSegmentHeaderSize;
  const size_t len0 = kTopicLogRecordHeaderSize + body_of(0).size();
  spit(dir.path() + kSeg0, bytes.substr(0, r0 + len0) + bytes.substr(r0, len0));
  auto log = open_log(dir.path());
  EXPECT_EQ(log->next_offset(), 1u);
}

TEST(TopicLogTest, AnUnknownFormatVersionIsRefused) {
  TempDir dir;
  {
    auto log = open_log(dir.path());
    append_n(*log, 0, 1);
  }
  std::string bytes = slurp(dir.path() + kSeg0);
  bytes[5] = 9;
  spit(dir.path() + kSeg0, bytes);
  const auto opened = TopicLog::open({.dir = dir.path()});
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().find("unsupported format version 9"), std::string::npos)
      << opened.error();
}

TEST(TopicLogTest, SyncRollsSegmentsNamedByBaseOffsetAndTrimDropsWholeOnes) {
  TempDir dir;
  auto log = open_log(dir.path(), 200);
  for (int round = 0; round < 4; ++round) {
    append_n(*log, round * 5, 5);
    log->sync();
  }
  EXPECT_EQ(log->synced_offset(), 20u);
  EXPECT_TRUE(fs::exists(dir.path() + "/00000000000000000005.seg"));
  EXPECT_TRUE(fs::exists(dir.path() + "/00000000000000000015.seg"));
  EXPECT_EQ(log->segment_count(), 5u);  // the last one is fresh and empty
  expect_records(read_all(*log), 0, 20);
  expect_records(read_all(*log, 12), 12, 8);
  log->trim_below(12);  // segments [0,5) and [5,10) only
  EXPECT_EQ(log->start_offset(), 10u);
  EXPECT_FALSE(fs::exists(dir.path() + kSeg0));
  expect_records(read_all(*log), 10, 10);
  log.reset();
  auto again = open_log(dir.path(), 200);
  EXPECT_EQ(again->start_offset(), 10u);
  EXPECT_EQ(again->next_offset(), 20u);
  expect_records(read_all(*again, 3), 10, 10);
}

// -max-bytes-per-topic's measure in durable mode: the segment files' bytes (not the journals).
int64_t segment_file_bytes(const std::string& dir) {
  int64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") total += static_cast<int64_t>(e.file_size());
  }
  return total;
}

TEST(TopicLogTest, DiskBytesFollowAppendsRollsTrimsAndReopen) {
  TempDir dir;
  auto log = open_log(dir.path(), 200);
  EXPECT_EQ(log->disk_bytes(), static_cast<int64_t>(kTopicLogSegmentHeaderSize));
  for (int round = 0; round < 4; ++round) {
    append_n(*log, round * 5, 5);
    EXPECT_EQ(log->disk_bytes(), segment_file_bytes(dir.path()));  // counted before the fsync
    log->sync();
  }
  const int64_t before = log->disk_bytes();
  EXPECT_EQ(before, segment_file_bytes(dir.path()));
  spit(dir.path() + "/c.acks", std::string(100, 'j'));  // a journal: not part of the measure
  log->trim_below(12);
  EXPECT_LT(log->disk_bytes(), before);
  EXPECT_EQ(log->disk_bytes(), segment_file_bytes(dir.path()));
  log.reset();
  auto again = open_log(dir.path(), 200);
  EXPECT_EQ(again->disk_bytes(), segment_file_bytes(dir.path()));
  again->remove_all();
  EXPECT_EQ(again->disk_bytes(), 0);
}

TEST(TopicLogTest, ATornSecondToLastSegmentDropsTheSegmentsAfterIt) {
  TempDir dir;
  {
    auto log = open_log(dir.path(), 200);
    append_n(*log, 0, 5);
    log->sync();  // rolls: segment 5 exists
    append_n(*log, 5, 2);
  }
  const std::string seg0 = slurp(dir.path() + kSeg0);
  spit(dir.path() + kSeg0, seg0.substr(0, seg0.size() - 3));  // record 4 torn
  auto log = open_log(dir.path(), 200);
  EXPECT_EQ(log->next_offset(), 4u);
  EXPECT_FALSE(fs::exists(dir.path() + "/00000000000000000005.seg"));
  expect_records(read_all(*log), 0, 4);
}

TEST(TopicLogTest, CallbacksRunOnlyAfterTheSyncThatCoversThem) {
  TempDir dir;
  CountingOps ops;
  auto log = open_log(dir.path(), 1 << 20, &ops, /*preallocate_bytes=*/0);
  std::vector<std::string> results;
  const std::string body = "b";
  const LogAppend item{id_of(0), 1, 0, body};
  ASSERT_TRUE(succeeded(
      log->append(std::span(&item, 1), [&](const std::string& e) { results.push_back(e); })));
  ASSERT_TRUE(succeeded(
      log->append(std::span(&item, 1), [&](const std::string& e) { results.push_back(e); })));
  EXPECT_TRUE(results.empty());
  EXPECT_EQ(log->synced_offset(), 0u);
  ops.fsyncs = 0;
  // One fsync for both appends, plus the new log's directory and its entry in the parent.
  EXPECT_EQ(log->sync(), 3);
  EXPECT_EQ(ops.fsyncs.load(), 3);
  EXPECT_EQ(results, (std::vector<std::string>{"", ""}));
  ASSERT_TRUE(succeeded(
      log->append(std::span(&item, 1), [&](const std::string& e) { results.push_back(e); })));
  ops.fsyncs = 0;
  EXPECT_EQ(log->sync(), 1);  // from now on: the segment only
  EXPECT_EQ(ops.fsyncs.load(), 1);
  EXPECT_EQ(results, (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(log->synced_offset(), 3u);
  EXPECT_EQ(log->sync(), 0);  // nothing dirty, no fsync
}

TEST(TopicLogTest, AFailedFsyncFailsItsWaitersAndEveryLaterAppend) {
  TempDir dir;
  CountingOps ops;
  auto log = open_log(dir.path(), 1 << 20, &ops);
  std::string result = "not called";
  const std::string body = "b";
  const LogAppend item{id_of(0), 1, 0, body};
  ASSERT_TRUE(
      succeeded(log->append(std::span(&item, 1), [&](const std::string& e) { result = e; })));
  ops.fail_fsync = true;
  log->sync();
  EXPECT_NE(result.find("input/output error"), std::string::npos) << result;
  EXPECT_EQ(log->synced_offset(), 0u);
  const auto refused = log->append(std::span(&item, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("fsync failed"), std::string::npos) << refused.error();
}

// Real syscalls, except that while `full` is set a write lands 2 bytes, as a filling disk does.
class ShortWriteOps : public disk::ForwardingFileOps {
 public:
  std::atomic<bool> full{false};
  ssize_t pwritev(int fd, const iovec* iov, int n, off_t off) override {
    if (!full) return inner().pwritev(fd, iov, n, off);
    iovec two{iov[0].iov_base, 2};
    return inner().pwritev(fd, &two, 1, off);
  }
};

TEST(TopicLogTest, AShortWriteIsCutBackAndTheOffsetIsNotUsed) {
  TempDir dir;
  ShortWriteOps ops;
  auto log = open_log(dir.path(), 1 << 20, &ops);
  append_n(*log, 0, 2);
  const auto size = fs::file_size(dir.path() + kSeg0);
  ops.full = true;
  const std::string body = "lost";
  const LogAppend item{id_of(9), 1, 0, body};
  bool called = false;
  const auto refused = log->append(std::span(&item, 1), [&](const std::string&) { called = true; });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), "short write");
  EXPECT_FALSE(called);  // a refused append never answers later
  EXPECT_EQ(fs::file_size(dir.path() + kSeg0), size);
  ops.full = false;
  append_n(*log, 2, 1);  // offset 2 again: nothing was taken
  expect_records(read_all(*log), 0, 3);
}

TEST(TopicLogTest, RemoveAllFailsWaitersRefusesAppendsAndDeletesTheFiles) {
  TempDir dir;
  const std::string path = dir.path() + "/t.log";
  auto log = open_log(path, 200);
  append_n(*log, 0, 5);
  log->sync();  // two segments
  std::string result = "not called";
  const std::string body = "b";
  const LogAppend item{id_of(5), 1, 0, body};
  ASSERT_TRUE(
      succeeded(log->append(std::span(&item, 1), [&](const std::string& e) { result = e; })));
  log->remove_all();
  EXPECT_EQ(result, "exiting");
  const auto refused = log->append(std::span(&item, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), "exiting");
  EXPECT_FALSE(fs::exists(path));
}

TEST(GroupCommitterTest, PublishesDuringAnFsyncShareTheNextOne) {
  TempDir dir;
  CountingOps ops;
  auto log = open_log(dir.path(), 1 << 30, &ops);
  ops.fsyncs = 0;
  ops.real_fsync = false;
  ops.fsync_delay_ms = 5;  // a disk's flush latency, without depending on this disk's
  GroupCommitter committer;
  constexpr int kThreads = 16;
  constexpr int kPerThread = 40;
  std::atomic<int> acked{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      const std::string body(100, 'p');
      for (int i = 0; i < kPerThread; ++i) {
        std::atomic<bool> done{false};
        const LogAppend item{id_of(i), 1, 0, body};
        ASSERT_TRUE(succeeded(log->append(std::span(&item, 1), [&](const std::string& e) {
          (e.empty() ? acked : failed)++;
          done = true;
          done.notify_one();
        })));
        committer.request(log);
        done.wait(false);  // an unbatched publisher: waits for its OK before the next PUB
      }
    });
  }
  for (auto& t : threads) t.join();
  committer.stop();
  EXPECT_EQ(acked.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(log->synced_offset(), static_cast<uint64_t>(kThreads * kPerThread));
  // One fsync per message would be 640; 16 waiting publishers share each cycle's fsync.
  EXPECT_LE(ops.fsyncs.load(), kThreads * kPerThread / 4);
  std::printf("group commit: %d fsyncs for %d acknowledged appends\n", ops.fsyncs.load(),
              acked.load());
  EXPECT_EQ(committer.fsync_count(), static_cast<uint64_t>(ops.fsyncs.load()));
}

}  // namespace
}  // namespace nsq::nsqd

namespace nsq::nsqd {
namespace {

// 256 KiB segments keep up to 32 KiB of zeros ahead of the end (segment_bytes / 8).
constexpr int64_t kPreallocSegment = 256 << 10;

TEST(TopicLogTest, ASyncPreallocatesZerosThatRecoveryCutsOff) {
  TempDir dir;
  CountingOps ops;
  {
    auto log = open_log(dir.path(), kPreallocSegment, &ops);
    append_n(*log, 0, 3);
    ops.fsyncs = 0;
    // The segment and the two directories; then, after the callbacks, the zeros.
    EXPECT_EQ(log->sync(), 4);
    EXPECT_EQ(ops.fsyncs.load(), 4);
    const auto physical = fs::file_size(dir.path() + kSeg0);
    EXPECT_GT(physical, static_cast<uintmax_t>(log->disk_bytes()));  // the limit's measure
    EXPECT_EQ(physical % 4096, 0u);
    // The next small commits land in the zeros: one fdatasync each, nothing to add.
    append_n(*log, 3, 1);
    EXPECT_EQ(log->sync(), 1);
    EXPECT_EQ(fs::file_size(dir.path() + kSeg0), physical);
    expect_records(read_all(*log), 0, 4);
  }  // nothing is cut at close: the files are what a kill -9 leaves
  auto log = open_log(dir.path(), kPreallocSegment);
  EXPECT_EQ(log->next_offset(), 4u);
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(dir.path() + kSeg0)), log->disk_bytes());
  append_n(*log, 4, 2);
  expect_records(read_all(*log), 0, 6);
}

TEST(TopicLogTest, AFinishedSegmentHasNoZerosLeft) {
  // A zero tail on a segment that is not the last would read as a torn record: recovery would
  // cut it there and drop every later segment, acknowledged records included.
  TempDir dir;
  const std::string body(20'000, 'z');
  int n = 0;
  {
    auto log = open_log(dir.path(), kPreallocSegment);
    while (log->segment_count() < 3) {
      const LogAppend item{id_of(n), n, 0, body};
      ASSERT_TRUE(succeeded(log->append(std::span(&item, 1))));
      ++n;
      log->sync();
    }
  }
  const auto record = static_cast<uintmax_t>(kTopicLogRecordHeaderSize + body.size());
  std::vector<fs::path> segs;
  for (const auto& e : fs::directory_iterator(dir.path())) segs.push_back(e.path());
  std::sort(segs.begin(), segs.end());
  ASSERT_EQ(segs.size(), 3u);
  for (size_t i = 0; i + 1 < segs.size(); ++i) {
    EXPECT_EQ((fs::file_size(segs[i]) - kTopicLogSegmentHeaderSize) % record, 0u) << segs[i];
  }
  auto log = open_log(dir.path(), kPreallocSegment);
  EXPECT_EQ(log->next_offset(), static_cast<uint64_t>(n));
  std::vector<LogRecord> recs;
  ASSERT_TRUE(succeeded(log->read(0, 1000, recs)));
  ASSERT_EQ(recs.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(recs[i].offset, static_cast<uint64_t>(i));
}

TEST(TopicLogTest, AFailedPreallocationSyncFailsTheLogAsAFailedCommitDoes) {
  // The zeros' fdatasync also flushes what was appended after the commit: if it fails, those
  // pages may be gone, and a later fsync of the same file could report them durable.
  TempDir dir;
  CountingOps ops;
  auto log = open_log(dir.path(), kPreallocSegment, &ops);
  append_n(*log, 0, 2);
  std::string answer = "none";
  const std::string body = "b";
  ops.fsyncs = 0;
  ops.fail_after = 3;  // the commit's three fsyncs succeed, the preallocation's fails
  const LogAppend item{id_of(2), 1, 0, body};
  ASSERT_TRUE(
      succeeded(log->append(std::span(&item, 1), [&](const std::string& e) { answer = e; })));
  EXPECT_EQ(log->sync(), 4);
  EXPECT_EQ(answer, "");  // its commit had succeeded
  const auto refused = log->append(std::span(&item, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), "fsync failed: input/output error");
}

}  // namespace
}  // namespace nsq::nsqd
