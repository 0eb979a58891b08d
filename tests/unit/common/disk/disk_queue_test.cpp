// DiskQueue: round trip, rolling, metadata, restart, corruption handling, ENOSPC, and files
// laid out by hand exactly as go-diskqueue v1.1.0 writes them (diskqueue.go).
#include "common/disk/disk_queue.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/disk/forwarding_file_ops.hpp"
#include "support/file_bytes.hpp"
#include "support/result_assertions.hpp"

namespace nsq::disk {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/dq_test_XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

using test_support::slurp;
using test_support::spit;
using test_support::succeeded;

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

std::string record(const std::string& payload) {
  return be32(static_cast<uint32_t>(payload.size())) + payload;
}

// A payload of at least min_msg_size (26) bytes whose text identifies it.
std::string payload(int i, size_t size = 40) {
  std::string s = "message-" + std::to_string(i) + "-";
  s.resize(size, 'x');
  return s;
}

DiskQueueOptions small_options() {
  DiskQueueOptions o;
  o.max_bytes_per_file = 1024;
  o.min_msg_size = 26;
  o.max_msg_size = 4096;
  o.sync_every = 1000000;  // syncs only where the test asks (or on roll/close)
  o.read_buffer_size = 4096;
  return o;
}

std::unique_ptr<DiskQueue> open_queue(const TempDir& dir, const std::string& name = "t",
                                      DiskQueueOptions o = small_options()) {
  auto q = DiskQueue::open(name, dir.path(), o);
  EXPECT_TRUE(succeeded(q));
  return q ? std::move(*q) : nullptr;
}

std::vector<std::string> read_all(DiskQueue& q) {
  std::vector<std::string> out;
  std::string msg;
  while (q.read_next(msg) == ReadResult::kOk) out.push_back(msg);
  return out;
}

TEST(DiskQueueTest, RoundTripKeepsOrderAndDepth) {
  TempDir dir;
  auto q = open_queue(dir);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
  EXPECT_EQ(q->depth(), 10);
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i], payload(i));
  EXPECT_EQ(q->depth(), 0);
}

TEST(DiskQueueTest, FileNamesAndRecordLayoutMatchGoDiskqueue) {
  TempDir dir;
  auto q = open_queue(dir, "orders:archive");
  ASSERT_TRUE(succeeded(q->put(payload(1))));
  ASSERT_TRUE(succeeded(q->put(payload(2, 30))));
  ASSERT_TRUE(succeeded(q->sync()));
  const std::string data = slurp(dir.path() + "/orders:archive.diskqueue.000000.dat");
  EXPECT_EQ(data, record(payload(1)) + record(payload(2, 30)));
  EXPECT_EQ(slurp(dir.path() + "/orders:archive.diskqueue.meta.dat"), "2\n0,0\n0,78\n");
  EXPECT_EQ(fs::status(dir.path() + "/orders:archive.diskqueue.000000.dat").permissions() &
                fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST(DiskQueueTest, RollsAtMaxBytesPerFileAndDeletesReadFiles) {
  TempDir dir;
  auto q = open_queue(dir);
  // 44 bytes per record: 23 fit in 1024 (1012), the 24th rolls.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
  auto pos = q->positions();
  EXPECT_EQ(pos.write_file_num, 2);
  EXPECT_EQ(fs::file_size(dir.path() + "/t.diskqueue.000000.dat"), 23u * 44);
  EXPECT_EQ(fs::file_size(dir.path() + "/t.diskqueue.000001.dat"), 23u * 44);
  // The roll synced: metadata names the new file.
  EXPECT_EQ(slurp(dir.path() + "/t.diskqueue.meta.dat"), "46\n0,0\n2,0\n");
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 50u);
  EXPECT_EQ(got[49], payload(49));
  ASSERT_TRUE(succeeded(q->sync()));
  EXPECT_FALSE(fs::exists(dir.path() + "/t.diskqueue.000000.dat"));
  EXPECT_FALSE(fs::exists(dir.path() + "/t.diskqueue.000001.dat"));
}

TEST(DiskQueueTest, RecordLargerThanAFileGoesWholeIntoAFreshFile) {
  TempDir dir;
  auto q = open_queue(dir);
  ASSERT_TRUE(succeeded(q->put(payload(1))));
  ASSERT_TRUE(succeeded(q->put(payload(2, 2000))));
  EXPECT_EQ(q->positions().write_file_num, 1);
  EXPECT_EQ(fs::file_size(dir.path() + "/t.diskqueue.000001.dat"), 2004u);
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].size(), 2000u);
}

