// Consumer: what a Channel needs from a subscribed client. ClientV2 implements it for TCP
// connections; unit tests use fakes. Every method may be called from any thread while the
// channel's lock is held, so implementations use atomics or their own short locks and never
// call back into the channel.
#pragma once

#include <cstdint>

#include "nsqd/queue/message.hpp"

namespace nsq::nsqd {

class Consumer {
 public:
  virtual ~Consumer() = default;

  virtual int64_t consumer_id() const = 0;
  // RDY > 0 and in-flight < RDY (the channel checks its own pause state).
  virtual bool ready_for_message() const = 0;
  // How many more messages it would take right now (RDY - in-flight). Sizes reads from the
  // disk queue, so messages leave the (durable) disk only when a consumer can take them.
  virtual int64_t ready_capacity() const { return ready_for_message() ? 1 : 0; }
  // Per-client in-flight timeout, in nanoseconds.
  virtual int64_t msg_timeout_ns() const = 0;
  // 0 = deliver everything; 1..99 = deliver with probability (s+1)/100 [compat].
  virtual int32_t sample_rate() const = 0;

  // The channel moved the message into its in-flight set for this consumer: count it and
  // queue the frame for sending.
  virtual void deliver(const MessagePtr& msg, uint16_t attempts) = 0;
  // One of this consumer's in-flight messages left the in-flight set for the given reason.
  enum class Outcome { kFinished, kRequeued, kTimedOut };
  virtual void message_done(Outcome outcome) = 0;
  // The channel was emptied or deleted: the consumer's in-flight count is back to zero.
  virtual void in_flight_reset() = 0;
  // The channel (or its topic) was deleted: the reference closes the connections of its
  // consumers. Must not call back into the channel synchronously (post the close).
  virtual void disconnect() {}
};

}  // namespace nsq::nsqd
