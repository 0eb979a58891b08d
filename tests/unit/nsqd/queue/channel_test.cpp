// Channel: delivery over ready consumers, RDY as an in-flight window, FIN/REQ/TOUCH and their
// errors, timeouts and deferred messages (the reference's nsqd/channel.go). Timers are
// driven through process_timers(now) with `now` computed from the steady clock readings taken
// around each operation, so nothing sleeps and every comparison has a wide margin.
#include "nsqd/queue/channel.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nsq::nsqd {
namespace {

constexpr int64_t kSecond = 1000LL * 1000 * 1000;

class FakeConsumer : public Consumer {
 public:
  struct Delivery {
    MessagePtr msg;
    uint16_t attempts;
  };

  explicit FakeConsumer(int64_t id, int64_t initial_rdy = 0, int64_t msg_timeout = 60 * kSecond)
      : id_(id), rdy(initial_rdy), timeout_ns(msg_timeout) {}

  int64_t consumer_id() const override { return id_; }
  bool ready_for_message() const override { return rdy > 0 && in_flight < rdy; }
  int64_t msg_timeout_ns() const override { return timeout_ns; }
  int32_t sample_rate() const override { return rate; }
  void deliver(const MessagePtr& msg, uint16_t attempts) override {
    ++in_flight;
    deliveries.push_back(Delivery{msg, attempts});
  }
  void message_done(Outcome outcome) override {
    --in_flight;
    switch (outcome) {
      case Outcome::kFinished:
        ++finished;
        break;
      case Outcome::kRequeued:
        ++requeued;
        break;
      case Outcome::kTimedOut:
        ++timed_out;
        break;
    }
  }
  void in_flight_reset() override {
    in_flight = 0;
    ++resets;
  }

  const MessageId& last_id() const { return deliveries.back().msg->id(); }
  std::vector<std::string> bodies() const {
    std::vector<std::string> out;
    for (const auto& d : deliveries) out.emplace_back(d.msg->body());
    return out;
  }

  const int64_t id_;
  int64_t rdy;
  int64_t timeout_ns;
  int32_t rate = 0;
  int64_t in_flight = 0;
  int finished = 0;
  int requeued = 0;
  int timed_out = 0;
  int resets = 0;
  std::vector<Delivery> deliveries;
};

MessagePtr make_msg(uint64_t n, std::string body = "") {
  if (body.empty()) body = "m" + std::to_string(n);
  return Message::create(protocol::message_id_from_guid(n), 1000 + static_cast<int64_t>(n), body);
}

class ChannelTest : public ::testing::Test {
 protected:
  std::unique_ptr<Channel> make(std::string name = "ch", ChannelLimits limits = {}) {
    return std::make_unique<Channel>("topic", std::move(name), limits,
                                     [this](Channel& ch) { deleted.push_back(&ch); });
  }
  std::shared_ptr<FakeConsumer> consumer(Channel& ch, int64_t id, int64_t rdy,
                                         int64_t timeout_ns = 60 * kSecond) {
    auto c = std::make_shared<FakeConsumer>(id, rdy, timeout_ns);
    EXPECT_EQ(ch.add_consumer(c), Channel::AddResult::kOk);
    return c;
  }
  void put(Channel& ch, std::vector<MessagePtr> msgs, int64_t defer_ns = 0) {
    ch.put(msgs, defer_ns);
  }
  void put(Channel& ch, uint64_t first, uint64_t count, int64_t defer_ns = 0) {
    std::vector<MessagePtr> msgs;
    for (uint64_t i = 0; i < count; ++i) msgs.push_back(make_msg(first + i));
    ch.put(msgs, defer_ns);
  }

