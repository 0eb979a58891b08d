// A -durable Topic for queue tests without sockets: a data directory, a disk worker (log-tail
// refills) and a GroupCommitter (the commit thread) that a test can stop to "crash" the
// process (kill -9 keeps the page cache) and start afresh over the same directory.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "nsqd/queue/topic.hpp"
#include "nsqd/storage/disk_worker.hpp"
#include "nsqd/storage/group_committer.hpp"
#include "support/temp_dir.hpp"

namespace nsq::test_support {

class DurableTopicEnv : public ::testing::Test {
 protected:
  // A fresh "process": its own commit thread over the same data directory.
  std::shared_ptr<nsqd::Topic> open_topic(int64_t segment_bytes = 64 * 1024 * 1024,
                                          int64_t mem_queue_size = 10000) {
    committer_ = std::make_unique<nsqd::GroupCommitter>();
    auto ctx = std::make_shared<nsqd::DiskContext>();
    ctx->data_path = dir_.path();
    ctx->committer = committer_.get();
    ctx->worker = &worker_;  // refills from the log tail
    ctx->log_segment_bytes = segment_bytes;
    nsqd::ChannelLimits limits;
    limits.mem_queue_size = mem_queue_size;
    limits.disk = ctx;
    return std::make_shared<nsqd::Topic>("t", limits, guids_, [](nsqd::Topic&) {});
  }
  // The "crash": no shutdown, the commit thread just stops.
  void crash(std::shared_ptr<nsqd::Topic>& t) {
    committer_->stop();
    t.reset();
    committer_.reset();
  }
  // Waits until the commit thread has written the channel's acks (its floor reached `floor`).
  static void wait_floor(nsqd::Channel& ch, uint64_t floor) {
    for (int i = 0; i < 500 && ch.journal_floor().value_or(0) < floor; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_GE(ch.journal_floor().value_or(0), floor);
  }
  // Waits until `n` messages are in flight on the channel: refills run on the disk worker,
  // and the channel's lock (stats) orders its deliveries before the test reads what arrived.
  static void wait_in_flight(const nsqd::Channel& ch, int64_t n) {
    for (int i = 0; i < 500 && ch.stats().in_flight_count < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(ch.stats().in_flight_count, n);
  }

  TempDir dir_;
  nsqd::DiskWorker worker_{1};
  nsqd::GuidFactory guids_{1};
  std::unique_ptr<nsqd::GroupCommitter> committer_;
};

}  // namespace nsq::test_support
