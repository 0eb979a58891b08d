// DiskQueue under injected faults at every file call (open, pwritev and short writes, pread,
// fsync, ftruncate, fstat, stat, rename, unlink, close) with EIO, ENOSPC and EINTR: a failed
// put says why and adds nothing, nothing acknowledged is lost or corrupted, nothing
// unacknowledged appears, and the queue works again once the fault clears.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/disk/disk_queue.hpp"
#include "support/fault_file_ops.hpp"
#include "support/result_assertions.hpp"
#include "support/temp_dir.hpp"

namespace nsq::disk {
namespace {

namespace fs = std::filesystem;
using test_support::FaultFileOps;
using test_support::FileOp;
using test_support::succeeded;
using test_support::TempDir;

std::string payload(int i) {
  std::string s = "message-" + std::to_string(i) + "-";
  s.resize(40 + static_cast<size_t>(i % 17), static_cast<char>('a' + i % 26));
  return s;
}

DiskQueueOptions options(FaultFileOps& ops) {
  DiskQueueOptions o;
  o.max_bytes_per_file = 512;  // a roll every few records: rolls run under the faults too
  o.min_msg_size = 26;
  o.max_msg_size = 4096;
  o.sync_every = 1000000;
  o.read_buffer_size = 4096;
  o.file_ops = &ops;
  return o;
}

std::unique_ptr<DiskQueue> open_queue(const TempDir& dir, FaultFileOps& ops) {
  auto q = DiskQueue::open("t", dir.path(), options(ops));
  EXPECT_TRUE(succeeded(q));
  return q ? std::move(*q) : nullptr;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool has_file_ending(const std::string& dir, const std::string& suffix) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.size() >= suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// One sweep per (call, errno): publish, consume and sync through a window in which every call
// of that kind fails, then clear the fault, close, reopen and drain.

class DiskQueueFaultSweep : public ::testing::TestWithParam<std::tuple<FileOp, int>> {};

TEST_P(DiskQueueFaultSweep, NothingAcknowledgedIsLostAndServiceReturns) {
  const auto [op, err] = GetParam();
  TempDir dir;
  FaultFileOps ops;
  std::set<std::string> acked;
  std::set<std::string> refused;
  std::vector<std::string> read;
  bool close_failed = false;
  {
    auto q = open_queue(dir, ops);
    for (int i = 0; i < 150; ++i) {
      if (i == 40) {
        ops.arm(op, err);
        // ftruncate runs only to undo a failed write: fail a few writes so it runs.
        if (op == FileOp::kTruncate) ops.arm(FileOp::kWrite, err, 3);
      }
      if (i == 100) ops.disarm_all();
      if (i == 70) {  // a restart in the middle of the fault
        close_failed = !q->close();
        q = open_queue(dir, ops);
      }
      const std::string p = payload(i);
      if (i % 5 == 4) {  // a batch of two, all-or-nothing
        const std::string p2 = payload(i + 1000);
        std::string_view views[] = {p, p2};
        if (const auto put = q->put_batch(views); put) {
          acked.insert(p);
          acked.insert(p2);
        } else {
          EXPECT_FALSE(put.error().empty());
          refused.insert(p);
          refused.insert(p2);
        }
      } else if (const auto put = q->put(p); put) {
        acked.insert(p);
      } else {
        // The reason names the call and the errno, as the publisher will see it.
        EXPECT_NE(put.error().find(errno_text(err)), std::string::npos) << put.error();
        refused.insert(p);
      }
      if (i % 3 == 0) {
        std::string msg;
        auto r = q->read_next(msg);
        if (r == ReadResult::kOk) read.push_back(msg);
        if (r == ReadResult::kIoError) {
          EXPECT_NE(q->read_error().find(errno_text(err)), std::string::npos);
        }
        EXPECT_NE(r, ReadResult::kClosed);
      }
      if (i % 11 == 0) {
        if (const auto synced = q->sync(); !synced) {
          EXPECT_NE(synced.error().find(errno_text(err)), std::string::npos);
        }
      }
      EXPECT_GE(q->depth(), 0);
    }
    // Service is back: a put and a sync succeed.
    ASSERT_TRUE(succeeded(q->put(payload(9999))));
    acked.insert(payload(9999));
    ASSERT_TRUE(succeeded(q->sync()));
    ASSERT_TRUE(succeeded(q->close()));
  }
  EXPECT_GT(ops.failures(op), 0) << "the fault never fired";
  auto q = open_queue(dir, ops);
  std::string msg;
  for (ReadResult r; (r = q->read_next(msg)) != ReadResult::kEmpty;) {
    ASSERT_EQ(r, ReadResult::kOk);
    read.push_back(msg);
  }
  EXPECT_EQ(q->depth(), 0);
  std::set<std::string> got(read.begin(), read.end());
  // Only a restart whose final metadata write failed may hand out a record again.
  if (!close_failed) {
    EXPECT_EQ(got.size(), read.size()) << "a record was delivered twice";
  }
  for (const auto& p : acked) EXPECT_TRUE(got.count(p)) << "lost acknowledged " << p;
  for (const auto& p : got) EXPECT_TRUE(acked.count(p)) << "unacknowledged or corrupt " << p;
  EXPECT_FALSE(has_file_ending(dir.path(), ".bad")) << "a passing fault set a file aside";
}

INSTANTIATE_TEST_SUITE_P(EveryCall, DiskQueueFaultSweep,
                         ::testing::Combine(::testing::ValuesIn(test_support::kAllFileOps),
                                            ::testing::Values(EIO, ENOSPC, EINTR)),
                         [](const auto& param_info) {
                           const int err = std::get<1>(param_info.param);
                           return std::string(
                                      test_support::file_op_name(std::get<0>(param_info.param))) +
                                  "_" +
                                  (err == EIO      ? "EIO"
                                   : err == ENOSPC ? "ENOSPC"
                                                   : "EINTR");
                         });

// ---------------------------------------------------------------------------------------------
// The visible details, call by call.

TEST(DiskQueueFaultTest, OpenFailureOfTheWriteFileRefusesThePutWithTheReason) {
  TempDir dir;
  FaultFileOps ops;
  auto q = open_queue(dir, ops);
  ops.arm(FileOp::kOpen, EMFILE, 1);
  const auto failed = q->put(payload(1));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), "open " + q->data_file_name(0) + ": too many open files");
  EXPECT_EQ(q->depth(), 0);
  ASSERT_TRUE(succeeded(q->put(payload(2))));
  std::string msg;
  ASSERT_EQ(q->read_next(msg), ReadResult::kOk);
  EXPECT_EQ(msg, payload(2));
}

TEST(DiskQueueFaultTest, ShortWritesOfOneByteStillWriteWholeRecords) {
  TempDir dir;
  FaultFileOps ops;
  ops.short_writes(1);
  {
    auto q = open_queue(dir, ops);
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
    ASSERT_TRUE(succeeded(q->close()));
  }
  auto q = open_queue(dir, ops);
  EXPECT_EQ(q->depth(), 30);
  std::string msg;
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(q->read_next(msg), ReadResult::kOk);
    EXPECT_EQ(msg, payload(i));
  }
}