  std::vector<Channel*> deleted;
};

TEST_F(ChannelTest, QueuesUntilAConsumerIsReady) {
  auto ch = make();
  put(*ch, 0, 3);
  EXPECT_EQ(ch->stats().depth, 3);
  EXPECT_EQ(ch->stats().message_count, 3u);
  auto a = consumer(*ch, 1, 0);
  ch->consumer_ready(1);
  EXPECT_TRUE(a->deliveries.empty());
  a->rdy = 10;
  ch->consumer_ready(1);
  ASSERT_EQ(a->deliveries.size(), 3u);
  EXPECT_EQ(a->bodies(), (std::vector<std::string>{"m0", "m1", "m2"}));
  for (const auto& d : a->deliveries) EXPECT_EQ(d.attempts, 1);
  const ChannelStats s = ch->stats();
  EXPECT_EQ(s.depth, 0);
  EXPECT_EQ(s.in_flight_count, 3);
  EXPECT_EQ(s.client_count, 1u);
  EXPECT_EQ(s.name, "ch");
  EXPECT_EQ(ch->topic_name(), "topic");
  EXPECT_FALSE(ch->ephemeral());
}

TEST_F(ChannelTest, RoundRobinAlternatesTwoConsumersWithRdyOne) {
  auto ch = make();
  auto a = consumer(*ch, 1, 1);
  auto b = consumer(*ch, 2, 1);
  std::vector<int64_t> owners;
  for (uint64_t i = 0; i < 8; ++i) {
    put(*ch, i, 1);
    ASSERT_EQ(a->deliveries.size() + b->deliveries.size(), i + 1);
    const bool to_a = a->in_flight == 1;
    owners.push_back(to_a ? 1 : 2);
    auto& owner = to_a ? *a : *b;
    ASSERT_EQ(ch->finish(owner.consumer_id(), owner.last_id()), std::nullopt);
  }
  EXPECT_EQ(owners, (std::vector<int64_t>{1, 2, 1, 2, 1, 2, 1, 2}));
}

TEST_F(ChannelTest, RoundRobinWithABacklogAndRdyOne) {
  auto ch = make();
  put(*ch, 0, 6);
  auto a = consumer(*ch, 1, 1);
  auto b = consumer(*ch, 2, 1);
  ch->consumer_ready(1);
  EXPECT_EQ(a->bodies(), (std::vector<std::string>{"m0"}));
  EXPECT_EQ(b->bodies(), (std::vector<std::string>{"m1"}));
  EXPECT_EQ(ch->stats().depth, 4);
  // Each FIN frees exactly one slot: the finishing consumer gets the next message.
  ASSERT_EQ(ch->finish(1, a->last_id()), std::nullopt);
  ASSERT_EQ(ch->finish(2, b->last_id()), std::nullopt);
  EXPECT_EQ(a->bodies(), (std::vector<std::string>{"m0", "m2"}));
  EXPECT_EQ(b->bodies(), (std::vector<std::string>{"m1", "m3"}));
  EXPECT_EQ(ch->stats().depth, 2);
}

TEST_F(ChannelTest, RoundRobinAlternatesWithLargeRdy) {
  auto ch = make();
  auto a = consumer(*ch, 1, 100);
  auto b = consumer(*ch, 2, 100);
  put(*ch, 0, 10);
  EXPECT_EQ(a->bodies(), (std::vector<std::string>{"m0", "m2", "m4", "m6", "m8"}));
  EXPECT_EQ(b->bodies(), (std::vector<std::string>{"m1", "m3", "m5", "m7", "m9"}));
}

TEST_F(ChannelTest, RoundRobinSkipsConsumersThatAreNotReady) {
  auto ch = make();
  auto a = consumer(*ch, 1, 100);
  auto b = consumer(*ch, 2, 0);
  auto c = consumer(*ch, 3, 100);
  put(*ch, 0, 4);
  EXPECT_EQ(a->bodies(), (std::vector<std::string>{"m0", "m2"}));
  EXPECT_TRUE(b->deliveries.empty());
  EXPECT_EQ(c->bodies(), (std::vector<std::string>{"m1", "m3"}));
}

TEST_F(ChannelTest, RdyIsAnInFlightWindow) {
  auto ch = make();
  auto a = consumer(*ch, 1, 3);
  put(*ch, 0, 10);
  EXPECT_EQ(a->deliveries.size(), 3u);
  EXPECT_EQ(ch->stats().depth, 7);
  EXPECT_EQ(ch->stats().in_flight_count, 3);
  // FIN frees one slot: exactly one more delivery.
  ASSERT_EQ(ch->finish(1, a->deliveries[0].msg->id()), std::nullopt);
  EXPECT_EQ(a->deliveries.size(), 4u);
  EXPECT_EQ(a->in_flight, 3);
  // RDY 0 stops new deliveries but keeps what is in flight.
  a->rdy = 0;
  ch->consumer_ready(1);
  ASSERT_EQ(ch->finish(1, a->deliveries[1].msg->id()), std::nullopt);
  EXPECT_EQ(a->deliveries.size(), 4u);
  EXPECT_EQ(ch->stats().in_flight_count, 2);
  // Raising RDY fills the window up to the new size.
  a->rdy = 5;
  ch->consumer_ready(1);
  EXPECT_EQ(a->deliveries.size(), 7u);
  EXPECT_EQ(a->in_flight, 5);
  EXPECT_EQ(ch->stats().depth, 3);
  EXPECT_EQ(a->finished, 2);
}

TEST_F(ChannelTest, FinRequeueTouchErrors) {
  auto ch = make();
  auto a = consumer(*ch, 1, 10);
  auto b = consumer(*ch, 2, 0);
  put(*ch, 0, 1);
  const MessageId id = a->last_id();
  const MessageId unknown = protocol::message_id_from_guid(999);

  EXPECT_EQ(ch->finish(1, unknown), "ID not in flight");
  EXPECT_EQ(ch->requeue(1, unknown, 0), "ID not in flight");
  EXPECT_EQ(ch->touch(1, unknown, kSecond), "ID not in flight");
  EXPECT_EQ(ch->finish(2, id), "client does not own message");
  EXPECT_EQ(ch->requeue(2, id, 0), "client does not own message");
  EXPECT_EQ(ch->touch(2, id, kSecond), "client does not own message");
  EXPECT_EQ(ch->stats().in_flight_count, 1);  // the failures changed nothing
  EXPECT_EQ(b->finished + b->requeued, 0);

  EXPECT_EQ(ch->finish(1, id), std::nullopt);
  EXPECT_EQ(a->finished, 1);
  EXPECT_EQ(ch->finish(1, id), "ID not in flight");
  EXPECT_EQ(ch->requeue(1, id, 0), "ID not in flight");
  EXPECT_EQ(ch->touch(1, id, kSecond), "ID not in flight");
  EXPECT_EQ(ch->stats().requeue_count, 0u);
}

TEST_F(ChannelTest, FinishManyReportsEachFailureByIndexAndRefillsOnce) {
  auto ch = make();
  auto a = consumer(*ch, 1, 3);
  put(*ch, 0, 6);  // three in flight to `a`, three queued
  ASSERT_EQ(a->deliveries.size(), 3u);
  const MessageId unknown = protocol::message_id_from_guid(999);
  const std::vector<MessageId> ids{a->deliveries[0].msg->id(), unknown, a->deliveries[2].msg->id(),
                                   a->deliveries[0].msg->id()};
  std::vector<Channel::FinishError> errors;
  std::vector<MessagePtr> release;
  ch->finish_many(1, ids, errors, release);

  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].index, 1u);
  EXPECT_EQ(errors[0].reason, "ID not in flight");
  EXPECT_EQ(errors[1].index, 3u);  // already finished earlier in the same batch
  EXPECT_EQ(errors[1].reason, "ID not in flight");
  ASSERT_EQ(release.size(), 2u);  // the finished messages, handed back to be freed unlocked
  EXPECT_EQ(release[0]->body(), "m0");
  EXPECT_EQ(release[1]->body(), "m2");
  EXPECT_EQ(a->finished, 2);
  // The two freed slots were refilled from the queue after the batch.
  EXPECT_EQ(a->bodies(), (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
  EXPECT_EQ(ch->stats().depth, 1);
  EXPECT_EQ(ch->stats().in_flight_count, 3);

  // Another consumer's ids fail without touching them.
  errors.clear();
  release.clear();
  const std::vector<MessageId> theirs{a->deliveries[1].msg->id()};
  ch->finish_many(2, theirs, errors, release);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].reason, "client does not own message");
  EXPECT_TRUE(release.empty());
  EXPECT_EQ(ch->stats().in_flight_count, 3);
}

