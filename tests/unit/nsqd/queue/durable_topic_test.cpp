// -durable topics and channels (docs/persistence.md, "Durable mode"): a channel is a cursor over
// its topic's log plus its ack journal. After the process goes away without a shutdown (as
// after kill -9), a new Topic on the same directory gives each channel back every offset it
// did not FIN, deferred ones still deferred; the log drops segments every channel has passed.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "nsqd/queue/topic.hpp"
#include "support/durable_topic_env.hpp"
#include "support/fake_consumer.hpp"

namespace nsq::nsqd {
namespace {

constexpr int64_t kSecond = 1000LL * 1000 * 1000;

using test_support::FakeConsumer;

class DurableTopicTest : public test_support::DurableTopicEnv {
 protected:
  // Publishes and waits for the commit (OK) of the batch.
  static void pub_durably(Topic& t, std::vector<std::string_view> bodies, int64_t defer = 0) {
    std::promise<std::string> done;
    auto f = done.get_future();
    ASSERT_EQ(t.publish(bodies, defer, [&done](const std::string& e) { done.set_value(e); }), "");
    ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_EQ(f.get(), "");
  }
  static std::shared_ptr<FakeConsumer> take(Channel& ch, int64_t id) {
    auto c = std::make_shared<FakeConsumer>(id, 1000);
    EXPECT_EQ(ch.add_consumer(c), Channel::AddResult::kOk);
    ch.consumer_ready(id);
    return c;
  }
};

TEST_F(DurableTopicTest, ACrashGivesBackEveryUnfinishedOffsetInFlightIncluded) {
  auto t = open_topic();
  auto ch = t->get_channel("c");
  pub_durably(*t, {"a", "b", "c", "d", "e", "f"});
  auto c = take(*ch, 1);
  ASSERT_EQ(c->got.size(), 6u);
  EXPECT_EQ(c->got[0]->log_offset(), 0u);
  EXPECT_EQ(c->got[5]->log_offset(), 5u);
  EXPECT_FALSE(ch->finish(1, c->got[0]->id()));
  EXPECT_FALSE(ch->finish(1, c->got[1]->id()));
  EXPECT_FALSE(ch->finish(1, c->got[3]->id()));
  EXPECT_FALSE(ch->requeue(1, c->got[4]->id(), 3600 * kSecond));  // deferred for an hour
  wait_floor(*ch, 2);
  // "d" (3) is FINed above the floor; wait for it as well (the journal has it once a
  // later publish's cycle ran: publish one and wait).
  pub_durably(*t, {"g"});
  crash(t);

  t = open_topic();
  ch = t->get_channel("c");
  ChannelStats s = ch->stats();
  EXPECT_EQ(s.depth, 3);  // c (2), f (5) in flight at the crash, g (6) never delivered
  EXPECT_EQ(s.deferred_count, 1);
  auto again = take(*ch, 2);
  std::vector<std::string> bodies;
  for (const auto& m : again->got) bodies.emplace_back(m->body());
  EXPECT_EQ(bodies, (std::vector<std::string>{"c", "f", "g"}));
  EXPECT_EQ(again->got[0]->log_offset(), 2u);
}

TEST_F(DurableTopicTest, TheFirstChannelGetsWhatNoChannelTookALaterOneStartsAtTheEnd) {
  auto t = open_topic();
  pub_durably(*t, {"early1", "early2"});
  EXPECT_EQ(t->stats().depth, 2);  // the log holds them for the first channel
  auto first = t->get_channel("first");
  EXPECT_EQ(first->stats().depth, 2);
  auto later = t->get_channel("later");
  EXPECT_EQ(later->stats().depth, 0);
  pub_durably(*t, {"x"});
  EXPECT_EQ(first->stats().depth, 3);
  EXPECT_EQ(later->stats().depth, 1);
  crash(t);
  t = open_topic();
  EXPECT_EQ(t->get_channel("first")->stats().depth, 3);
  EXPECT_EQ(t->get_channel("later")->stats().depth, 1);
}

TEST_F(DurableTopicTest, EmptyAndDeleteAreRemembered) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  auto b = t->get_channel("b");
  pub_durably(*t, {"1", "2", "3"});
  a->empty();
  EXPECT_TRUE(t->delete_channel("b"));
  pub_durably(*t, {"4"});
  wait_floor(*a, 3);
  crash(t);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/t.log/b.acks"));
  t = open_topic();
  EXPECT_EQ(t->get_channel("a")->stats().depth, 1);  // only "4"
}

TEST_F(DurableTopicTest, SegmentsAreTrimmedOnceEveryChannelHasPassedThem) {
  auto t = open_topic(/*segment_bytes=*/1);  // every commit cycle starts a new segment
  auto a = t->get_channel("a");
  auto b = t->get_channel("b");
  for (const char* body : {"1", "2", "3", "4"}) pub_durably(*t, {body});
  const size_t before = t->log()->segment_count();
  ASSERT_GE(before, 4u);
  auto ca = take(*a, 1);
  for (const auto& m : ca->got) EXPECT_FALSE(a->finish(1, m->id()));
  wait_floor(*a, 4);
  pub_durably(*t, {"5"});
  EXPECT_EQ(t->log()->start_offset(), 0u);  // b has taken nothing: nothing goes
  auto cb = take(*b, 2);
  for (const auto& m : cb->got) EXPECT_FALSE(b->finish(2, m->id()));
  wait_floor(*b, 5);
  pub_durably(*t, {"6"});  // a cycle after both floors are durable
  // The trim runs on the commit thread right after the sync that answered the publish.
  for (int i = 0; i < 500 && t->log()->start_offset() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(t->log()->start_offset(), 4u);
  EXPECT_LT(t->log()->segment_count(), before);
  crash(t);
  t = open_topic(1);
  EXPECT_EQ(t->get_channel("a")->stats().depth, 2);  // "5" and "6" (never FINed on a)
  EXPECT_EQ(t->get_channel("b")->stats().depth, 1);  // "6"
}

TEST_F(DurableTopicTest, PastTheMemoryBoundMessagesStayInTheLogAndComeBackInOrder) {
  auto t = open_topic(64 * 1024 * 1024, /*mem_queue_size=*/3);
  auto ch = t->get_channel("c");
  pub_durably(*t, {"0", "1", "2", "3"});
  pub_durably(*t, {"4"}, 3600 * kSecond);  // DPUB: the deferred heap, skipped by the refill
  pub_durably(*t, {"5", "6"});
  ChannelStats s = ch->stats();
  EXPECT_EQ(s.depth, 6);
  EXPECT_EQ(s.backend_depth, 3);  // 3, 5, 6: only in the log
  EXPECT_EQ(s.deferred_count, 1);
  auto c = take(*ch, 1);
  wait_in_flight(*ch, 6);
  EXPECT_EQ(c->bodies(), (std::vector<std::string>{"0", "1", "2", "3", "5", "6"}));
  EXPECT_EQ(ch->stats().depth, 0);
  pub_durably(*t, {"7"});  // no tail left: straight to memory
  wait_in_flight(*ch, 7);
  EXPECT_EQ(c->got.size(), 7u);
}

TEST_F(DurableTopicTest, ARecoveredBacklogKeepsOnlyTheMemoryBoundInMemory) {
  auto t = open_topic(64 * 1024 * 1024, /*mem_queue_size=*/100);
  auto ch = t->get_channel("c");
  pub_durably(*t, {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
  auto c = take(*ch, 1);
  ASSERT_EQ(c->got.size(), 10u);
  EXPECT_FALSE(ch->finish(1, c->got[5]->id()));
  EXPECT_FALSE(ch->finish(1, c->got[7]->id()));
  EXPECT_FALSE(ch->requeue(1, c->got[8]->id(), 3600 * kSecond));
  crash(t);  // the commit thread's last cycle wrote the two ACKs and the DEFER

  t = open_topic(64 * 1024 * 1024, /*mem_queue_size=*/3);
  ch = t->get_channel("c");
  ChannelStats s = ch->stats();
  EXPECT_EQ(s.depth, 7);          // 0-4, 6, 9
  EXPECT_EQ(s.backend_depth, 4);  // 3, 4, 6, 9 wait in the log
  EXPECT_EQ(s.deferred_count, 1);
  auto again = take(*ch, 2);
  wait_in_flight(*ch, 7);
  EXPECT_EQ(again->bodies(), (std::vector<std::string>{"0", "1", "2", "3", "4", "6", "9"}));
  EXPECT_EQ(ch->stats().backend_depth, 0);
}

TEST_F(DurableTopicTest, MemQueueSizeZeroStillDeliversFromTheLog) {
  auto t = open_topic(64 * 1024 * 1024, /*mem_queue_size=*/0);
  auto ch = t->get_channel("c");
  pub_durably(*t, {"a", "b", "c"});
  EXPECT_EQ(ch->stats().backend_depth, 3);
  auto c = take(*ch, 1);
  wait_in_flight(*ch, 3);
  EXPECT_EQ(c->bodies(), (std::vector<std::string>{"a", "b", "c"}));
  ch->empty();  // drops the 3 in flight
  pub_durably(*t, {"d"});
  wait_in_flight(*ch, 1);
  EXPECT_EQ(c->bodies().back(), "d");
}

}  // namespace
}  // namespace nsq::nsqd
