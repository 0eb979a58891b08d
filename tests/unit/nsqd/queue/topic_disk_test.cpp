// Topic and Channel over their disk queues: overflow past -mem-queue-size, everything via disk
// at -mem-queue-size=0, shutdown flush (memory, in-flight, deferred) and restart, deferred
// delay kept across a restart, ephemeral never on disk, the reference's record layout.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nsqd/queue/topic.hpp"
#include "nsqd/storage/disk_worker.hpp"

namespace nsq::nsqd {
namespace {

namespace fs = std::filesystem;
constexpr int64_t kSecond = 1000LL * 1000 * 1000;

class FakeConsumer : public Consumer {
 public:
  FakeConsumer(int64_t id, int64_t rdy) : id_(id), rdy_(rdy) {}
  int64_t consumer_id() const override { return id_; }
  bool ready_for_message() const override {
    std::lock_guard l(mu_);
    return rdy_ > 0 && in_flight_ < rdy_;
  }
  int64_t ready_capacity() const override {
    std::lock_guard l(mu_);
    return std::max<int64_t>(0, rdy_ - in_flight_);
  }
  int64_t msg_timeout_ns() const override { return 60 * kSecond; }
  int32_t sample_rate() const override { return 0; }
  void deliver(const MessagePtr& msg, uint16_t attempts) override {
    std::lock_guard l(mu_);
    ++in_flight_;
    got_.push_back(msg);
    attempts_.push_back(attempts);
  }
  void message_done(Outcome) override {
    std::lock_guard l(mu_);
    --in_flight_;
  }
  void in_flight_reset() override {
    std::lock_guard l(mu_);
    in_flight_ = 0;
  }
  std::vector<MessagePtr> got() const {
    std::lock_guard l(mu_);
    return got_;
  }
  std::vector<uint16_t> attempts() const {
    std::lock_guard l(mu_);
    return attempts_;
  }

 private:
  const int64_t id_;
  mutable std::mutex mu_;
  int64_t rdy_;
  int64_t in_flight_ = 0;
  std::vector<MessagePtr> got_;
  std::vector<uint16_t> attempts_;
};

template <typename Pred>
bool wait_for(Pred pred, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling, not synchronisation
  }
  return true;
}

class TopicDiskTest : public ::testing::Test {
 protected:
  TopicDiskTest() {
    char tmpl[] = "/tmp/topic_disk_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~TopicDiskTest() override {
    worker_.stop();
    fs::remove_all(dir_);
  }

  std::shared_ptr<Topic> make(const std::string& name, int64_t mem_queue_size,
                              DiskWorker* worker = nullptr, int64_t max_bytes_per_topic = 0) {
    auto ctx = std::make_shared<DiskContext>();
    ctx->data_path = dir_;
    ctx->queue_options.max_bytes_per_file = 4096;
    ctx->queue_options.min_msg_size = 26;
    ctx->queue_options.max_msg_size = 26 + 1024;
    ctx->queue_options.sync_every = 100;
    ctx->worker = worker ? worker : &worker_;
    ctx->max_bytes_per_topic = max_bytes_per_topic;
    ctx->queue_options.roll_when_drained = max_bytes_per_topic > 0;  // as nsqd sets it
    ctx->report_health = [this](const std::string& e) {
      std::lock_guard l(health_mu_);
      health_ = e;
    };
    ChannelLimits limits;
    limits.mem_queue_size = mem_queue_size;
    limits.disk = ctx;
    return std::make_shared<Topic>(name, limits, guids_, [](Topic&) {});
  }

  static std::vector<std::string> bodies(const std::vector<MessagePtr>& msgs) {
    std::vector<std::string> out;
    for (const auto& m : msgs) out.emplace_back(m->body());
    return out;
  }
  static std::vector<std::string> numbered(int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) out.push_back("msg-" + std::to_string(i));
    return out;
  }
  static std::string publish(Topic& t, const std::vector<std::string>& msgs, int64_t defer = 0) {
    std::vector<std::string_view> views(msgs.begin(), msgs.end());
    return t.publish(views, defer);
  }

  std::string dir_;
  DiskWorker worker_{1};
  GuidFactory guids_{1};
  std::mutex health_mu_;
  std::string health_;
};