TEST_F(ChannelTest, TimeoutRequeuesAndRedeliversWithAttemptsPlusOne) {
  auto ch = make();
  auto a = consumer(*ch, 1, 1, kSecond);
  const int64_t t0 = coarse_now_ns();
  put(*ch, {make_msg(7, "payload")});
  const int64_t t1 = coarse_now_ns();
  ASSERT_EQ(a->deliveries.size(), 1u);
  EXPECT_EQ(a->deliveries[0].attempts, 1);

  EXPECT_FALSE(ch->process_timers(t0 + kSecond - 1));
  EXPECT_EQ(ch->stats().timeout_count, 0u);
  EXPECT_EQ(ch->stats().in_flight_count, 1);

  EXPECT_TRUE(ch->process_timers(t1 + kSecond));
  const ChannelStats s = ch->stats();
  EXPECT_EQ(s.timeout_count, 1u);
  EXPECT_EQ(s.requeue_count, 0u);  // timeouts are not requeues
  EXPECT_EQ(a->timed_out, 1);
  ASSERT_EQ(a->deliveries.size(), 2u);
  EXPECT_EQ(a->deliveries[1].attempts, 2);
  EXPECT_EQ(a->deliveries[1].msg.get(), a->deliveries[0].msg.get());  // same id and body
  EXPECT_EQ(a->deliveries[1].msg->body(), "payload");
  EXPECT_EQ(s.in_flight_count, 1);
  EXPECT_EQ(ch->finish(1, a->last_id()), std::nullopt);
}

