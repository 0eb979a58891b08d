// IdleSpin: how long an event loop that ran out of work keeps polling before it blocks in
// epoll_wait. The class is pure arithmetic on durations, unit-tested without clocks or sockets;
// the clock reads live beside it (t_wake_ns, note_woken) and in IoPool::run_loop.
//
// Why spin at all: a request/response client (one PUB, wait for OK, next PUB) leaves the loop
// idle for a few tens of µs per round trip. Blocking then costs a sleep and a wake-up on each
// side, and on a VM the wake-up of a thread whose vCPU went idle costs more than the rest of
// the round trip: one publisher did 19,000 PUB/s with a blocking loop, 44,000 with one that
// polled for 50 µs first, at the same server CPU per PUB (docs/benchmarks.md). Go's scheduler
// spins before parking for the same reason, which is why the reference led at one publisher.
//
// Why adaptive: polling for a fixed time after every burst burns CPU on a loop whose work
// comes further apart than that (10,000 msg/s to one consumer: +64 µs of CPU per message), and
// takes a core the clients may need. So the window follows what blocking would have cost, the
// way Linux's KVM halt-polling does: after a block that ended within the maximum window (the
// next work came soon), the window doubles (from kStartNs, up to max); after a block that
// lasted longer (the loop really was idle), it halves, and below kStartNs it is 0. A loop
// whose work comes every ≥ max µs, or never, does not spin.
#pragma once

#include <chrono>
#include <cstdint>

namespace nsq::net {

// When the handler that ended the loop's last block began, if that handler said so (0: it
// did not). io_context::run_one() blocks and then runs a handler, so the time around it
// includes that handler; a read completion of a connection notes its start here, so that the
// wait is measured alone. Without it, a one-publisher round trip (~25 µs of waiting + a PUB's
// handling) measured past the 50 µs window and the loop started polling in 1 run of 3.
inline thread_local int64_t t_wake_ns = 0;

inline int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Called by a handler that is the arrival of new work (a read completion).
inline void note_woken() {
  if (t_wake_ns == 0) t_wake_ns = steady_ns();
}

class IdleSpin {
 public:
  static constexpr int64_t kStartNs = 5'000;
  static constexpr int64_t kDefaultMaxNs = 50'000;

  explicit IdleSpin(int64_t max_ns = kDefaultMaxNs) : max_ns_(max_ns) {}

  // How long to poll for new work before blocking (0: block at once).
  int64_t window_ns() const { return window_ns_; }

  // The loop polled for window_ns() (maybe 0) without finding work, then blocked for
  // `blocked_ns` until work came. `polled_ns`: how long it actually polled.
  void blocked(int64_t polled_ns, int64_t blocked_ns) {
    if (max_ns_ <= 0) return;
    if (polled_ns + blocked_ns <= max_ns_) {
      // A longer poll would have caught it.
      window_ns_ = window_ns_ == 0 ? kStartNs : window_ns_ * 2;
      if (window_ns_ > max_ns_) window_ns_ = max_ns_;
    } else {
      window_ns_ /= 2;
      if (window_ns_ < kStartNs) window_ns_ = 0;
    }
  }

 private:
  int64_t max_ns_;
  int64_t window_ns_ = 0;
};

}  // namespace nsq::net