TEST(DiskQueueTest, RejectsSizesOutsideTheLimitsWithoutWriting) {
  TempDir dir;
  auto q = open_queue(dir);
  const auto failed = q->put("short");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().find("invalid message write size (5)"), std::string::npos)
      << failed.error();
  EXPECT_FALSE(q->put(std::string(5000, 'x')));
  EXPECT_EQ(q->depth(), 0);
}

TEST(DiskQueueTest, RestartResumesWhereTheReaderWas) {
  TempDir dir;
  {
    auto q = open_queue(dir);
    for (int i = 0; i < 40; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
    std::string msg;
    for (int i = 0; i < 15; ++i) ASSERT_EQ(q->read_next(msg), ReadResult::kOk);
    ASSERT_TRUE(succeeded(q->close()));
  }
  auto q = open_queue(dir);
  EXPECT_EQ(q->depth(), 25);
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 25u);
  EXPECT_EQ(got.front(), payload(15));
  EXPECT_EQ(got.back(), payload(39));
}

TEST(DiskQueueTest, UnsyncedTailIsSalvagedAndWritingMovesToANewFile) {
  TempDir dir;
  {
    auto q = open_queue(dir);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
    ASSERT_TRUE(succeeded(q->sync()));
    for (int i = 5; i < 8; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
    // Simulate kill -9: the metadata says 5 records, the file holds 8. Abandon the queue so its
    // destructor does not sync. A never-destroyed static list keeps it reachable when
    // LeakSanitizer looks at exit (after static destructors have run).
    static auto* abandoned = new std::vector<DiskQueue*>;
    abandoned->push_back(q.release());
  }
  auto q = open_queue(dir);
  EXPECT_EQ(q->positions().write_file_num, 1);
  EXPECT_EQ(q->depth(), 8);  // recounted from the file, not the metadata's stale 5
  ASSERT_TRUE(succeeded(q->put(payload(100))));
  auto got = read_all(*q);
  // All 8 old records come back (the tail salvaged) and the new one after them.
  ASSERT_EQ(got.size(), 9u);
  EXPECT_EQ(got[7], payload(7));
  EXPECT_EQ(got[8], payload(100));
}

// Leaks the queue on purpose so nothing syncs, as a kill -9 would (see the test above).
void abandon(std::unique_ptr<DiskQueue> q) {
  static auto* abandoned = new std::vector<DiskQueue*>;
  abandoned->push_back(q.release());
}

TEST(DiskQueueTest, StaleDepthIsRecountedAcrossFilesWithoutTheTornRecord) {
  TempDir dir;
  {
    auto q = open_queue(dir);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
    ASSERT_TRUE(succeeded(q->sync()));
    std::string msg;
    for (int i = 0; i < 4; ++i) ASSERT_EQ(q->read_next(msg), ReadResult::kOk);
    for (int i = 10; i < 13; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
    abandon(std::move(q));
  }
  // The crash also tore the record being written.
  std::ofstream(dir.path() + "/t.diskqueue.000000.dat", std::ios::app | std::ios::binary)
      << be32(40) << "half";
  auto q = open_queue(dir);
  // The metadata says depth 10 from 0,0; the file holds 13 whole records from 0,0 (the 4 read
  // after the last sync are delivered again) and the torn one is not counted.
  EXPECT_EQ(q->depth(), 13);
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 13u);
  EXPECT_EQ(got.back(), payload(12));
  EXPECT_EQ(q->depth(), 0);
}

TEST(DiskQueueTest, MissingMetadataDepthIsCountedFromEveryFile) {
  TempDir dir;
  {
    auto q = open_queue(dir);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));  // files 0, 1, 2
    abandon(std::move(q));
  }
  fs::remove(dir.path() + "/t.diskqueue.meta.dat");  // a crash before any metadata landed
  auto q = open_queue(dir);
  EXPECT_EQ(q->depth(), 50);
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 50u);
  EXPECT_EQ(q->depth(), 0);
}

