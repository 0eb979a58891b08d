// IoPool: one Asio io_context per thread ("one event loop per core", docs/architecture.md,
// "Threads"). A connection is pinned to one loop for its whole life, so its handlers never race
// each other and need no strand; cross-connection state (topics, channels) has its own short locks.
//
// Owner: a daemon's server object. start() spawns the threads; stop() stops the loops and
// joins them (idempotent; also run by the destructor).
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "common/net/idle_spin.hpp"

namespace nsq::net {

class IoPool {
 public:
  // threads == 0: one per hardware core. spin_max_ns: the longest an idle loop polls for new
  // work before it blocks (IdleSpin; 0 = never poll). A loop polls only while the loops
  // awake, itself included, are fewer than the machine's cores: a polling loop never takes
  // the last core, and a busy server (every loop awake) does not poll at all.
  explicit IoPool(size_t threads = 0, int64_t spin_max_ns = IdleSpin::kDefaultMaxNs);
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  void start();
  void stop();

  size_t size() const { return contexts_.size(); }
  boost::asio::io_context& at(size_t i) { return *contexts_[i]; }

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  // A loop's thread: io_context::run(), except that a loop out of work polls for up to its
  // IdleSpin window first, while the loops awake (running or polling) leave a core free.
  void run_loop(boost::asio::io_context& ctx);

  const int64_t spin_max_ns_;
  const size_t spin_cores_;       // cores - 1: loops that may be awake while one polls
  std::atomic<size_t> awake_{0};  // loops not blocked in epoll_wait
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
};

// Round-robin over a pool's loops for the connections of one acceptor. Each acceptor keeps
// its own: an acceptor picks the loop of its *next* connection when it re-arms, so with one
// counter shared by nsqd's TCP and HTTP acceptors the first two TCP connections both landed
// on loop 0. Only used on the acceptor's own loop, so it needs no atomic.
class LoopRoundRobin {
 public:
  explicit LoopRoundRobin(IoPool& pool) : pool_(pool) {}
  boost::asio::io_context& next() { return pool_.at(next_++ % pool_.size()); }

 private:
  IoPool& pool_;
  size_t next_ = 0;
};

}  // namespace nsq::net
