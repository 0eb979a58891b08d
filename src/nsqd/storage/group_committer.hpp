// GroupCommitter: the durable mode's commit thread (docs/persistence.md, "Group commit").
// Publishers append to a TopicLog (page cache only) and call request(log); the thread fsyncs
// every requested log, then the log runs the callbacks of the appends that sync covered, which
// post each answer to its connection's event loop. Publishes that arrive while an fsync runs
// are collected and share the next cycle's fsync: one fsync per log per cycle, never one per
// message, and no event loop ever waits on an fsync.
//
// Owner: Nsqd (durable mode only). Threads: request() from any thread; one commit thread.
// stop() finishes every pending request (final sync) before it returns.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "nsqd/storage/topic_log.hpp"

namespace nsq::nsqd {

class GroupCommitter {
 public:
  GroupCommitter();
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // `log` has appends to make durable (or its hook has records to write).
  void request(const std::shared_ptr<TopicLog>& log);
  // Runs on the commit thread after every sync of `log` (the topic writes its channels'
  // acknowledgement journals and trims the log there); returns the fsyncs it made.
  using AfterSync = std::function<int()>;
  void set_after_sync(const TopicLog* log, AfterSync hook);
  void clear_after_sync(const TopicLog* log);
  // Syncs what is pending and ends the thread. Idempotent.
  void stop();

  uint64_t fsync_count() const { return fsyncs_.load(std::memory_order_relaxed); }
  uint64_t cycle_count() const { return cycles_.load(std::memory_order_relaxed); }

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<TopicLog>> pending_;
  std::map<const TopicLog*, AfterSync> hooks_;
  bool stopping_ = false;
  std::atomic<uint64_t> fsyncs_{0};
  std::atomic<uint64_t> cycles_{0};
  std::thread thread_;
};

}  // namespace nsq::nsqd
