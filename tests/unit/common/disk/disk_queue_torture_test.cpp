// DiskQueue torture (as go-diskqueue's TestDiskQueueTorture, diskqueue_test.go): concurrent
// puts, reads, syncs, empties and a delete, time-bounded (about 2 s in all, so the TSan tree
// of the test command runs it too). Checks that nothing written is lost, read twice, read out
// of order or corrupted, and that the depth matches what is left.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/disk/disk_queue.hpp"
#include "support/result_assertions.hpp"
#include "support/temp_dir.hpp"

namespace nsq::disk {
namespace {

namespace fs = std::filesystem;
using test_support::succeeded;
using test_support::TempDir;
using Clock = std::chrono::steady_clock;

// "<writer>:<seq>:" then filler derived from both, so a torn or mixed record is detected.
std::string make_payload(int writer, int64_t seq) {
  std::string s = std::to_string(writer) + ":" + std::to_string(seq) + ":";
  const size_t len = 26 + static_cast<size_t>((seq * 7 + writer) % 90);
  for (size_t i = s.size(); i < len; ++i) s += static_cast<char>('a' + (seq + writer + i) % 26);
  return s;
}

bool parse_payload(const std::string& p, int& writer, int64_t& seq) {
  auto a = p.find(':');
  auto b = a == std::string::npos ? a : p.find(':', a + 1);
  if (b == std::string::npos) return false;
  writer = std::stoi(p.substr(0, a));
  seq = std::stoll(p.substr(a + 1, b - a - 1));
  return make_payload(writer, seq) == p;
}

DiskQueueOptions torture_options() {
  DiskQueueOptions o;
  o.max_bytes_per_file = 4096;  // a roll every ~60 records
  o.min_msg_size = 26;
  o.max_msg_size = 1024;
  o.sync_every = 50;
  o.read_buffer_size = 4096;
  return o;
}

std::unique_ptr<DiskQueue> open_queue(const TempDir& dir) {
  auto q = DiskQueue::open("torture", dir.path(), torture_options());
  EXPECT_TRUE(succeeded(q));
  return q ? std::move(*q) : nullptr;
}

constexpr int kWriters = 4;
constexpr int kReaders = 2;

// What the readers saw, checked for validity and per-writer order as it arrives.
class ReadLog {
 public:
  void add(const std::string& p, std::vector<int64_t>& last_seq) {
    int w = 0;
    int64_t seq = 0;
    if (!parse_payload(p, w, seq) || w < 0 || w >= kWriters) {
      ADD_FAILURE() << "corrupt record " << p;
      return;
    }
    // One reader sees each writer's records in the order they were written.
    if (seq <= last_seq[static_cast<size_t>(w)]) ADD_FAILURE() << "out of order: " << p;
    last_seq[static_cast<size_t>(w)] = seq;
    std::lock_guard l(mu_);
    if (!seen_.insert(p).second) ADD_FAILURE() << "read twice: " << p;
  }
  std::set<std::string> seen() const {
    std::lock_guard l(mu_);
    return seen_;
  }

