// Switching a data dir between disk queues and topic logs (storage/takeover.hpp): a channel's
// disk queue stays that channel's, the topic's queue reaches every channel, due times carry
// over both ways, and a restart after an interrupted switch ends with each message once.
#include "nsqd/storage/takeover.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "nsqd/storage/channel_journal.hpp"
#include "nsqd/storage/topic_log.hpp"
#include "support/file_bytes.hpp"
#include "support/result_assertions.hpp"
#include "support/temp_dir.hpp"

namespace nsq::nsqd {
namespace {

namespace fs = std::filesystem;
using test_support::spit;
using test_support::succeeded;
using test_support::TempDir;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kHour = int64_t{3600} * 1000 * 1000 * 1000;

class TakeoverTest : public ::testing::Test {
 protected:
  TakeoverTest() {
    auto c = std::make_shared<DiskContext>();
    c->data_path = dir_.path();
    c->queue_options.max_bytes_per_file = 1024;  // several files per queue
    ctx_ = c;
    md_.topics.push_back(TopicMetadata{"t", false, {{"a", false}, {"b", false}}});
    md_.topics.push_back(TopicMetadata{"lonely", false, {}});
  }

  // Writes `bodies` to the disk queue `name`; a body starting with "later" is deferred an hour.
  void fill(const std::string& name, const std::vector<std::string>& bodies) {
    auto opened = MessageBackend::open(name, ctx_);
    ASSERT_TRUE(succeeded(opened));
    auto b = std::move(*opened);
    for (const auto& body : bodies) {
      char hex[17];  // 16 hex digits, as nsqd's ids (the side file keeps printable ids only)
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(++ids_));
      MessageId id;
      std::memcpy(id.data(), hex, id.size());
      auto m = Message::create(id, now_ns(), body);
      const MessageBackend::Outgoing out{m.get(), 1,
                                         body.starts_with("later") ? now_ns() + kHour : 0};
      ASSERT_EQ(b->write({&out, 1}), "");
    }
    ASSERT_TRUE(b->close());
  }

  // What `channel` of `topic` ("": the first channel of a topic without any) would deliver
  // from the log: bodies in order ("+" marks a due time in the future).
  std::vector<std::string> visible(const std::string& topic, const std::string& channel) {
    TopicLogOptions o;
    o.dir = dir_.path() + "/" + topic + ".log";
    auto opened = TopicLog::open(o);
    EXPECT_TRUE(succeeded(opened));
    if (!opened) return {};
    auto log = std::move(*opened);
    AckState state;  // no channel: everything from the log's start
    state.floor = log->start_offset();
    if (!channel.empty()) {
      auto journal = ChannelJournal::open(o.dir, channel);
      EXPECT_TRUE(succeeded(journal));
      if (!journal) return {};
      state = (*journal)->durable_state();
    }
    std::vector<LogRecord> records;
    EXPECT_TRUE(succeeded(log->read(state.floor, 100000, records)));
    std::vector<std::string> out;
    for (const auto& r : records) {
      if (!state.is_acked(r.offset)) out.push_back(r.body + (r.due_ns > now_ns() ? "+" : ""));
    }
    return out;
  }

  // The messages of the disk queue `name`, in order ("+" marks a remaining delay).
  std::vector<std::string> queued(const std::string& name) {
    auto opened = MessageBackend::open(name, ctx_);
    EXPECT_TRUE(succeeded(opened));
    if (!opened) return {};
    auto b = std::move(*opened);
    std::vector<MessageBackend::Incoming> in;
    while (b->read(100, in) > 0) {
    }
    std::vector<std::string> out;
    for (const auto& m : in)
      out.push_back(std::string(m.msg->body()) + (m.defer_ns > 0 ? "+" : ""));
    return out;
  }

  bool has_disk_queue_files() const {
    for (const auto& e : fs::directory_iterator(dir_.path())) {
      if (e.path().filename().string().find(".diskqueue.") != std::string::npos) return true;
    }
    return false;
  }

  TempDir dir_;
  std::shared_ptr<const DiskContext> ctx_;
  Metadata md_;
  uint64_t ids_ = 0;
};

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i) + std::string(5, '.'));
  return out;
}