TEST(DiskQueueFaultTest, WriteFailingAfterAShortWriteIsCutBackEvenIfTruncateFails) {
  TempDir dir;
  FaultFileOps ops;
  auto q = open_queue(dir, ops);
  ASSERT_TRUE(succeeded(q->put(payload(0))));
  const auto size0 = fs::file_size(q->data_file_name(0));
  // The batch gets 3 bytes in, then EIO; the truncation that would remove them fails too.
  ops.short_writes(3);
  ops.arm(FileOp::kWrite, EIO, 1);
  ops.arm(FileOp::kTruncate, EIO, 1);
  std::string_view batch[] = {"dropped-record-one-xxxxxxxxxxxxxxxxxxx",
                              "dropped-two-xxxxxxxxxxxxxxxxxxxxxxxxxxx"};
  // The first pwritev fails outright (armed), nothing is acknowledged.
  const auto failed = q->put_batch(batch);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), "write " + q->data_file_name(0) + ": input/output error");
  EXPECT_EQ(q->depth(), 1);
  ops.disarm_all();
  ASSERT_TRUE(succeeded(q->put(payload(1))));
  // The next record starts where the last acknowledged one ended, over any leftover bytes.
  EXPECT_EQ(q->positions().write_pos, static_cast<int64_t>(size0 + 4 + payload(1).size()));
  std::string msg;
  ASSERT_EQ(q->read_next(msg), ReadResult::kOk);
  EXPECT_EQ(msg, payload(0));
  ASSERT_EQ(q->read_next(msg), ReadResult::kOk);
  EXPECT_EQ(msg, payload(1));
  EXPECT_EQ(q->read_next(msg), ReadResult::kEmpty);
}