TEST_F(ChannelTest, RedeliveryDeadlineCountsFromTheTimerTick) {
  auto ch = make();
  auto a = consumer(*ch, 1, 1, kSecond);
  put(*ch, 0, 1);
  const int64_t t1 = coarse_now_ns();
  const int64_t tick = t1 + 10 * kSecond;
  ASSERT_TRUE(ch->process_timers(tick));  // timed out and redelivered at `tick`
  EXPECT_FALSE(ch->process_timers(tick + kSecond - 1));
  EXPECT_TRUE(ch->process_timers(tick + kSecond));
  ASSERT_EQ(a->deliveries.size(), 3u);
  EXPECT_EQ(a->deliveries[2].attempts, 3);
  EXPECT_EQ(ch->stats().timeout_count, 2u);
}

TEST_F(ChannelTest, LateFinAfterTimeout) {
  auto ch = make();
  auto a = consumer(*ch, 1, 1, kSecond);
  put(*ch, 0, 1);
  const MessageId id = a->last_id();
  a->rdy = 0;  // nobody is ready when it times out
  ASSERT_TRUE(ch->process_timers(coarse_now_ns() + kSecond));
  EXPECT_EQ(ch->finish(1, id), "ID not in flight");
  EXPECT_EQ(ch->stats().depth, 1);
  // Redelivered to another consumer: the old owner no longer owns it.
  auto b = consumer(*ch, 2, 1);
  ch->consumer_ready(2);
  ASSERT_EQ(b->deliveries.size(), 1u);
  EXPECT_EQ(b->deliveries[0].attempts, 2);
  EXPECT_EQ(ch->finish(1, id), "client does not own message");
  EXPECT_EQ(ch->finish(2, id), std::nullopt);
}

TEST_F(ChannelTest, RequeueZeroRedeliversAtOnce) {
  auto ch = make();
  auto a = consumer(*ch, 1, 1);
  put(*ch, 0, 1);
  ASSERT_EQ(ch->requeue(1, a->last_id(), 0), std::nullopt);
  EXPECT_EQ(a->requeued, 1);
  ASSERT_EQ(a->deliveries.size(), 2u);
  EXPECT_EQ(a->deliveries[1].attempts, 2);
  ASSERT_EQ(ch->requeue(1, a->last_id(), 0), std::nullopt);
  ASSERT_EQ(a->deliveries.size(), 3u);
  EXPECT_EQ(a->deliveries[2].attempts, 3);
  const ChannelStats s = ch->stats();
  EXPECT_EQ(s.requeue_count, 2u);
  EXPECT_EQ(s.timeout_count, 0u);
  EXPECT_EQ(s.deferred_count, 0);
  EXPECT_EQ(s.message_count, 1u);
}

TEST_F(ChannelTest, RequeueWithDelayGoesToDeferredThenBack) {
  auto ch = make();
  auto a = consumer(*ch, 1, 1);
  put(*ch, 0, 1);
  const int64_t r0 = coarse_now_ns();
  ASSERT_EQ(ch->requeue(1, a->last_id(), 5 * kSecond), std::nullopt);
  const int64_t r1 = coarse_now_ns();
  ChannelStats s = ch->stats();
  EXPECT_EQ(s.deferred_count, 1);
  EXPECT_EQ(s.depth, 0);
  EXPECT_EQ(s.in_flight_count, 0);
  EXPECT_EQ(s.requeue_count, 1u);
  EXPECT_EQ(a->deliveries.size(), 1u);  // ready, but the message is not due yet

  EXPECT_FALSE(ch->process_timers(r0 + 5 * kSecond - 1));
  EXPECT_EQ(ch->stats().deferred_count, 1);
  EXPECT_TRUE(ch->process_timers(r1 + 5 * kSecond));
  s = ch->stats();
  EXPECT_EQ(s.deferred_count, 0);
  EXPECT_EQ(s.in_flight_count, 1);
  ASSERT_EQ(a->deliveries.size(), 2u);
  EXPECT_EQ(a->deliveries[1].attempts, 2);
}