TEST(DiskQueueTest, HeldReadsStayInTheMetadataUntilAcknowledged) {
  TempDir dir;
  auto o = small_options();
  o.hold_until_ack = true;
  std::vector<uint64_t> seqs;
  {
    auto q = open_queue(dir, "t", o);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(q->consume([&](std::string_view) { seqs.push_back(q->reading_seq()); }),
                ReadResult::kOk);
    }
    EXPECT_EQ(q->depth(), 2);  // /stats counts what is still on disk to read
    EXPECT_EQ(q->held(), 3u);
    ASSERT_TRUE(succeeded(q->sync()));
    EXPECT_EQ(slurp(dir.path() + "/t.diskqueue.meta.dat"), "5\n0,0\n0,220\n");
    q->ack(seqs[1]);  // out of order: record 0 still holds the position
    ASSERT_TRUE(succeeded(q->sync()));
    EXPECT_EQ(slurp(dir.path() + "/t.diskqueue.meta.dat"), "5\n0,0\n0,220\n");
    q->ack(seqs[0]);
    ASSERT_TRUE(succeeded(q->sync()));
    EXPECT_EQ(slurp(dir.path() + "/t.diskqueue.meta.dat"), "3\n0,88\n0,220\n");
    EXPECT_EQ(q->held(), 1u);
    abandon(std::move(q));  // crash with record 2 read but not acknowledged
  }
  auto q = open_queue(dir, "t", o);
  EXPECT_EQ(q->depth(), 3);
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], payload(2));
  q->release_all();
  ASSERT_TRUE(succeeded(q->close()));
  EXPECT_EQ(slurp(dir.path() + "/t.diskqueue.meta.dat"), "0\n0,220\n0,220\n");
}

TEST(DiskQueueTest, AKeptReadPositionSurvivesReadsSyncsAndClose) {
  TempDir dir;
  {
    auto q = open_queue(dir, "t");
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));  // several files
    ASSERT_TRUE(succeeded(q->close()));
  }
  const std::string meta = slurp(dir.path() + "/t.diskqueue.meta.dat");
  auto o = small_options();
  o.keep_read_position = true;
  {
    auto q = open_queue(dir, "t", o);
    ASSERT_EQ(read_all(*q).size(), 30u);  // moves through every file
    EXPECT_EQ(q->depth(), 0);
    ASSERT_TRUE(succeeded(q->sync()));
    EXPECT_EQ(slurp(dir.path() + "/t.diskqueue.meta.dat"), meta);
    ASSERT_TRUE(succeeded(q->close()));
  }
  EXPECT_EQ(slurp(dir.path() + "/t.diskqueue.meta.dat"), meta);
  auto q = open_queue(dir, "t");
  EXPECT_EQ(q->depth(), 30);
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 30u);
  EXPECT_EQ(got[0], payload(0));
  EXPECT_EQ(got[29], payload(29));
}

TEST(DiskQueueTest, CorruptLengthRenamesFileBadAndReadingGoesOn) {
  TempDir dir;
  {
    auto q = open_queue(dir);
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));  // files 0 and 1
    ASSERT_TRUE(succeeded(q->close()));
  }
  // Corrupt the 3rd record's length in file 0.
  const std::string f0 = dir.path() + "/t.diskqueue.000000.dat";
  std::string data = slurp(f0);
  data.replace(2 * 44, 4, be32(0x7fffffff));
  spit(f0, data);
  auto q = open_queue(dir);
  auto got = read_all(*q);
  // Records 0 and 1, then everything of file 1 (records 23..29).
  ASSERT_EQ(got.size(), 2u + 7u);
  EXPECT_EQ(got[1], payload(1));
  EXPECT_EQ(got[2], payload(23));
  EXPECT_TRUE(fs::exists(f0 + ".bad"));
  EXPECT_FALSE(fs::exists(f0));
  EXPECT_EQ(q->depth(), 0);
}

TEST(DiskQueueTest, TruncatedCompletedFileIsSetAsideAtItsEnd) {
  TempDir dir;
  {
    auto q = open_queue(dir);
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
    ASSERT_TRUE(succeeded(q->close()));
  }
  // Cut file 0 in the middle of record 10.
  const std::string f0 = dir.path() + "/t.diskqueue.000000.dat";
  fs::resize_file(f0, 10 * 44 + 20);
  auto q = open_queue(dir);
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 10u + 7u);
  EXPECT_EQ(got[9], payload(9));
  EXPECT_EQ(got[10], payload(23));
  EXPECT_TRUE(fs::exists(f0 + ".bad"));
}

TEST(DiskQueueTest, TruncatedWriteFileIsSetAsideAndNewWritesFlow) {
  TempDir dir;
  {
    auto q = open_queue(dir);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
    ASSERT_TRUE(succeeded(q->close()));
  }
  const std::string f0 = dir.path() + "/t.diskqueue.000000.dat";
  fs::resize_file(f0, 2 * 44 + 10);  // metadata still says 5 records, 220 bytes
  auto q = open_queue(dir);
  ASSERT_TRUE(succeeded(q->put(payload(50))));
  auto got = read_all(*q);
  ASSERT_GE(got.size(), 3u);
  EXPECT_EQ(got[0], payload(0));
  EXPECT_EQ(got[1], payload(1));
  EXPECT_EQ(got.back(), payload(50));
}

