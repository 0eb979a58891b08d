// GuidFactory: message ids in the reference's layout,
//   ((t - epoch) << 22) | (node_id << 12) | sequence,  t = unix_ns >> 20 (~1 ms ticks),
// printed as 16 lowercase hex characters. Instead of a mutex and a wait when a tick's 4096
// sequence numbers run out (the reference sleeps), one atomic counter over (tick, sequence)
// hands out ids and borrows from the next tick: ids stay unique and increasing, and an MPUB
// reserves its whole batch with one atomic add.
// Thread-safe; one per nsqd.
#pragma once

#include <atomic>
#include <cstdint>

#include "nsq/protocol/wire.hpp"

namespace nsq::nsqd {

class GuidFactory {
 public:
  explicit GuidFactory(int64_t node_id);

  // Reserves `n` consecutive ids; returns the first (use id_at(first, i) for the i-th).
  uint64_t reserve(uint64_t n) { return next_.fetch_add(n, std::memory_order_relaxed); }
  protocol::MessageId id_at(uint64_t first, uint64_t i) const;
  protocol::MessageId next() { return id_at(reserve(1), 0); }

 private:
  static constexpr int64_t kEpochMs = 1288834974288;
  uint64_t node_bits_;
  std::atomic<uint64_t> next_;  // (tick << 12) | sequence
};

}  // namespace nsq::nsqd
