#include "nsqd/queue/guid.hpp"

#include <chrono>

namespace nsq::nsqd {

GuidFactory::GuidFactory(int64_t node_id) : node_bits_(static_cast<uint64_t>(node_id & 0x3FF)) {
  const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t tick = (now_ns >> 20) - kEpochMs;
  next_.store(static_cast<uint64_t>(tick) << 12, std::memory_order_relaxed);
}

protocol::MessageId GuidFactory::id_at(uint64_t first, uint64_t i) const {
  const uint64_t v = first + i;
  const uint64_t tick = v >> 12;
  const uint64_t seq = v & 0xFFF;
  return protocol::message_id_from_guid((tick << 22) | (node_bits_ << 12) | seq);
}

}  // namespace nsq::nsqd