TEST(DiskQueueFaultTest, BatchFailingInTheFileItRolledIntoIsUndoneWhole) {
  TempDir dir;
  FaultFileOps ops;
  auto q = open_queue(dir, ops);
  ASSERT_TRUE(succeeded(q->put(payload(0))));
  // 20 records span two files; writing the second one fails.
  std::vector<std::string> batch;
  for (int i = 1; i <= 20; ++i) batch.push_back(payload(i));
  std::vector<std::string_view> views(batch.begin(), batch.end());
  ops.arm(FileOp::kWrite, ENOSPC, 1, ".000001.dat");
  const auto failed = q->put_batch(views);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), "write " + q->data_file_name(1) + ": no space left on device");
  EXPECT_EQ(q->depth(), 1);
  EXPECT_EQ(q->positions().write_file_num, 0);
  EXPECT_FALSE(fs::exists(q->data_file_name(1)));
  // The metadata written by the roll was put back too: a restart finds file 0 only.
  EXPECT_NE(slurp(q->metadata_file_name()).find("\n0,0\n0,"), std::string::npos);
  ASSERT_TRUE(succeeded(q->put_batch(views)));
  EXPECT_EQ(q->depth(), 21);
}

TEST(DiskQueueFaultTest, FailedFsyncKeepsTheOldMetadataAndTheQueueNeedingASync) {
  TempDir dir;
  FaultFileOps ops;
  auto q = open_queue(dir, ops);
  ASSERT_TRUE(succeeded(q->put(payload(0))));
  ASSERT_TRUE(succeeded(q->sync()));
  const std::string before = slurp(q->metadata_file_name());
  ASSERT_TRUE(succeeded(q->put(payload(1))));
  ops.arm(FileOp::kFsync, EIO, 1);
  const auto failed = q->sync();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), "sync " + q->data_file_name(0) + ": input/output error");
  EXPECT_EQ(slurp(q->metadata_file_name()), before);  // never claims what is not durable
  EXPECT_TRUE(q->needs_sync());
  ASSERT_TRUE(succeeded(q->sync()));
  EXPECT_NE(slurp(q->metadata_file_name()), before);
  EXPECT_FALSE(q->needs_sync());
}

TEST(DiskQueueFaultTest, FailedMetadataRenameLeavesNoTemporaryFile) {
  TempDir dir;
  FaultFileOps ops;
  auto q = open_queue(dir, ops);
  ASSERT_TRUE(succeeded(q->put(payload(0))));
  ops.arm(FileOp::kRename, EIO, 1);
  const auto failed = q->sync();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().rfind("rename ", 0), 0u) << failed.error();
  EXPECT_NE(failed.error().find("input/output error"), std::string::npos) << failed.error();
  EXPECT_FALSE(has_file_ending(dir.path(), ".tmp"));
  EXPECT_TRUE(q->needs_sync());
  ASSERT_TRUE(succeeded(q->sync()));
  EXPECT_EQ(slurp(q->metadata_file_name()),
            "1\n0,0\n0," + std::to_string(4 + payload(0).size()) + "\n");
}