TEST_F(ChannelTest, DeferredMessagesReleaseInDueOrder) {
  auto ch = make();
  auto a = consumer(*ch, 1, 0);
  const int64_t t0 = coarse_now_ns();
  put(*ch, {make_msg(1, "late")}, 3 * kSecond);
  put(*ch, {make_msg(2, "early")}, 1 * kSecond);
  put(*ch, {make_msg(3, "middle")}, 2 * kSecond);
  const int64_t t1 = coarse_now_ns();
  EXPECT_EQ(ch->stats().deferred_count, 3);
  EXPECT_EQ(ch->stats().message_count, 3u);
  EXPECT_FALSE(ch->process_timers(t0 + kSecond - 1));
  EXPECT_TRUE(ch->process_timers(t1 + kSecond));
  EXPECT_EQ(ch->stats().deferred_count, 2);
  EXPECT_TRUE(ch->process_timers(t1 + 3 * kSecond));
  EXPECT_EQ(ch->stats().deferred_count, 0);
  a->rdy = 10;
  ch->consumer_ready(1);
  EXPECT_EQ(a->bodies(), (std::vector<std::string>{"early", "middle", "late"}));
  for (const auto& d : a->deliveries) EXPECT_EQ(d.attempts, 1);
}

TEST_F(ChannelTest, TouchExtendsTheDeadline) {
  auto ch = make();
  auto a = consumer(*ch, 1, 1, kSecond);
  put(*ch, 0, 1);
  const int64_t t1 = coarse_now_ns();
  const int64_t u0 = coarse_now_ns();
  ASSERT_EQ(ch->touch(1, a->last_id(), 10 * kSecond), std::nullopt);
  const int64_t u1 = coarse_now_ns();
  EXPECT_FALSE(ch->process_timers(t1 + kSecond));  // the original deadline has passed
  EXPECT_FALSE(ch->process_timers(u0 + 10 * kSecond - 1));
  EXPECT_EQ(ch->stats().timeout_count, 0u);
  EXPECT_TRUE(ch->process_timers(u1 + 10 * kSecond));
  EXPECT_EQ(ch->stats().timeout_count, 1u);
}

TEST_F(ChannelTest, TouchIsCappedAtMaxMsgTimeoutFromDelivery) {
  ChannelLimits limits;
  limits.max_msg_timeout_ns = 5 * kSecond;
  auto ch = make("ch", limits);
  auto a = consumer(*ch, 1, 1, kSecond);
  const int64_t t0 = coarse_now_ns();
  put(*ch, 0, 1);
  const int64_t t1 = coarse_now_ns();
  ASSERT_EQ(ch->touch(1, a->last_id(), 60 * kSecond), std::nullopt);
  ASSERT_EQ(ch->touch(1, a->last_id(), 60 * kSecond), std::nullopt);
  EXPECT_FALSE(ch->process_timers(t0 + 5 * kSecond - 1));
  EXPECT_TRUE(ch->process_timers(t1 + 5 * kSecond));
  EXPECT_EQ(ch->stats().timeout_count, 1u);
}

TEST_F(ChannelTest, TouchBelowTheCapIsNotCapped) {
  ChannelLimits limits;
  limits.max_msg_timeout_ns = 5 * kSecond;
  auto ch = make("ch", limits);
  auto a = consumer(*ch, 1, 1, kSecond);
  put(*ch, 0, 1);
  const int64_t u0 = coarse_now_ns();
  ASSERT_EQ(ch->touch(1, a->last_id(), 2 * kSecond), std::nullopt);
  const int64_t u1 = coarse_now_ns();
  EXPECT_FALSE(ch->process_timers(u0 + 2 * kSecond - 1));
  EXPECT_TRUE(ch->process_timers(u1 + 2 * kSecond));
}

TEST_F(ChannelTest, TimeoutsFireInDeadlineOrderAfterFinAndTouch) {
  auto ch = make();
  auto a = consumer(*ch, 1, 100, kSecond);
  put(*ch, 0, 50);
  ASSERT_EQ(a->deliveries.size(), 50u);
  // Deadlines i+1 seconds from now, in a scrambled order; every third message finished.
  const int64_t u0 = coarse_now_ns();
  for (size_t k = 0; k < 50; ++k) {
    const size_t i = (k * 17) % 50;
    ASSERT_EQ(ch->touch(1, a->deliveries[i].msg->id(), static_cast<int64_t>(i + 1) * kSecond),
              std::nullopt);
  }
  const int64_t u1 = coarse_now_ns();
  ASSERT_LT(u1 - u0, kSecond / 2);
  for (size_t i = 0; i < 50; i += 3) {
    ASSERT_EQ(ch->finish(1, a->deliveries[i].msg->id()), std::nullopt);
  }
  a->rdy = 0;  // keep timed-out messages in the queue
  uint64_t expected = 0;
  for (size_t i = 0; i < 50; ++i) {
    if (i % 3 != 0) ++expected;
    ch->process_timers(u1 + static_cast<int64_t>(i + 1) * kSecond);
    ASSERT_EQ(ch->stats().timeout_count, expected) << "after " << i + 1 << "s";
  }
  // Requeued in deadline order.
  a->rdy = 100;
  const size_t before = a->deliveries.size();
  ch->consumer_ready(1);
  std::vector<std::string> order;
  for (size_t k = before; k < a->deliveries.size(); ++k) {
    order.emplace_back(a->deliveries[k].msg->body());
  }
  std::vector<std::string> want;
  for (size_t i = 0; i < 50; ++i) {
    if (i % 3 != 0) want.push_back("m" + std::to_string(i));
  }
  EXPECT_EQ(order, want);
}