TEST_F(TopicDiskTest, ChannelOverflowGoesToDiskAndComesBackInOrder) {
  auto t = make("t", 10);
  auto ch = t->get_channel("c");
  ASSERT_EQ(publish(*t, numbered(0, 100)), "");
  ChannelStats s = ch->stats();
  EXPECT_EQ(s.depth, 100);
  EXPECT_EQ(s.backend_depth, 90);
  EXPECT_TRUE(fs::exists(dir_ + "/t:c.diskqueue.000000.dat"));
  auto c = std::make_shared<FakeConsumer>(1, 1000);
  ASSERT_EQ(ch->add_consumer(c), Channel::AddResult::kOk);
  ch->consumer_ready(1);
  ASSERT_TRUE(wait_for([&] { return c->got().size() == 100; })) << c->got().size();
  EXPECT_EQ(bodies(c->got()), numbered(0, 100));
  EXPECT_EQ(ch->stats().depth, 0);
}

// The bytes of every data file of topic `t` and its channels, as on disk.
int64_t topic_file_bytes(const std::string& dir) {
  int64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if ((f.starts_with("t.diskqueue.0") || f.starts_with("t:")) && f.ends_with(".dat") &&
        f.find(".meta.") == std::string::npos) {
      total += static_cast<int64_t>(e.file_size());
    }
  }
  return total;
}

TEST_F(TopicDiskTest, DiskLimitCountsEveryChannelRefusesWhatNeedsDiskAndResumes) {
  constexpr int64_t kLimit = 720;  // records of "msg-N": 4 + 26 + 5 or 6 bytes, per channel
  auto t = make("t", 2, nullptr, kLimit);
  auto c1 = t->get_channel("c1");
  auto c2 = t->get_channel("c2");
  ASSERT_EQ(publish(*t, numbered(0, 2)), "");  // memory
  int accepted = 2;
  std::string error;
  while (accepted < 100 && (error = publish(*t, numbered(accepted, accepted + 1))).empty()) {
    ++accepted;
  }
  EXPECT_EQ(error, kTopicDiskLimitReached);
  // msg-2..9 and msg-10, 11 take 704 bytes (< 720): msg-12 is still taken, and the limit
  // is passed by that one publish (docs/persistence.md, "Disk limits").
  EXPECT_EQ(accepted, 13);
  TopicStats s = t->stats();
  EXPECT_EQ(s.disk_bytes, topic_file_bytes(dir_));  // the topic's counters, not a scan
  EXPECT_EQ(s.disk_bytes, 2 * (8 * 35 + 3 * 36));
  EXPECT_EQ(s.max_disk_bytes, kLimit);
  EXPECT_TRUE(s.disk_full);
  EXPECT_EQ(s.disk_limit_refusals, 1u);
  // What needs no disk is still taken: a deferred message waits in memory.
  ASSERT_EQ(publish(*t, {"deferred"}, 3600 * kSecond), "");
  EXPECT_EQ(publish(*t, {"m1", "m2"}), kTopicDiskLimitReached);  // an MPUB: all or nothing
  EXPECT_EQ(c1->stats().depth, accepted);
  EXPECT_EQ(t->stats().disk_limit_refusals, 2u);

  // Consumers read and FIN everything: the files go, the topic takes publishes again.
  for (const auto& ch : {c1, c2}) {
    auto c = std::make_shared<FakeConsumer>(1, 1000);
    ASSERT_EQ(ch->add_consumer(c), Channel::AddResult::kOk);
    ch->consumer_ready(1);
    ASSERT_TRUE(wait_for([&] { return c->got().size() == static_cast<size_t>(accepted); }))
        << c->got().size();
    EXPECT_EQ(bodies(c->got()), numbered(0, accepted));
    for (const auto& m : c->got()) EXPECT_FALSE(ch->finish(1, m->id()).has_value());
  }
  ASSERT_TRUE(wait_for([&] {
    t->sync_backends_if_dirty();  // nsqd's timer does this every --sync-timeout
    return t->stats().disk_bytes < kLimit;
  })) << t->stats().disk_bytes;
  EXPECT_FALSE(t->stats().disk_full);
  EXPECT_EQ(t->stats().disk_bytes, topic_file_bytes(dir_));
  EXPECT_EQ(publish(*t, numbered(100, 110)), "");
}

TEST_F(TopicDiskTest, WithoutALimitStatsShowNoDiskFields) {
  auto t = make("t", 0);
  ASSERT_EQ(publish(*t, numbered(0, 5)), "");
  const TopicStats s = t->stats();
  EXPECT_EQ(s.max_disk_bytes, 0);
  EXPECT_EQ(s.disk_bytes, 0);  // not even computed: /stats prints none of them
}