TEST(DiskQueueTest, ReadsADataDirectoryWrittenByGoDiskqueue) {
  TempDir dir;
  // What go-diskqueue leaves after writing 3 records to file 0 (reader at record 1), rolling,
  // and writing 2 records to file 1: depth 4, read 0,<pos of record 1>, write 1,<end>.
  const std::string r0 = record(payload(0));
  const std::string r1 = record(payload(1, 100));
  const std::string r2 = record(payload(2, 27));
  const std::string r3 = record(payload(3));
  const std::string r4 = record(payload(4, 26));
  spit(dir.path() + "/orders.diskqueue.000000.dat", r0 + r1 + r2);
  spit(dir.path() + "/orders.diskqueue.000001.dat", r3 + r4);
  spit(dir.path() + "/orders.diskqueue.meta.dat",
       "4\n0," + std::to_string(r0.size()) + "\n1," + std::to_string(r3.size() + r4.size()) + "\n");
  auto q = open_queue(dir, "orders");
  EXPECT_EQ(q->depth(), 4);
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], payload(1, 100));
  EXPECT_EQ(got[1], payload(2, 27));
  EXPECT_EQ(got[2], payload(3));
  EXPECT_EQ(got[3], payload(4, 26));
  // Appending continues in file 1 after the existing records.
  ASSERT_TRUE(succeeded(q->put(payload(5))));
  EXPECT_EQ(q->positions().write_file_num, 1);
  std::string msg;
  EXPECT_EQ(q->read_next(msg), ReadResult::kOk);
  EXPECT_EQ(msg, payload(5));
}

TEST(DiskQueueTest, EmptyDropsEverythingAndContinuesAtTheNextFileNumber) {
  TempDir dir;
  auto q = open_queue(dir);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
  ASSERT_TRUE(succeeded(q->empty()));
  EXPECT_EQ(q->depth(), 0);
  EXPECT_FALSE(fs::exists(dir.path() + "/t.diskqueue.000000.dat"));
  ASSERT_TRUE(succeeded(q->put(payload(99))));
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], payload(99));
}

TEST(DiskQueueTest, DeleteAllRemovesEveryFile) {
  TempDir dir;
  auto q = open_queue(dir);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
  ASSERT_TRUE(succeeded(q->sync()));
  ASSERT_TRUE(succeeded(q->delete_all()));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(DiskQueueTest, SyncEveryIsSignalledOnce) {
  TempDir dir;
  auto o = small_options();
  o.sync_every = 3;
  auto q = open_queue(dir, "t", o);
  ASSERT_TRUE(succeeded(q->put(payload(1))));
  ASSERT_TRUE(succeeded(q->put(payload(2))));
  EXPECT_TRUE(q->dirty());
  EXPECT_FALSE(q->try_schedule_sync());
  ASSERT_TRUE(succeeded(q->put(payload(3))));
  EXPECT_TRUE(q->try_schedule_sync());
  EXPECT_FALSE(q->try_schedule_sync());  // already requested
  ASSERT_TRUE(succeeded(q->sync()));
  EXPECT_FALSE(q->dirty());
  EXPECT_EQ(slurp(dir.path() + "/t.diskqueue.meta.dat"), "3\n0,0\n0,132\n");
}

// Real syscalls, except that pwritev fails with ENOSPC while `full` is set.
class FullDiskOps : public disk::ForwardingFileOps {
 public:
  std::atomic<bool> full{false};
  ssize_t pwritev(int fd, const iovec* iov, int n, off_t off) override {
    if (full) {
      // A short write first, as a filling disk does, then nothing.
      if (iov[0].iov_len > 2 && !partial_done_) {
        partial_done_ = true;
        iovec half{iov[0].iov_base, 2};
        return inner().pwritev(fd, &half, 1, off);
      }
      return -ENOSPC;
    }
    return inner().pwritev(fd, iov, n, off);
  }

 private:
  bool partial_done_ = false;
};

TEST(DiskQueueTest, NoSpaceFailsThePutWholeAndTheQueueRecovers) {
  TempDir dir;
  FullDiskOps ops;
  auto o = small_options();
  o.file_ops = &ops;
  auto q = open_queue(dir, "t", o);
  ASSERT_TRUE(succeeded(q->put(payload(0))));
  ops.full = true;
  std::vector<std::string> batch = {payload(1), payload(2), payload(3)};
  std::vector<std::string_view> views(batch.begin(), batch.end());
  const auto failed = q->put_batch(views);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().find("no space left on device"), std::string::npos) << failed.error();
  EXPECT_EQ(q->depth(), 1);
  EXPECT_EQ(fs::file_size(dir.path() + "/t.diskqueue.000000.dat"), 44u);  // cut back
  ops.full = false;
  ASSERT_TRUE(succeeded(q->put(payload(4))));
  auto got = read_all(*q);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], payload(0));
  EXPECT_EQ(got[1], payload(4));
}