TEST_F(ChannelTest, PauseStopsDelivery) {
  auto ch = make();
  auto a = consumer(*ch, 1, 10);
  ch->pause();
  EXPECT_TRUE(ch->paused());
  EXPECT_TRUE(ch->stats().paused);
  put(*ch, 0, 3);
  ch->consumer_ready(1);
  EXPECT_TRUE(a->deliveries.empty());
  EXPECT_EQ(ch->stats().depth, 3);
  ch->unpause();
  EXPECT_FALSE(ch->paused());
  EXPECT_EQ(a->deliveries.size(), 3u);
}

TEST_F(ChannelTest, PausedChannelHoldsRequeuedAndTimedOutMessages) {
  auto ch = make();
  auto a = consumer(*ch, 1, 10, kSecond);
  put(*ch, 0, 2);
  ch->pause();
  ASSERT_EQ(ch->requeue(1, a->deliveries[0].msg->id(), 0), std::nullopt);
  EXPECT_TRUE(ch->process_timers(coarse_now_ns() + kSecond));
  EXPECT_EQ(a->deliveries.size(), 2u);
  EXPECT_EQ(ch->stats().depth, 2);
  ch->unpause();
  EXPECT_EQ(a->deliveries.size(), 4u);
}

TEST_F(ChannelTest, EphemeralChannelDeletedWhenLastConsumerLeaves) {
  auto ch = make("c#ephemeral");
  EXPECT_TRUE(ch->ephemeral());
  put(*ch, 0, 3);
  auto a = consumer(*ch, 1, 1);
  auto b = consumer(*ch, 2, 0);
  ch->consumer_ready(1);
  ch->remove_consumer(2);
  EXPECT_TRUE(deleted.empty());
  EXPECT_FALSE(ch->exiting());
  ch->remove_consumer(1);
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0], ch.get());
  EXPECT_TRUE(ch->exiting());
  const ChannelStats s = ch->stats();
  EXPECT_EQ(s.depth, 0);  // queued and in-flight messages go with it
  EXPECT_EQ(s.in_flight_count, 0);
  EXPECT_EQ(s.client_count, 0u);
  auto c = std::make_shared<FakeConsumer>(3, 1);
  EXPECT_EQ(ch->add_consumer(c), Channel::AddResult::kExiting);
  put(*ch, 10, 1);
  EXPECT_EQ(ch->stats().depth, 0);
  ch->remove_consumer(1);
  EXPECT_EQ(deleted.size(), 1u);  // only once
}

TEST_F(ChannelTest, EphemeralChannelWithoutConsumersYetStays) {
  auto ch = make("c#ephemeral");
  put(*ch, 0, 2);
  ch->remove_consumer(42);  // unknown consumer
  EXPECT_TRUE(deleted.empty());
  EXPECT_EQ(ch->stats().depth, 2);
}

TEST_F(ChannelTest, EphemeralChannelDropsBeyondTheMemoryQueue) {
  ChannelLimits limits;
  limits.mem_queue_size = 2;
  auto ch = make("c#ephemeral", limits);
  EXPECT_EQ(ch->free_capacity(), INT64_MAX);
  put(*ch, 0, 5);
  EXPECT_EQ(ch->stats().depth, 2);
  EXPECT_EQ(ch->stats().message_count, 5u);
}

TEST_F(ChannelTest, FreeCapacityFollowsTheMemoryQueue) {
  ChannelLimits limits;
  limits.mem_queue_size = 3;
  auto ch = make("ch", limits);
  EXPECT_EQ(ch->free_capacity(), 3);
  put(*ch, 0, 2);
  EXPECT_EQ(ch->free_capacity(), 1);
  put(*ch, 2, 2);
  EXPECT_EQ(ch->free_capacity(), 0);
}

