// A paused -durable topic with channels (docs/persistence.md, "Durable mode", "Paused topics"):
// at most --mem-queue-size published messages wait in its memory (DPUBs aside); the rest stay
// only in the topic log, and at unpause each channel reads them back, in order, as the end of
// its log tail. Order, no loss and no duplicate per channel, through channel creation and
// deletion while paused, empty, ephemeral and journal-less channels, the log trim and crashes.
#include <gtest/gtest.h>

#include <algorithm>
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
constexpr int64_t kMemQueueSize = 10;

using test_support::FakeConsumer;

class DurablePausedTopicTest : public test_support::DurableTopicEnv {
 protected:
  std::shared_ptr<Topic> open_topic(int64_t segment_bytes = 64 * 1024 * 1024) {
    return DurableTopicEnv::open_topic(segment_bytes, kMemQueueSize);
  }

  // Publishes "m<from>" .. "m<to - 1>" in MPUBs of `per_batch` and waits for each OK.
  static void publish_range(Topic& t, int from, int to, int per_batch = 100, int64_t defer_ns = 0) {
    for (int i = from; i < to; i += per_batch) {
      std::vector<std::string> bodies;
      for (int k = i; k < std::min(to, i + per_batch); ++k) {
        bodies.push_back("m" + std::to_string(k));
      }
      std::vector<std::string_view> views(bodies.begin(), bodies.end());
      std::promise<std::string> done;
      auto f = done.get_future();
      ASSERT_EQ(t.publish(views, defer_ns, [&done](const std::string& e) { done.set_value(e); }),
                "");
      ASSERT_EQ(f.wait_for(std::chrono::seconds(5)), std::future_status::ready);
      ASSERT_EQ(f.get(), "");
    }
  }
  static std::vector<std::string> expected(int from, int to) {
    std::vector<std::string> out;
    for (int k = from; k < to; ++k) out.push_back("m" + std::to_string(k));
    return out;
  }
  // What the topic holds in memory: its depth less what only the log holds.
  static int64_t in_memory(const Topic& t) {
    const TopicStats s = t.stats();
    return s.depth - s.backend_depth;
  }
  // Subscribes a consumer that takes everything and waits until `n` messages are in flight;
  // returns it (its bodies are the delivery order).
  static std::shared_ptr<FakeConsumer> drain(Channel& ch, int64_t id, int64_t n) {
    auto c = std::make_shared<FakeConsumer>(id, n + 100);
    EXPECT_EQ(ch.add_consumer(c), Channel::AddResult::kOk);
    ch.consumer_ready(id);
    wait_in_flight(ch, n);
    return c;
  }
};

TEST_F(DurablePausedTopicTest, ThousandsPublishedWhilePausedWaitInTheLogAndComeBackInOrder) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  auto b = t->get_channel("b");
  publish_range(*t, 0, 5);  // before the pause: straight to the channels
  t->pause();
  for (int i = 5; i < 3005; i += 100) {
    publish_range(*t, i, i + 100);
    EXPECT_LE(in_memory(*t), kMemQueueSize);
  }
  publish_range(*t, 3005, 3007, 1, 3600 * kSecond);  // 2 DPUBs: pending_, past the bound
  TopicStats s = t->stats();
  EXPECT_EQ(s.depth, 3002);
  EXPECT_EQ(s.backend_depth, 2990);
  EXPECT_EQ(in_memory(*t), kMemQueueSize + 2);
  EXPECT_EQ(a->stats().depth, 5);  // channel depths: only what they got before the pause
  EXPECT_EQ(b->stats().depth, 5);

  t->unpause();
  EXPECT_EQ(t->stats().depth, 0);
  EXPECT_EQ(a->stats().depth, 3005);
  EXPECT_EQ(a->stats().deferred_count, 2);
  publish_range(*t, 3007, 3010);  // after the unpause: behind the backlog
  for (auto* ch : {a.get(), b.get()}) {
    auto c = drain(*ch, 1, 3008);
    EXPECT_EQ(c->bodies(), [] {
      auto e = expected(0, 3005);
      for (auto& x : expected(3007, 3010)) e.push_back(x);
      return e;
    }());
  }
}

TEST_F(DurablePausedTopicTest, MemQueueSizeIsAlsoTheBoundOfAnMpubLargerThanIt) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  t->pause();
  publish_range(*t, 0, 1000, 1000);  // one MPUB of 1,000
  EXPECT_EQ(in_memory(*t), kMemQueueSize);
  EXPECT_EQ(t->stats().depth, 1000);
  t->unpause();
  EXPECT_EQ(drain(*a, 1, 1000)->bodies(), expected(0, 1000));
}

