// IoPool: one Asio io_context per thread ("one event loop per core", DESIGN.md §2.4). A
// connection is pinned to one loop for its whole life, so its handlers never race each other
// and need no strand; cross-connection state (topics, channels) has its own short locks.
//
// Owner: a daemon's server object. start() spawns the threads; stop() stops the loops and
// joins them (idempotent; also run by the destructor).
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

namespace nsq::net {

class IoPool {
 public:
  // threads == 0: one per hardware core.
  explicit IoPool(size_t threads = 0);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  void start();
  void stop();

  size_t size() const { return contexts_.size(); }
  boost::asio::io_context& at(size_t i) { return *contexts_[i]; }
  // Round-robin choice of a loop for a new connection.
  boost::asio::io_context& next();

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> next_{0};
};

}  // namespace nsq::net
