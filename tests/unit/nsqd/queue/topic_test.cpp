// Topic: fan-out of every message to every channel (one shared message: same id, timestamp and
// body), the backlog kept before the first channel exists or while paused, channel
// creation/deletion, and #ephemeral topics (the reference's nsqd/topic.go).
#include "nsqd/queue/topic.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/fake_consumer.hpp"

namespace nsq::nsqd {
namespace {

constexpr int64_t kSecond = 1000LL * 1000 * 1000;

using test_support::FakeConsumer;

class TopicTest : public ::testing::Test {
 protected:
  std::shared_ptr<Topic> make(std::string name = "t", ChannelLimits limits = {}) {
    return std::make_shared<Topic>(std::move(name), limits, guids_,
                                   [this](Topic& t) { emptied.push_back(&t); });
  }
  static std::string pub(Topic& t, std::vector<std::string_view> bodies, int64_t defer_ns = 0) {
    return t.publish(bodies, defer_ns);
  }
  std::shared_ptr<FakeConsumer> subscribe(Channel& ch, int64_t id, int64_t rdy = 1000) {
    auto c = std::make_shared<FakeConsumer>(id, rdy);
    EXPECT_EQ(ch.add_consumer(c), Channel::AddResult::kOk);
    ch.consumer_ready(id);
    return c;
  }

  GuidFactory guids_{1};
  std::vector<Topic*> emptied;
};

TEST_F(TopicTest, KeepsABacklogUntilTheFirstChannel) {
  auto t = make();
  EXPECT_EQ(pub(*t, {"a", "bb"}), "");
  EXPECT_EQ(pub(*t, {"ccc"}), "");
  TopicStats s = t->stats();
  EXPECT_EQ(s.depth, 3);
  EXPECT_EQ(s.message_count, 3u);
  EXPECT_EQ(s.message_bytes, 6u);
  EXPECT_TRUE(s.channels.empty());

  auto ch = t->get_channel("c");
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(t->stats().depth, 0);
  EXPECT_EQ(ch->stats().depth, 3);
  EXPECT_EQ(ch->stats().message_count, 3u);
  auto c = subscribe(*ch, 1);
  EXPECT_EQ(c->bodies(), (std::vector<std::string>{"a", "bb", "ccc"}));
  // A second channel only sees what comes after it.
  auto late = t->get_channel("late");
  EXPECT_EQ(late->stats().depth, 0);
}

TEST_F(TopicTest, EveryChannelGetsEveryMessageSharedNotCopied) {
  auto t = make();
  auto c1 = subscribe(*t->get_channel("one"), 1);
  auto c2 = subscribe(*t->get_channel("two"), 2);
  auto c3 = subscribe(*t->get_channel("three#ephemeral"), 3);
  const int64_t before = wall_now_ns();
  ASSERT_EQ(pub(*t, {"x", "y", "z"}), "");
  ASSERT_EQ(pub(*t, {"w"}), "");
  const int64_t after = wall_now_ns();
  const std::vector<std::string> want = {"x", "y", "z", "w"};
  EXPECT_EQ(c1->bodies(), want);
  EXPECT_EQ(c2->bodies(), want);
  EXPECT_EQ(c3->bodies(), want);
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(c1->got[i].get(), c2->got[i].get());
    EXPECT_EQ(c1->got[i].get(), c3->got[i].get());
    EXPECT_GE(c1->got[i]->timestamp_ns(), before);
    EXPECT_LE(c1->got[i]->timestamp_ns(), after);
  }
  // One MPUB shares one timestamp.
  EXPECT_EQ(c1->got[0]->timestamp_ns(), c1->got[2]->timestamp_ns());
  for (const auto& ch : t->channels()) EXPECT_EQ(ch->stats().message_count, 4u);
}

TEST_F(TopicTest, IdsAreUniqueAndIncreasing) {
  auto t = make();
  auto c = subscribe(*t->get_channel("c"), 1, 100000);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(pub(*t, {"a", "b", "c"}), "");
    ASSERT_EQ(pub(*t, {"d"}), "");
  }
  ASSERT_EQ(c->got.size(), 200u);
  for (size_t i = 1; i < c->got.size(); ++i) {
    EXPECT_LT(protocol::id_view(c->got[i - 1]->id()), protocol::id_view(c->got[i]->id()));
  }
}

TEST_F(TopicTest, DeferredPublishIsDeferredInEveryChannel) {
  auto t = make();
  auto a = t->get_channel("a");
  auto b = t->get_channel("b");
  ASSERT_EQ(pub(*t, {"later"}, 2 * kSecond), "");
  for (const auto& ch : {a, b}) {
    const ChannelStats s = ch->stats();
    EXPECT_EQ(s.deferred_count, 1);
    EXPECT_EQ(s.depth, 0);
    EXPECT_EQ(s.message_count, 1u);
  }
  EXPECT_TRUE(a->process_timers(coarse_now_ns() + 2 * kSecond));
  EXPECT_EQ(a->stats().depth, 1);
  EXPECT_EQ(b->stats().deferred_count, 1);
}