TEST_F(DurablePausedTopicTest, AtMemQueueSizeZeroNothingButDpubsWaitsInMemory) {
  auto t = DurableTopicEnv::open_topic(64 * 1024 * 1024, /*mem_queue_size=*/0);
  auto a = t->get_channel("a");
  t->pause();
  publish_range(*t, 0, 50);
  publish_range(*t, 50, 51, 1, 3600 * kSecond);
  publish_range(*t, 51, 100);
  EXPECT_EQ(in_memory(*t), 1);  // the DPUB
  EXPECT_EQ(t->stats().depth, 100);
  t->unpause();
  EXPECT_EQ(a->stats().deferred_count, 1);
  auto want = expected(0, 50);
  for (auto& x : expected(51, 100)) want.push_back(x);
  EXPECT_EQ(drain(*a, 1, 99)->bodies(), want);
}

TEST_F(DurablePausedTopicTest, PauseCyclesWithNobodyConsumingKeepOneTailInOrder) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  for (int cycle = 0; cycle < 3; ++cycle) {
    t->pause();
    publish_range(*t, cycle * 200, cycle * 200 + 100);
    t->unpause();
    publish_range(*t, cycle * 200 + 100, cycle * 200 + 200);
    EXPECT_EQ(a->stats().depth, (cycle + 1) * 200);
    EXPECT_EQ(a->stats().backend_depth, (cycle + 1) * 200 - kMemQueueSize);
  }
  EXPECT_EQ(drain(*a, 1, 600)->bodies(), expected(0, 600));
}

TEST_F(DurablePausedTopicTest, DeletingAPausedTopicDropsItsBacklogWithItsLog) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  t->pause();
  publish_range(*t, 0, 100);
  t->close();
  EXPECT_EQ(t->stats().depth, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/t.log"));
  crash(t);
  t = open_topic();  // created again under the same name: empty
  EXPECT_EQ(t->stats().depth, 0);
  EXPECT_EQ(t->get_channel("a")->stats().depth, 0);
}

TEST_F(DurablePausedTopicTest, AChannelCreatedWhilePausedGetsTheBacklogADeletedOneNothing) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  auto b = t->get_channel("b");
  t->pause();
  publish_range(*t, 0, 50);
  auto c = t->get_channel("c");  // as every channel of the reference's paused topic
  EXPECT_EQ(c->stats().depth, 0);
  EXPECT_TRUE(t->delete_channel("b"));
  publish_range(*t, 50, 100);
  EXPECT_EQ(t->stats().depth, 100);
  t->unpause();
  EXPECT_EQ(drain(*a, 1, 100)->bodies(), expected(0, 100));
  EXPECT_EQ(drain(*c, 2, 100)->bodies(), expected(0, 100));
  EXPECT_EQ(b->stats().depth, 0);
}

TEST_F(DurablePausedTopicTest, WithEveryChannelDeletedTheBacklogWaitsForTheNextOneAndIsNotTrimmed) {
  auto t = open_topic(/*segment_bytes=*/1);  // every commit cycle starts a new segment
  auto a = t->get_channel("a");
  t->pause();
  publish_range(*t, 0, 60, 20);
  EXPECT_TRUE(t->delete_channel("a"));  // no journal keeps the backlog in the log now
  publish_range(*t, 60, 100, 20);       // joins the held backlog (more cycles, more trims)
  EXPECT_EQ(t->log()->start_offset(), 0u);
  EXPECT_EQ(t->stats().depth, 100);
  t->unpause();  // no channel: still held
  publish_range(*t, 100, 120, 20);
  auto n = t->get_channel("n");
  EXPECT_EQ(drain(*n, 1, 120)->bodies(), expected(0, 120));
}

TEST_F(DurablePausedTopicTest, EmptyWhilePausedDropsTheBacklog) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  t->pause();
  publish_range(*t, 0, 100);
  t->empty();
  EXPECT_EQ(t->stats().depth, 0);
  EXPECT_EQ(t->stats().backend_depth, 0);
  publish_range(*t, 100, 200);
  t->unpause();
  EXPECT_EQ(drain(*a, 1, 100)->bodies(), expected(100, 200));
}

TEST_F(DurablePausedTopicTest, EmptyingAChannelWhilePausedKeepsTheBacklogItGetsAtUnpause) {
  auto t = open_topic(/*segment_bytes=*/1);  // every commit cycle starts a new segment
  auto a = t->get_channel("a");
  publish_range(*t, 0, 5);  // before the pause: emptied
  t->pause();
  publish_range(*t, 5, 105, 20);
  t->empty_channel(*a);             // /channel/empty: a's EMPTY record stays below the backlog
  publish_range(*t, 105, 125, 20);  // more cycles: trims
  t->unpause();
  EXPECT_EQ(drain(*a, 1, 120)->bodies(), expected(5, 125));
  publish_range(*t, 125, 126);
  crash(t);  // nothing FINed: a gets the backlog again, from a log that kept it
  t = open_topic(1);
  EXPECT_EQ(drain(*t->get_channel("a"), 1, 121)->bodies(), expected(5, 126));
}

TEST_F(DurablePausedTopicTest, AnEphemeralChannelGetsOnlyWhatWaitedInMemory) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  auto e = t->get_channel("e#ephemeral");
  t->pause();
  publish_range(*t, 0, 100);
  t->unpause();
  EXPECT_EQ(drain(*a, 1, 100)->bodies(), expected(0, 100));
  // The reference's ephemeral channel drops past --mem-queue-size; ours never sees the rest.
  EXPECT_EQ(drain(*e, 2, kMemQueueSize)->bodies(), expected(0, kMemQueueSize));
}

