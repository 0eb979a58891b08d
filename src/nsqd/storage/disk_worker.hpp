// DiskWorker: a small pool of threads that runs the disk work the event loops must not wait
// for: fsyncs (sync-every / sync-timeout), refilling a channel's memory queue from its disk
// queue, draining a topic's disk queue into its channels, and nsqd.dat writes.
//
// Appends to a disk queue (a pwritev into the page cache) stay on the publishing thread, as
// the reference's PUB also waits for its write; everything that can take milliseconds
// (fsync, reads of cold files) runs here.
//
// Owner: Nsqd. Threads: post() from any thread; tasks run on the pool's threads. Lifecycle:
// threads start in the constructor; stop() runs the task in progress to its end, drops the
// queued ones and joins (idempotent; the destructor calls it).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace nsq::nsqd {

class DiskWorker {
 public:
  explicit DiskWorker(size_t threads);
  ~DiskWorker();
  DiskWorker(const DiskWorker&) = delete;
  DiskWorker& operator=(const DiskWorker&) = delete;

  // Queues `task`; ignored after stop().
  void post(std::function<void()> task);
  void stop();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace nsq::nsqd