// -max-bytes-per-topic's measure: the bytes of the queue's data files, as on disk.
int64_t data_file_bytes(const TempDir& dir, const std::string& name) {
  int64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    const std::string f = e.path().filename().string();
    if (f.rfind(name + ".diskqueue.", 0) == 0 && f.ends_with(".dat") &&
        f.find(".meta.") == std::string::npos) {
      total += static_cast<int64_t>(e.file_size());
    }
  }
  return total;
}

TEST(DiskQueueTest, DiskBytesFollowWritesRollsDeletionsAndReopen) {
  TempDir dir;
  {
    auto q = open_queue(dir);
    EXPECT_EQ(q->disk_bytes(), 0);
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));  // 3 files
    EXPECT_EQ(q->disk_bytes(), 60 * 44);
    EXPECT_EQ(q->disk_bytes(), data_file_bytes(dir, "t"));
    std::string msg;
    for (int i = 0; i < 30; ++i) ASSERT_EQ(q->read_next(msg), ReadResult::kOk);
    ASSERT_TRUE(succeeded(q->sync()));  // the fully read first file goes now
    EXPECT_LT(q->disk_bytes(), 60 * 44);
    EXPECT_EQ(q->disk_bytes(), data_file_bytes(dir, "t"));
    ASSERT_TRUE(succeeded(q->close()));
  }
  auto q = open_queue(dir);
  EXPECT_EQ(q->disk_bytes(), data_file_bytes(dir, "t"));  // counted from the files at open
  ASSERT_TRUE(succeeded(q->empty()));
  EXPECT_EQ(q->disk_bytes(), 0);
  EXPECT_EQ(data_file_bytes(dir, "t"), 0);
}

TEST(DiskQueueTest, AFailedWriteLeavesTheByteCountAsItWas) {
  TempDir dir;
  struct NoSpace : ForwardingFileOps {
    bool full = false;
    ssize_t pwritev(int fd, const iovec* iov, int cnt, off_t off) override {
      return full ? -ENOSPC : inner().pwritev(fd, iov, cnt, off);
    }
  } nospace;
  DiskQueueOptions o = small_options();
  o.file_ops = &nospace;
  auto q = open_queue(dir, "t", o);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
  nospace.full = true;
  std::vector<std::string> batch;
  for (int i = 0; i < 40; ++i) batch.push_back(payload(i));  // would roll into a new file
  std::vector<std::string_view> views(batch.begin(), batch.end());
  EXPECT_FALSE(q->put_batch(views));
  EXPECT_EQ(q->disk_bytes(), 5 * 44);
  EXPECT_EQ(q->disk_bytes(), data_file_bytes(dir, "t"));
}

TEST(DiskQueueTest, RollWhenDrainedGivesTheLastFileBack) {
  TempDir dir;
  DiskQueueOptions o = small_options();
  o.roll_when_drained = true;
  auto q = open_queue(dir, "t", o);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
  EXPECT_EQ(read_all(*q).size(), 5u);
  ASSERT_TRUE(succeeded(q->sync()));
  EXPECT_EQ(q->disk_bytes(), 0);  // without the option the write file (220 bytes) stays
  EXPECT_FALSE(fs::exists(dir.path() + "/t.diskqueue.000000.dat"));
  ASSERT_TRUE(succeeded(q->put(payload(5))));
  EXPECT_TRUE(fs::exists(dir.path() + "/t.diskqueue.000001.dat"));
  EXPECT_EQ(read_all(*q), std::vector<std::string>{payload(5)});
  ASSERT_TRUE(succeeded(q->close()));
  auto again = open_queue(dir, "t", o);  // the metadata agrees: nothing to read, no salvage
  EXPECT_EQ(again->depth(), 0);
  EXPECT_TRUE(read_all(*again).empty());
}

}  // namespace
}  // namespace nsq::disk