 private:
  mutable std::mutex mu_;
  std::set<std::string> seen_;
};

void sync_when_asked(DiskQueue& q) {
  if (q.try_schedule_sync()) {
    EXPECT_TRUE(succeeded(q.sync()));
  }
}

TEST(DiskQueueTortureTest, ConcurrentPutsReadsAndSyncsLoseNothing) {
  TempDir dir;
  auto q = open_queue(dir);
  std::atomic<bool> stop_writing{false};
  std::atomic<bool> stop_reading{false};
  std::vector<int64_t> written(kWriters, 0);
  ReadLog log;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      int64_t seq = 0;
      while (!stop_writing) {
        // Singles and batches, as PUB and MPUB.
        if (seq % 5 == 0) {
          std::string a = make_payload(w, seq), b = make_payload(w, seq + 1);
          std::string_view batch[] = {a, b};
          ASSERT_TRUE(succeeded(q->put_batch(batch)));
          seq += 2;
        } else {
          ASSERT_TRUE(succeeded(q->put(make_payload(w, seq))));
          ++seq;
        }
        sync_when_asked(*q);
      }
      written[static_cast<size_t>(w)] = seq;
    });
  }
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      std::vector<int64_t> last(kWriters, -1);
      std::string msg;
      while (!stop_reading) {
        auto res = q->read_next(msg);
        if (res == ReadResult::kOk) {
          log.add(msg, last);
          sync_when_asked(*q);
        } else {
          ASSERT_EQ(res, ReadResult::kEmpty);
          std::this_thread::yield();
        }
      }
    });
  }
  std::thread timer_sync([&] {
    while (!stop_reading) {
      if (q->dirty()) {
        EXPECT_TRUE(succeeded(q->sync()));  // the sync_timeout rule
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  stop_writing = true;
  for (auto& t : threads) t.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop_reading = true;
  for (auto& t : readers) t.join();
  timer_sync.join();

  // Whatever is left survives a restart and matches the depth.
  const int64_t left = q->depth();
  ASSERT_TRUE(succeeded(q->close()));
  q = open_queue(dir);
  EXPECT_EQ(q->depth(), left);
  std::vector<int64_t> last(kWriters, -1);
  std::string msg;
  int64_t drained = 0;
  while (q->read_next(msg) == ReadResult::kOk) {
    log.add(msg, last);
    ++drained;
  }
  EXPECT_EQ(drained, left);
  EXPECT_EQ(q->depth(), 0);
  int64_t total = 0;
  for (int w = 0; w < kWriters; ++w) total += written[static_cast<size_t>(w)];
  const auto seen = log.seen();
  EXPECT_EQ(static_cast<int64_t>(seen.size()), total);
  for (int w = 0; w < kWriters; ++w) {
    for (int64_t s = 0; s < written[static_cast<size_t>(w)]; ++s) {
      if (!seen.count(make_payload(w, s))) {
        ADD_FAILURE() << "lost " << make_payload(w, s);
        break;
      }
    }
  }
}

TEST(DiskQueueTortureTest, EmptiesAndADeleteRacingPutsAndReadsNeverCorrupt) {
  TempDir dir;
  auto q = open_queue(dir);
  std::atomic<bool> stop{false};
  std::atomic<bool> deleted{false};
  ReadLog log;
  std::mutex acked_mu;
  std::set<std::string> acked;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int64_t seq = 0; !stop; ++seq) {
        const std::string p = make_payload(w, seq);
        if (const auto put = q->put(p); put) {
          std::lock_guard l(acked_mu);
          acked.insert(p);
        } else {
          ASSERT_EQ(put.error(), "exiting");  // only once deleted
          ASSERT_TRUE(deleted);
        }
        sync_when_asked(*q);
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      std::vector<int64_t> last(kWriters, -1);
      std::string msg;
      while (!stop) {
        auto res = q->read_next(msg);
        if (res == ReadResult::kOk) {
          log.add(msg, last);
        } else if (res == ReadResult::kClosed) {
          ASSERT_TRUE(deleted);
          std::this_thread::yield();
        } else {
          ASSERT_EQ(res, ReadResult::kEmpty);
          std::this_thread::yield();
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (deleted) continue;
      if (const auto emptied = q->empty(); !emptied) {
        ASSERT_TRUE(deleted) << emptied.error();
      }
      ASSERT_GE(q->depth(), 0);
    }
  });
  threads.emplace_back([&] {
    while (!stop) {
      if (q->dirty()) (void)q->sync();  // may race the delete: fails quietly then
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  deleted = true;
  EXPECT_TRUE(succeeded(q->delete_all()));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  for (auto& t : threads) t.join();

  // Every record read was acknowledged to a writer (nothing invented or half-written).
  const auto seen = log.seen();
  EXPECT_FALSE(seen.empty());
  for (const auto& p : seen) {
    if (!acked.count(p)) {
      ADD_FAILURE() << "read a record never acknowledged: " << p;
      break;
    }
  }
  // The delete left nothing behind, not even a metadata file from a racing sync.
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir.path())) left.push_back(e.path().filename());
  EXPECT_TRUE(left.empty()) << left.size() << " files left, first " << left.front();
}

}  // namespace
}  // namespace nsq::disk