TEST_F(TopicDiskTest, MemQueueSizeZeroSendsEverythingThroughDisk) {
  auto t = make("t", 0);
  ASSERT_EQ(publish(*t, numbered(0, 5)), "");  // no channel yet: the topic's queue
  EXPECT_EQ(t->stats().backend_depth, 5);
  auto ch = t->get_channel("c");
  auto c = std::make_shared<FakeConsumer>(1, 1000);
  ASSERT_EQ(ch->add_consumer(c), Channel::AddResult::kOk);
  ASSERT_EQ(publish(*t, numbered(5, 10)), "");
  ch->consumer_ready(1);
  ASSERT_TRUE(wait_for([&] {
    t->pump_if_due();
    ch->consumer_ready(1);
    return c->got().size() == 10;
  }));
  auto got = bodies(c->got());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, numbered(0, 10));
}

TEST_F(TopicDiskTest, RecordsUseTheReferenceLayout) {
  auto t = make("t", 0);
  ASSERT_EQ(publish(*t, {"hello-body"}), "");
  t->shutdown();
  std::ifstream in(dir_ + "/t.diskqueue.000000.dat", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  ASSERT_EQ(data.size(), 4u + 26u + 10u);
  EXPECT_EQ(data.substr(0, 4), std::string("\0\0\0\x24", 4));
  EXPECT_EQ(data.substr(12, 2), std::string("\0\0", 2));  // attempts
  EXPECT_EQ(data.substr(30), "hello-body");
}

TEST_F(TopicDiskTest, ShutdownFlushesMemoryInFlightAndDeferredAndRestartDeliversThem) {
  {
    auto t = make("t", 1000);
    auto ch = t->get_channel("c");
    auto c = std::make_shared<FakeConsumer>(1, 2);
    ASSERT_EQ(ch->add_consumer(c), Channel::AddResult::kOk);
    ASSERT_EQ(publish(*t, numbered(0, 5)), "");
    ch->consumer_ready(1);
    ASSERT_EQ(c->got().size(), 2u);  // 2 in flight, 3 in memory
    ASSERT_EQ(publish(*t, {"deferred"}, 30 * kSecond), "");
    EXPECT_EQ(ch->stats().deferred_count, 1);
    worker_.stop();
    t->shutdown();
  }
  DiskWorker worker2{1};  // the fixture's worker was stopped, as at shutdown
  auto t = make("t", 1000, &worker2);
  auto ch = t->get_channel("c");
  EXPECT_EQ(ch->stats().backend_depth, 6);
  auto c = std::make_shared<FakeConsumer>(1, 100);
  ASSERT_EQ(ch->add_consumer(c), Channel::AddResult::kOk);
  ch->consumer_ready(1);
  ASSERT_TRUE(wait_for([&] { return c->got().size() == 5; }));
  auto got = bodies(c->got());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, numbered(0, 5));
  // The two that were in flight come back with attempts 2, the others with 1.
  auto attempts = c->attempts();
  EXPECT_EQ(std::count(attempts.begin(), attempts.end(), 2), 2);
  // The deferred one keeps (most of) its 30 s delay instead of arriving now.
  ASSERT_TRUE(wait_for([&] { return ch->stats().deferred_count == 1; }));
  EXPECT_EQ(c->got().size(), 5u);
  worker2.stop();
  t->shutdown();
}

TEST_F(TopicDiskTest, EphemeralNeverTouchesDiskAndDropsOverflow) {
  auto t = make("t#ephemeral", 3);
  auto ch = t->get_channel("c#ephemeral");
  ASSERT_EQ(publish(*t, numbered(0, 10)), "");
  EXPECT_EQ(ch->stats().depth, 3);
  EXPECT_EQ(ch->stats().backend_depth, 0);
  t->shutdown();
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(TopicDiskTest, DeleteRemovesTheFiles) {
  auto t = make("t", 0);
  auto ch = t->get_channel("c");
  ASSERT_EQ(publish(*t, numbered(0, 10)), "");
  ASSERT_TRUE(fs::exists(dir_ + "/t:c.diskqueue.000000.dat"));
  t->close();
  EXPECT_FALSE(fs::exists(dir_ + "/t:c.diskqueue.000000.dat"));
  EXPECT_FALSE(fs::exists(dir_ + "/t:c.diskqueue.meta.dat"));
}

}  // namespace
}  // namespace nsq::nsqd