TEST_F(ChannelTest, DurableChannelKeepsMessagesWhenConsumersLeave) {
  auto ch = make();
  auto a = consumer(*ch, 1, 1, kSecond);
  put(*ch, 0, 3);
  ch->remove_consumer(1);
  EXPECT_TRUE(deleted.empty());
  EXPECT_FALSE(ch->exiting());
  ChannelStats s = ch->stats();
  EXPECT_EQ(s.depth, 2);
  EXPECT_EQ(s.in_flight_count, 1);  // stays in flight until it times out
  EXPECT_EQ(s.client_count, 0u);
  auto b = consumer(*ch, 2, 10);
  ch->consumer_ready(2);
  EXPECT_EQ(b->deliveries.size(), 2u);
  EXPECT_TRUE(ch->process_timers(coarse_now_ns() + kSecond));
  EXPECT_EQ(a->timed_out, 0);  // the removed consumer is not told
  ASSERT_EQ(b->deliveries.size(), 3u);
  EXPECT_EQ(b->deliveries[2].msg->body(), "m0");
  EXPECT_EQ(b->deliveries[2].attempts, 2);
  EXPECT_EQ(ch->stats().timeout_count, 1u);
}

TEST_F(ChannelTest, MaxChannelConsumers) {
  ChannelLimits limits;
  limits.max_channel_consumers = 2;
  auto ch = make("ch", limits);
  auto a = consumer(*ch, 1, 0);
  auto b = consumer(*ch, 2, 0);
  auto c = std::make_shared<FakeConsumer>(3, 0);
  EXPECT_EQ(ch->add_consumer(c), Channel::AddResult::kTooMany);
  EXPECT_EQ(ch->add_consumer(a), Channel::AddResult::kOk);  // already there: no duplicate
  EXPECT_EQ(ch->stats().client_count, 2u);
  ch->remove_consumer(2);
  EXPECT_EQ(ch->add_consumer(c), Channel::AddResult::kOk);
}

TEST_F(ChannelTest, UnlimitedConsumersByDefault) {
  auto ch = make();
  std::vector<std::shared_ptr<FakeConsumer>> all;
  for (int64_t i = 0; i < 100; ++i) all.push_back(consumer(*ch, i, 0));
  EXPECT_EQ(ch->stats().client_count, 100u);
}

TEST_F(ChannelTest, EmptyDropsEverythingAndResetsConsumers) {
  auto ch = make();
  auto a = consumer(*ch, 1, 2);
  put(*ch, 0, 5);
  put(*ch, 5, 1, 10 * kSecond);
  ASSERT_EQ(ch->requeue(1, a->deliveries[0].msg->id(), 10 * kSecond), std::nullopt);
  ChannelStats s = ch->stats();
  EXPECT_EQ(s.in_flight_count, 2);
  EXPECT_EQ(s.deferred_count, 2);
  EXPECT_EQ(s.depth, 2);
  ch->empty();
  s = ch->stats();
  EXPECT_EQ(s.depth, 0);
  EXPECT_EQ(s.in_flight_count, 0);
  EXPECT_EQ(s.deferred_count, 0);
  EXPECT_EQ(s.client_count, 1u);
  EXPECT_EQ(a->resets, 1);
  EXPECT_EQ(a->in_flight, 0);
  EXPECT_EQ(ch->finish(1, a->last_id()), "ID not in flight");
  EXPECT_FALSE(ch->process_timers(coarse_now_ns() + 100 * kSecond));
  put(*ch, 100, 1);
  EXPECT_EQ(a->deliveries.back().msg->body(), "m100");
}

TEST_F(ChannelTest, CloseRefusesEverything) {
  auto ch = make();
  auto a = consumer(*ch, 1, 10, kSecond);
  put(*ch, 0, 1);
  ch->close();
  EXPECT_TRUE(ch->exiting());
  EXPECT_TRUE(deleted.empty());  // close is a deletion by the owner, not an ephemeral one
  EXPECT_EQ(ch->stats().client_count, 0u);
  put(*ch, 1, 1);
  EXPECT_EQ(ch->stats().depth, 0);
  EXPECT_EQ(ch->stats().message_count, 1u);
  EXPECT_EQ(a->deliveries.size(), 1u);
  EXPECT_EQ(ch->add_consumer(a), Channel::AddResult::kExiting);
  EXPECT_EQ(ch->finish(1, a->last_id()), "ID not in flight");
  EXPECT_EQ(ch->requeue(1, a->last_id(), 0), "ID not in flight");
  EXPECT_FALSE(ch->process_timers(coarse_now_ns() + 100 * kSecond));
}