TEST_F(TopicTest, DeferredBacklogStaysDeferred) {
  auto t = make();
  ASSERT_EQ(pub(*t, {"d"}, 2 * kSecond), "");
  ASSERT_EQ(pub(*t, {"n"}), "");
  auto ch = t->get_channel("c");
  EXPECT_EQ(ch->stats().deferred_count, 1);
  EXPECT_EQ(ch->stats().depth, 1);
}

// The backlog is handed over in runs that share a defer: order within and across runs is
// kept, deferred messages between runs stay deferred, and a backlog longer than one run
// (4096) arrives whole.
TEST_F(TopicTest, LongMixedBacklogKeepsItsOrder) {
  ChannelLimits limits;
  limits.mem_queue_size = 100000;
  auto t = make("t", limits);
  std::vector<std::string> bodies;
  for (int i = 0; i < 10000; ++i) bodies.push_back(std::to_string(i));
  const std::vector<std::string_view> first(bodies.begin(), bodies.begin() + 5000);
  const std::vector<std::string_view> second(bodies.begin() + 5000, bodies.end());
  ASSERT_EQ(t->publish(first, 0), "");
  ASSERT_EQ(pub(*t, {"d1", "d2"}, 2 * kSecond), "");
  ASSERT_EQ(t->publish(second, 0), "");

  auto a = t->get_channel("a");
  auto b = t->get_channel("b");  // created after the flush: sees none of the backlog
  EXPECT_EQ(t->stats().depth, 0);
  EXPECT_EQ(a->stats().depth, 10000);
  EXPECT_EQ(a->stats().deferred_count, 2);
  EXPECT_EQ(a->stats().message_count, 10002u);
  EXPECT_EQ(b->stats().depth, 0);
  auto c = subscribe(*a, 1, 20000);
  EXPECT_EQ(c->bodies(), bodies);
}

TEST_F(TopicTest, PauseHoldsMessagesInTheTopic) {
  auto t = make();
  auto ch = t->get_channel("c");
  t->pause();
  EXPECT_TRUE(t->paused());
  ASSERT_EQ(pub(*t, {"a", "b"}), "");
  EXPECT_EQ(t->stats().depth, 2);
  EXPECT_TRUE(t->stats().paused);
  EXPECT_EQ(ch->stats().depth, 0);
  // New channels do not drain a paused topic either.
  auto other = t->get_channel("other");
  EXPECT_EQ(other->stats().depth, 0);
  t->unpause();
  EXPECT_FALSE(t->paused());
  EXPECT_EQ(t->stats().depth, 0);
  EXPECT_EQ(ch->stats().depth, 2);
  EXPECT_EQ(other->stats().depth, 2);
}

TEST_F(TopicTest, PausedChannelStillReceives) {
  auto t = make();
  auto ch = t->get_channel("c");
  auto c = subscribe(*ch, 1);
  ch->pause();
  ASSERT_EQ(pub(*t, {"a"}), "");
  EXPECT_EQ(ch->stats().depth, 1);
  EXPECT_TRUE(c->got.empty());
  ch->unpause();
  EXPECT_EQ(c->bodies(), (std::vector<std::string>{"a"}));
}

TEST_F(TopicTest, GetChannelIsIdempotent) {
  auto t = make();
  auto a = t->get_channel("a");
  EXPECT_EQ(t->get_channel("a"), a);
  EXPECT_EQ(t->find_channel("a"), a);
  EXPECT_EQ(t->find_channel("nope"), nullptr);
  auto b = t->get_channel("b");
  EXPECT_EQ(t->channels(), (std::vector<std::shared_ptr<Channel>>{a, b}));
  EXPECT_EQ(a->topic_name(), "t");
  const TopicStats s = t->stats();
  ASSERT_EQ(s.channels.size(), 2u);
  EXPECT_EQ(s.channels[0].name, "a");
  EXPECT_EQ(s.channels[1].name, "b");
}

TEST_F(TopicTest, DeletingTheLastChannelKeepsTheTopicAccumulating) {
  auto t = make();
  auto ch = t->get_channel("c");
  EXPECT_FALSE(t->delete_channel("nope"));
  auto other = t->get_channel("other");
  EXPECT_FALSE(t->delete_channel("c", other.get()));  // only if it is that channel
  EXPECT_TRUE(t->delete_channel("other", other.get()));
  EXPECT_TRUE(t->delete_channel("c"));
  EXPECT_TRUE(ch->exiting());
  EXPECT_EQ(t->find_channel("c"), nullptr);
  EXPECT_FALSE(t->exiting());
  EXPECT_TRUE(emptied.empty());
  ASSERT_EQ(pub(*t, {"x"}), "");
  EXPECT_EQ(t->stats().depth, 1);
  EXPECT_EQ(ch->stats().message_count, 0u);
}