// One string, so a failed comparison shows the whole sequence.
std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += x + " ";
  return out;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(TakeoverTest, EachChannelKeepsItsOwnBacklogAndGetsTheTopicsAndBack) {
  const auto a = concat(numbered("a", 60), {"later-a"});
  const auto b = numbered("b", 40);
  const auto t = numbered("t", 30);
  const auto lonely = numbered("l", 20);
  fill("t:a", a);
  fill("t:b", b);
  fill("t", t);
  fill("lonely", lonely);

  ASSERT_TRUE(take_over_disk_queues(md_, *ctx_).ok());
  EXPECT_FALSE(has_disk_queue_files());
  EXPECT_FALSE(fs::exists(dir_.path() + "/t.log/takeover"));
  auto a_due = concat(numbered("a", 60), {"later-a+"});
  EXPECT_EQ(joined(visible("t", "a")), joined(concat(a_due, t)));
  EXPECT_EQ(joined(visible("t", "b")), joined(concat(b, t)));
  EXPECT_EQ(joined(visible("lonely", "")), joined(lonely));

  ASSERT_TRUE(move_logs_to_disk_queues(md_, *ctx_).ok());
  EXPECT_FALSE(fs::exists(dir_.path() + "/t.log"));
  EXPECT_FALSE(fs::exists(dir_.path() + "/t.log.removing"));
  EXPECT_EQ(joined(queued("t:a")), joined(concat(a_due, t)));
  EXPECT_EQ(joined(queued("t:b")), joined(concat(b, t)));
  EXPECT_EQ(joined(queued("lonely")), joined(lonely));
}

TEST_F(TakeoverTest, ARestartAfterAnInterruptedTakeoverHidesItsCopies) {
  fill("t:a", numbered("a", 50));
  fill("t:b", numbered("b", 50));
  fill("lonely", numbered("l", 50));
  // The state a kill leaves after the appends and a's journal: every record is in the log,
  // the marker says where the attempt began, the queues are whole.
  {
    TempDir copy;
    for (const auto& e : fs::directory_iterator(dir_.path())) fs::copy(e.path(), copy.path());
    ASSERT_TRUE(take_over_disk_queues(md_, *ctx_).ok());
    for (const auto& e : fs::directory_iterator(copy.path())) fs::copy(e.path(), dir_.path());
    fs::remove(dir_.path() + "/t.log/b.acks");
    spit(dir_.path() + "/t.log/takeover", "0");
    spit(dir_.path() + "/lonely.log/takeover", "0");
  }
  ASSERT_TRUE(take_over_disk_queues(md_, *ctx_).ok());
  EXPECT_FALSE(has_disk_queue_files());
  EXPECT_EQ(joined(visible("t", "a")), joined(numbered("a", 50)));
  EXPECT_EQ(joined(visible("t", "b")), joined(numbered("b", 50)));
  EXPECT_EQ(joined(visible("lonely", "")), joined(numbered("l", 50)));
}

TEST_F(TakeoverTest, ACommittedTakeoverOnlyFinishesDeletingTheQueues) {
  fill("t:a", numbered("a", 10));
  TempDir copy;
  for (const auto& e : fs::directory_iterator(dir_.path())) fs::copy(e.path(), copy.path());
  ASSERT_TRUE(take_over_disk_queues(md_, *ctx_).ok());
  // Killed while deleting: a's queue is partly there, the marker says committed.
  fs::copy(copy.path() + "/t:a.diskqueue.meta.dat", dir_.path());
  spit(dir_.path() + "/t.log/takeover", "committed");
  ASSERT_TRUE(take_over_disk_queues(md_, *ctx_).ok());
  EXPECT_FALSE(has_disk_queue_files());
  EXPECT_FALSE(fs::exists(dir_.path() + "/t.log/takeover"));
  EXPECT_EQ(joined(visible("t", "a")), joined(numbered("a", 10)));
}

TEST_F(TakeoverTest, ARestartAfterAnInterruptedMoveBackRewritesThePartialQueues) {
  fill("t:a", numbered("a", 30));
  ASSERT_TRUE(take_over_disk_queues(md_, *ctx_).ok());
  // An earlier attempt wrote part of a's queue before the kill.
  spit(dir_.path() + "/t.log/moving-out", "t:a\nt:b");
  fill("t:a", numbered("a", 5));
  ASSERT_TRUE(move_logs_to_disk_queues(md_, *ctx_).ok());
  EXPECT_EQ(joined(queued("t:a")), joined(numbered("a", 30)));
  EXPECT_EQ(joined(queued("t:b")), joined({}));
  EXPECT_FALSE(fs::exists(dir_.path() + "/t.log"));
}

TEST_F(TakeoverTest, AFailureLeavesTheQueuesAndSaysWhy) {
  fill("t:a", numbered("a", 3));
  spit(dir_.path() + "/t.log", "a file where the log directory goes");
  const auto s = take_over_disk_queues(md_, *ctx_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("take over the disk queues of t - open the log of t"), std::string::npos)
      << s.error();
  EXPECT_EQ(joined(queued("t:a")), joined(numbered("a", 3)));
}

}  // namespace
}  // namespace nsq::nsqd
