// Message: one published message, stored once and shared by every channel of its topic
// (docs/architecture.md, "How a message flows"). Immutable after creation: id, timestamp and body
// never change; the per-channel state (attempts, deadlines) lives in the channel, not here.
// Lifetime: intrusive refcount; freed when the last queue / in-flight entry drops it.
// Thread-safety: the refcount is atomic; the payload is read-only.
#pragma once

#include <atomic>
#include <boost/intrusive_ptr.hpp>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>

#include "nsq/protocol/wire.hpp"

namespace nsq::nsqd {

using protocol::MessageId;

class Message {
 public:
  // One allocation holds the header and the body.
  static boost::intrusive_ptr<Message> create(const MessageId& id, int64_t timestamp_ns,
                                              std::string_view body) {
    void* mem = ::operator new(sizeof(Message) + body.size());
    auto* m = new (mem) Message(id, timestamp_ns, static_cast<uint32_t>(body.size()));
    if (!body.empty()) std::memcpy(m->body_data(), body.data(), body.size());
    return boost::intrusive_ptr<Message>(m);
  }

  // Why: a burst of messages is carved one after another from the top of a fresh heap, and
  // each malloc ends with a locked instruction that waits until the previous message's
  // stores to cold cache lines have landed, so the misses are paid one at a time. Asking for
  // the lines two messages ahead (for writing) lets them arrive in parallel: ~15 % less user
  // CPU publishing MPUB batches (docs/benchmarks.md). A hint only: if the next allocation
  // lands elsewhere, nothing but a few prefetches is lost. Only for small messages: a large
  // body's own copy streams well, and its successors are too far ahead to be worth asking.
  void prefetch_successors() const {
    const size_t step = sizeof(Message) + body_size_;
    if (step > kPrefetchMaxMessageBytes) return;
    const char* self = reinterpret_cast<const char*>(this);
    for (size_t off = 2 * step; off < 3 * step + 64; off += 64) {
      __builtin_prefetch(self + off, 1, 3);
    }
  }

  // -durable: the message's offset in its topic's log (kNoLogOffset otherwise). Set once by
  // the topic right after the append, before any channel sees the message.
  static constexpr uint64_t kNoLogOffset = UINT64_MAX;
  uint64_t log_offset() const { return log_offset_; }
  void set_log_offset(uint64_t offset) { log_offset_ = offset; }

  const MessageId& id() const { return id_; }
  int64_t timestamp_ns() const { return timestamp_ns_; }
  std::string_view body() const { return {body_data(), body_size_}; }
  size_t body_size() const { return body_size_; }

  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  friend void intrusive_ptr_add_ref(Message* m) {
    m->refs_.fetch_add(1, std::memory_order_relaxed);
  }
  friend void intrusive_ptr_release(Message* m) {
    if (m->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      m->~Message();
      ::operator delete(m);
    }
  }

 private:
  Message(const MessageId& id, int64_t ts, uint32_t size)
      : body_size_(size), timestamp_ns_(ts), id_(id) {}
  ~Message() = default;

  char* body_data() { return reinterpret_cast<char*>(this + 1); }
  const char* body_data() const { return reinterpret_cast<const char*>(this + 1); }

  static constexpr size_t kPrefetchMaxMessageBytes = 1024;

  std::atomic<uint32_t> refs_{0};
  uint32_t body_size_;
  int64_t timestamp_ns_;
  MessageId id_;
  uint64_t log_offset_ = kNoLogOffset;
};

using MessagePtr = boost::intrusive_ptr<Message>;

// Hash for message ids in in-flight maps: the 16 bytes are two machine words.
struct MessageIdHash {
  size_t operator()(const MessageId& id) const noexcept {
    uint64_t a = 0;
    uint64_t b = 0;
    std::memcpy(&a, id.data(), 8);
    std::memcpy(&b, id.data() + 8, 8);
    uint64_t h = a * 0x9E3779B97F4A7C15ULL ^ (b + 0x632BE59BD9B4E019ULL + (a << 6) + (a >> 2));
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

}  // namespace nsq::nsqd