TEST_F(TopicTest, EphemeralChannelOnADurableTopicGoesAway) {
  auto t = make();
  auto ch = t->get_channel("c#ephemeral");
  auto c = subscribe(*ch, 1);
  ch->remove_consumer(1);
  EXPECT_TRUE(ch->exiting());
  EXPECT_EQ(t->find_channel("c#ephemeral"), nullptr);
  EXPECT_TRUE(emptied.empty());
  EXPECT_FALSE(t->exiting());
  auto fresh = t->get_channel("c#ephemeral");
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(fresh, ch);
  EXPECT_FALSE(fresh->exiting());
}

TEST_F(TopicTest, EphemeralTopicDeletedWithItsLastChannel) {
  auto t = make("t#ephemeral");
  EXPECT_TRUE(t->ephemeral());
  auto a = t->get_channel("a#ephemeral");
  auto b = t->get_channel("b#ephemeral");
  auto ca = subscribe(*a, 1);
  auto cb = subscribe(*b, 2);
  ASSERT_EQ(pub(*t, {"m"}), "");
  a->remove_consumer(1);
  EXPECT_TRUE(emptied.empty());
  EXPECT_FALSE(t->exiting());
  b->remove_consumer(2);  // channel callback -> Topic::delete_channel -> topic callback
  ASSERT_EQ(emptied.size(), 1u);
  EXPECT_EQ(emptied[0], t.get());
  EXPECT_TRUE(t->exiting());
  EXPECT_EQ(pub(*t, {"x"}), "exiting");
  EXPECT_EQ(t->get_channel("c"), nullptr);
}

TEST_F(TopicTest, EphemeralTopicWithoutChannelsStays) {
  auto t = make("t#ephemeral");
  ASSERT_EQ(pub(*t, {"a"}), "");
  EXPECT_FALSE(t->exiting());
  EXPECT_EQ(t->stats().depth, 1);
  auto durable = t->get_channel("durable");
  EXPECT_TRUE(t->delete_channel("durable"));  // an explicit delete of the last one counts too
  EXPECT_EQ(emptied.size(), 1u);
  EXPECT_TRUE(t->exiting());
}

TEST_F(TopicTest, ExitingChannelIsReplaced) {
  auto t = make();
  auto ch = t->get_channel("c");
  ch->close();  // closed but not yet removed from the topic
  auto fresh = t->get_channel("c");
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(fresh, ch);
  EXPECT_EQ(t->channels().size(), 1u);
  ASSERT_EQ(pub(*t, {"x"}), "");
  EXPECT_EQ(fresh->stats().depth, 1);
}

TEST_F(TopicTest, MemoryBoundRefusesRatherThanDrops) {
  ChannelLimits limits;
  limits.mem_queue_size = 3;
  auto t = make("t", limits);
  EXPECT_EQ(pub(*t, {"a", "b"}), "");
  EXPECT_EQ(pub(*t, {"c", "d"}), "queue full (mem-queue-size reached)");  // all or nothing
  EXPECT_EQ(pub(*t, {"c"}), "");
  EXPECT_EQ(pub(*t, {"d"}), "queue full (mem-queue-size reached)");
  EXPECT_EQ(t->stats().depth, 3);
  EXPECT_EQ(t->stats().message_count, 3u);
  // With channels, the fullest channel decides.
  auto ch = t->get_channel("c");
  EXPECT_EQ(ch->stats().depth, 3);
  EXPECT_EQ(pub(*t, {"e"}), "queue full (mem-queue-size reached)");
  auto c = subscribe(*ch, 1, 2);
  EXPECT_EQ(pub(*t, {"e", "f"}), "");
}

TEST_F(TopicTest, EphemeralTopicDropsBeyondTheMemoryBound) {
  ChannelLimits limits;
  limits.mem_queue_size = 2;
  auto t = make("t#ephemeral", limits);
  EXPECT_EQ(pub(*t, {"a", "b", "c", "d"}), "");
  EXPECT_EQ(t->stats().depth, 2);
  EXPECT_EQ(t->stats().message_count, 4u);
}

TEST_F(TopicTest, EmptyDropsTheBacklog) {
  auto t = make();
  ASSERT_EQ(pub(*t, {"a", "b"}), "");
  t->empty();
  EXPECT_EQ(t->stats().depth, 0);
  auto ch = t->get_channel("c");
  EXPECT_EQ(ch->stats().depth, 0);
}

TEST_F(TopicTest, CloseClosesEveryChannel) {
  auto t = make();
  auto a = t->get_channel("a");
  auto b = t->get_channel("b");
  t->close();
  EXPECT_TRUE(t->exiting());
  EXPECT_TRUE(a->exiting());
  EXPECT_TRUE(b->exiting());
  EXPECT_TRUE(t->channels().empty());
  EXPECT_EQ(pub(*t, {"x"}), "exiting");
  EXPECT_EQ(t->get_channel("c"), nullptr);
  EXPECT_TRUE(emptied.empty());
}

}  // namespace
}  // namespace nsq::nsqd