TEST_F(ChannelTest, SamplingDeliversAboutRatePlusOnePercentAndDropsTheRest) {
  auto ch = make();
  auto a = consumer(*ch, 1, 100000);
  a->rate = 49;  // delivers with probability 50 %
  put(*ch, 0, 2000);
  const auto delivered = static_cast<int64_t>(a->deliveries.size());
  EXPECT_GT(delivered, 850);
  EXPECT_LT(delivered, 1150);
  const ChannelStats s = ch->stats();
  EXPECT_EQ(s.depth, 0);  // sampled-out messages are consumed, not requeued
  EXPECT_EQ(s.in_flight_count, delivered);
}

TEST_F(ChannelTest, AttemptsAccumulateOverRequeuesAndTimeouts) {
  auto ch = make();
  auto a = consumer(*ch, 1, 1, kSecond);
  put(*ch, 0, 1);
  ASSERT_EQ(ch->requeue(1, a->last_id(), 0), std::nullopt);
  ASSERT_TRUE(ch->process_timers(coarse_now_ns() + kSecond));
  ASSERT_EQ(ch->requeue(1, a->last_id(), 0), std::nullopt);
  ASSERT_EQ(a->deliveries.size(), 4u);
  EXPECT_EQ(a->deliveries[3].attempts, 4);
}

TEST_F(ChannelTest, MessageIsSharedNotCopied) {
  auto ch = make();
  auto a = consumer(*ch, 1, 10);
  const MessagePtr m = make_msg(5, "shared body");
  put(*ch, {m});
  ASSERT_EQ(a->deliveries.size(), 1u);
  EXPECT_EQ(a->deliveries[0].msg.get(), m.get());
  EXPECT_EQ(a->deliveries[0].msg->timestamp_ns(), 1005);
  EXPECT_EQ(protocol::id_view(a->last_id()), "0000000000000005");
}

// The timer loop visits only listed channels (ChannelTimerSet): a channel lists itself once
// when it gets an in-flight or deferred message and leaves when it has neither.
TEST_F(ChannelTest, ListedForTheTimerLoopOnlyWhileItHasDeadlines) {
  ChannelTimerSet timers;
  ChannelLimits limits;
  limits.timers = &timers;
  auto ch = std::make_shared<Channel>("topic", "ch", limits, [](Channel&) {});
  std::vector<std::shared_ptr<Channel>> listed;
  auto run_tick = [&](int64_t now) {  // what Nsqd::process_timers does
    std::vector<std::shared_ptr<Channel>> keep;
    timers.take(listed);
    for (auto& c : listed) {
      if (c->run_timers(now)) keep.push_back(c);
    }
    timers.put_back(keep);
  };
  put(*ch, 0, 2);
  EXPECT_EQ(timers.size(), 0u);  // queued only: nothing to time
  auto a = consumer(*ch, 1, 1, kSecond);
  ch->consumer_ready(1);
  EXPECT_EQ(timers.size(), 1u);
  a->rdy = 2;
  ch->consumer_ready(1);
  EXPECT_EQ(timers.size(), 1u);  // two in flight, listed once
  run_tick(coarse_now_ns());
  EXPECT_EQ(timers.size(), 1u);  // still in flight
  // Timed out, requeued and delivered again within one tick: still listed.
  run_tick(coarse_now_ns() + 2 * kSecond);
  ASSERT_EQ(a->deliveries.size(), 4u);
  EXPECT_EQ(timers.size(), 1u);
  EXPECT_EQ(ch->finish(1, a->deliveries[2].msg->id()), std::nullopt);
  EXPECT_EQ(ch->requeue(1, a->deliveries[3].msg->id(), kSecond), std::nullopt);
  run_tick(coarse_now_ns());
  EXPECT_EQ(timers.size(), 1u);  // deferred
  run_tick(coarse_now_ns() + 2 * kSecond);
  ASSERT_EQ(a->deliveries.size(), 5u);  // due, delivered again
  EXPECT_EQ(ch->finish(1, a->last_id()), std::nullopt);
  run_tick(coarse_now_ns());
  EXPECT_EQ(timers.size(), 0u);  // nothing in flight or deferred: unlisted
  put(*ch, 10, 1);
  EXPECT_EQ(timers.size(), 1u);  // listed again by the next delivery
  ch->close();
  run_tick(coarse_now_ns());
  EXPECT_EQ(timers.size(), 0u);  // a closed channel leaves the set
}

}  // namespace
}  // namespace nsq::nsqd