TEST(DiskQueueFaultTest, ReadErrorLeavesTheRecordInPlaceUntilTheFaultClears) {
  TempDir dir;
  FaultFileOps ops;
  auto q = open_queue(dir, ops);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
  ops.arm(FileOp::kRead, EIO);
  std::string msg;
  EXPECT_EQ(q->read_next(msg), ReadResult::kIoError);
  EXPECT_EQ(q->read_error(), "read " + q->data_file_name(0) + ": input/output error");
  EXPECT_EQ(q->read_next(msg), ReadResult::kIoError);
  EXPECT_EQ(q->depth(), 3);
  EXPECT_FALSE(fs::exists(q->data_file_name(0) + ".bad"));  // the reference would set it aside
  ops.disarm_all();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(q->read_next(msg), ReadResult::kOk);
    EXPECT_EQ(msg, payload(i));
  }
  EXPECT_EQ(q->read_error(), "");
}

TEST(DiskQueueFaultTest, OpenFailureOfTheReadFileIsRetriedButAMissingFileIsSkipped) {
  TempDir dir;
  FaultFileOps ops;
  auto q = open_queue(dir, ops);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));  // several files
  ops.arm(FileOp::kOpen, EIO, 2, ".000000.dat");
  std::string msg;
  EXPECT_EQ(q->read_next(msg), ReadResult::kIoError);
  EXPECT_EQ(q->read_next(msg), ReadResult::kIoError);
  ASSERT_EQ(q->read_next(msg), ReadResult::kOk);
  EXPECT_EQ(msg, payload(0));
  // File 1 vanishes (removed by hand): the reader moves on to file 2.
  const auto depth = q->depth();
  fs::remove(q->data_file_name(1));
  int got = 0;
  while (q->read_next(msg) == ReadResult::kOk) ++got;
  EXPECT_GT(got, 0);
  EXPECT_LT(got, depth);
  EXPECT_EQ(q->depth(), 0);
}

TEST(DiskQueueFaultTest, ReadFilesThatCouldNotBeRemovedAreRemovedAfterALaterSync) {
  TempDir dir;
  FaultFileOps ops;
  auto q = open_queue(dir, ops);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
  std::string msg;
  ops.arm(FileOp::kUnlink, EIO);
  while (q->read_next(msg) == ReadResult::kOk) {
  }
  ASSERT_TRUE(succeeded(q->sync()));
  EXPECT_TRUE(fs::exists(q->data_file_name(0)));
  ops.disarm_all();
  ASSERT_TRUE(succeeded(q->put(payload(100))));
  ASSERT_TRUE(succeeded(q->sync()));
  EXPECT_FALSE(fs::exists(q->data_file_name(0)));
}

TEST(DiskQueueFaultTest, DeleteAllReportsAFileItCouldNotRemove) {
  TempDir dir;
  FaultFileOps ops;
  auto q = open_queue(dir, ops);
  ASSERT_TRUE(succeeded(q->put(payload(0))));
  ops.arm(FileOp::kUnlink, EIO, 1);
  const auto failed = q->delete_all();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), "remove " + q->data_file_name(0) + ": input/output error");
}

TEST(DiskQueueFaultTest, UnreadableMetadataAtOpenStillOpensAndKeepsEveryRecord) {
  TempDir dir;
  FaultFileOps ops;
  {
    auto q = open_queue(dir, ops);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(succeeded(q->put(payload(i))));
    ASSERT_TRUE(succeeded(q->close()));
  }
  ops.arm(FileOp::kOpen, EIO, 1, "meta.dat");
  auto q = open_queue(dir, ops);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->depth(), 10);  // counted from the file, the metadata being unreadable
  std::string msg;
  int got = 0;
  while (q->read_next(msg) == ReadResult::kOk) EXPECT_EQ(msg, payload(got++));
  EXPECT_EQ(got, 10);
}

}  // namespace
}  // namespace nsq::disk