TEST_F(DurablePausedTopicTest, AChannelWithoutAJournalGetsTheBacklogInMemory) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  // A directory where the journal should be: ChannelJournal::open fails, memory only.
  std::filesystem::create_directories(dir_.path() + "/t.log/m.acks");
  auto m = t->get_channel("m");
  ASSERT_FALSE(m->journal_floor().has_value());
  t->pause();
  publish_range(*t, 0, 100);
  t->unpause();
  EXPECT_EQ(m->stats().depth, 100);
  EXPECT_EQ(drain(*m, 1, 100)->bodies(), expected(0, 100));
  EXPECT_EQ(drain(*a, 2, 100)->bodies(), expected(0, 100));
}

TEST_F(DurablePausedTopicTest, ACrashWhilePausedLosesNothing) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  publish_range(*t, 0, 5);
  auto c = drain(*a, 1, 5);
  for (const auto& msg : c->got) EXPECT_FALSE(a->finish(1, msg->id()));
  wait_floor(*a, 5);
  t->pause();
  publish_range(*t, 5, 205);
  auto late = t->get_channel("late");  // its journal starts at the held backlog
  publish_range(*t, 205, 210);         // a commit cycle writes late's START
  wait_floor(*late, 5);
  crash(t);

  t = open_topic();
  a = t->get_channel("a");
  late = t->get_channel("late");
  EXPECT_EQ(a->stats().depth, 205);
  EXPECT_EQ(a->stats().backend_depth, 205 - kMemQueueSize);
  EXPECT_EQ(drain(*a, 1, 205)->bodies(), expected(5, 210));
  EXPECT_EQ(drain(*late, 2, 205)->bodies(), expected(5, 210));
}

TEST_F(DurablePausedTopicTest, AShutdownWhilePausedLosesNothing) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  t->pause();
  publish_range(*t, 0, 300);
  t->shutdown();
  t.reset();
  committer_->stop();

  t = open_topic();
  a = t->get_channel("a");
  EXPECT_EQ(a->stats().depth, 300);
  EXPECT_EQ(drain(*a, 1, 300)->bodies(), expected(0, 300));
}

TEST_F(DurablePausedTopicTest, UnpausingIntoAChannelThatHasALogTailAppendsTheBacklogBehindIt) {
  auto t = open_topic();
  auto a = t->get_channel("a");
  publish_range(*t, 0, 50);  // 40 of them already in a's log tail
  EXPECT_EQ(a->stats().backend_depth, 40);
  t->pause();
  publish_range(*t, 50, 60, 1, 3600 * kSecond);  // DPUBs between the tail and the overflow
  publish_range(*t, 60, 200);
  t->unpause();
  EXPECT_EQ(a->stats().depth, 190);
  EXPECT_EQ(a->stats().deferred_count, 10);
  auto c = drain(*a, 1, 190);
  auto want = expected(0, 50);
  for (auto& x : expected(60, 200)) want.push_back(x);
  EXPECT_EQ(c->bodies(), want);
}

TEST_F(DurablePausedTopicTest, AnOffsetBelowTheTailsEndGoesToMemoryNotIntoTheTail) {
  // Defensive: the topic never hands a channel an offset below its tail's end (pending_ goes
  // before the range, publishes after it), but if one came it must not cut the tail short.
  auto t = open_topic();
  auto a = t->get_channel("a");
  std::vector<std::string> bodies;
  std::vector<LogAppend> appends;
  for (int k = 0; k < kMemQueueSize + 3; ++k) bodies.push_back("m" + std::to_string(k));
  for (const auto& b : bodies) appends.push_back(LogAppend{guids_.next(), 1, 0, b});
  ASSERT_TRUE(static_cast<bool>(t->log()->append(appends)));  // offsets 0 .. 12, written directly
  std::vector<MessagePtr> msgs;
  for (size_t k = 0; k < appends.size(); ++k) {
    msgs.push_back(Message::create(appends[k].id, 1, appends[k].body));
    msgs.back()->set_log_offset(k);
  }
  const size_t late = kMemQueueSize - 1;  // held back: the 10 others fill memory, then a tail
  std::vector<MessagePtr> first;
  for (size_t k = 0; k < msgs.size(); ++k) {
    if (k != late) first.push_back(msgs[k]);
  }
  ASSERT_EQ(a->put(first, 0), "");
  ASSERT_EQ(a->stats().backend_depth, 2);  // offsets 11 and 12
  ASSERT_EQ(a->put(std::span(&msgs[late], 1), 0), "");
  EXPECT_EQ(a->stats().backend_depth, 2);
  auto c = drain(*a, 1, kMemQueueSize + 3);
  auto got = c->bodies();
  std::sort(got.begin(), got.end());
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(got, bodies);
}

}  // namespace
}  // namespace nsq::nsqd
