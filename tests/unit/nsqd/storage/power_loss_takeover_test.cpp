// Switching modes under power loss (docs/persistence.md, "Switching modes"): the takeover of
// the disk queues (-durable) and the move back (no -durable) are cut by a power loss
// (PowerLossFileOps) at their 1st file call, then their 2nd, ... until a run completes before
// the cut. After each cut the data dir is rewritten to what was durable (unsynced writes and
// directory entries lost; once more keeping seeded random prefixes of the unsynced writes, and
// cutting the restart too at a seeded call), the switch runs again (the restart), and what each
// channel would deliver is checked: its own backlog, then the topic's, each message once, none
// of another channel's, bodies intact, due times kept.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/log/logger.hpp"
#include "nsqd/storage/channel_journal.hpp"
#include "nsqd/storage/takeover.hpp"
#include "nsqd/storage/topic_log.hpp"
#include "support/power_loss_file_ops.hpp"
#include "support/result_assertions.hpp"
#include "support/temp_dir.hpp"

namespace nsq::nsqd {
namespace {

namespace fs = std::filesystem;
using test_support::PowerLossFileOps;
using test_support::succeeded;
using test_support::TempDir;

constexpr int64_t kSecond = int64_t{1000} * 1000 * 1000;
constexpr int64_t kHour = 3600 * kSecond;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A message as a consumer would get it: its body and its due time (0: not deferred).
struct Delivered {
  std::string body;
  int64_t due_ns = 0;
};
using Deliveries = std::vector<Delivered>;

Deliveries concat(Deliveries a, const Deliveries& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Each message once, in order, with its body, and its due time within a minute of the
// expected one (the switch recomputes it from the remaining delay).
void expect_same(const Deliveries& got, const Deliveries& want, const std::string& what) {
  std::string got_bodies;
  std::string want_bodies;
  for (const auto& d : got) got_bodies += d.body + " ";
  for (const auto& d : want) want_bodies += d.body + " ";
  EXPECT_EQ(got_bodies, want_bodies) << what;
  if (got.size() != want.size()) return;
  for (size_t i = 0; i < got.size(); ++i) {
    if (want[i].due_ns == 0) {
      EXPECT_EQ(got[i].due_ns, 0) << what << ": " << got[i].body;
    } else {
      EXPECT_NEAR(static_cast<double>(got[i].due_ns), static_cast<double>(want[i].due_ns),
                  60.0 * kSecond)
          << what << ": " << got[i].body;
    }
  }
}

class PowerLossTakeoverTest : public ::testing::Test {
 protected:
  PowerLossTakeoverTest() {
    md_.topics.push_back(TopicMetadata{"t", false, {{"a", false}, {"b", false}}});
    md_.topics.push_back(TopicMetadata{"lonely", false, {}});
    // Hundreds of switches log their resumptions and the cut's EIO: keep the output to the
    // test's failures.
    old_level_ = log::logger().level();
    log::logger().set_level(spdlog::level::off);
  }
  ~PowerLossTakeoverTest() override { log::logger().set_level(old_level_); }

  // nsqd's disk context over `dir`; small queue files (each one created costs the test time).
  static std::shared_ptr<const DiskContext> context(const std::string& dir,
                                                    disk::FileOps* ops = nullptr) {
    auto c = std::make_shared<DiskContext>();
    c->data_path = dir;
    c->queue_options.max_bytes_per_file = 2048;
    c->queue_options.file_ops = ops;
    return c;
  }

  // Writes `n` messages to the disk queue `name` as nsqd does at shutdown (close: fsync,
  // metadata, deferred side file); every `defer_every`-th is deferred an hour.
  Deliveries fill(const std::string& dir, const std::string& name, int n, int defer_every) {
    auto opened = MessageBackend::open(name, context(dir));
    EXPECT_TRUE(succeeded(opened));
    if (!opened) return {};
    auto b = std::move(*opened);
    Deliveries sent;
    for (int i = 0; i < n; ++i) {
      char hex[17];  // 16 hex digits, as nsqd's ids (the side file keeps printable ids only)
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(++ids_));
      MessageId id;
      std::memcpy(id.data(), hex, id.size());
      const std::string body = name + "-" + std::to_string(i) + std::string(i % 7 * 25, '.');
      const int64_t due = i % defer_every == defer_every - 1 ? now_ns() + kHour : 0;
      auto m = Message::create(id, now_ns(), body);
      const MessageBackend::Outgoing out{m.get(), 1, due};
      EXPECT_EQ(b->write({&out, 1}), "");
      sent.push_back(Delivered{body, due});
    }
    EXPECT_TRUE(b->close());
    return sent;
  }

  // The data dir nsqd without -durable leaves: t:a, t:b and t's own queue, and a topic
  // without channels.
  void fill_disk_queues(const std::string& dir) {
    a_ = fill(dir, "t:a", 24, 5);
    b_ = fill(dir, "t:b", 18, 4);
    t_ = fill(dir, "t", 12, 6);
    lonely_ = fill(dir, "lonely", 10, 3);
    // Channel a's queue spans two files: the switches read across a file roll.
    ASSERT_TRUE(fs::exists(dir + "/t:a.diskqueue.000001.dat"));
    ASSERT_TRUE(save_metadata_file(dir, md_).ok());
  }

  // What `channel` of `topic` would deliver after a start with -durable: its backlog is
  // rebuilt from the log and its journal as Channel::attach_log does (a journal without its
  // START begins at the log's first offset). "": a topic without channels, every record.
  static Deliveries from_log(const std::string& dir, disk::FileOps* ops, const std::string& topic,
                             const std::string& channel) {
    TopicLogOptions o;
    o.dir = dir + "/" + topic + ".log";
    o.ops = ops;
    auto opened = TopicLog::open(o);
    EXPECT_TRUE(succeeded(opened));
    if (!opened) return {};
    auto log = std::move(*opened);
    AckState state;
    state.floor = log->start_offset();
    if (!channel.empty()) {
      auto journal = ChannelJournal::open(o.dir, channel, ops);
      EXPECT_TRUE(succeeded(journal));
      if (!journal) return {};
      // The switch made it: without it the channel would start as new, at the log's end.
      EXPECT_TRUE((*journal)->existed()) << channel;
      state = (*journal)->durable_state();
      if (!state.started) state.floor = log->start_offset();
    }
    std::vector<LogRecord> records;
    EXPECT_TRUE(succeeded(log->read(state.floor, 100000, records)));
    Deliveries out;
    for (const auto& r : records) {
      if (state.is_acked(r.offset)) continue;
      const auto req = state.deferred.find(r.offset);
      out.push_back(Delivered{r.body, req != state.deferred.end() ? req->second : r.due_ns});
    }
    return out;
  }

  // What the disk queue `name` would deliver after a start without -durable.
  static Deliveries from_queue(const std::string& dir, disk::FileOps* ops,
                               const std::string& name) {
    auto opened = MessageBackend::open(name, context(dir, ops));
    EXPECT_TRUE(succeeded(opened));
    if (!opened) return {};
    auto b = std::move(*opened);
    std::vector<MessageBackend::Incoming> in;
    while (b->read(100, in) > 0) {
    }
    const int64_t now = now_ns();
    Deliveries out;
    for (const auto& m : in) {
      out.push_back(Delivered{std::string(m.msg->body()), m.defer_ns > 0 ? now + m.defer_ns : 0});
    }
    return out;
  }

  static std::vector<std::string> leftovers(const std::string& dir, bool durable) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      const bool queue_file = name.find(".diskqueue.") != std::string::npos;
      const bool marker = name == "takeover" || name == "moving-out" || name.ends_with(".tmp");
      const bool log_dir = e.is_directory() && name.find(".log") != std::string::npos;
      if (marker || (durable ? queue_file : log_dir)) out.push_back(name);
    }
    return out;
  }

  using Switch = std::function<util::Status(const Metadata&, const DiskContext&)>;

  // Cuts `run` over a copy of `base` at its 1st call, 2nd call, ... and restarts it with the
  // power back, then hands the data dir to `check`. Each point twice: once with every unsynced
  // write lost, once keeping seeded random prefixes of them, where the restart itself is cut
  // too (at a seeded point) and restarted again: recovery may lose power as well. Returns the
  // cut points checked.
  int64_t cut_at_every_call(const std::string& base, const Switch& run,
                            const std::function<void(const std::string&, disk::FileOps*)>& check) {
    std::mt19937 rng(1507);
    const int64_t full_run = calls_of_a_full_run(base, run);
    for (int64_t k = 1;; ++k) {
      for (const bool torn : {false, true}) {
        TempDir dir(TempDir::in_memory_parent());
        fs::copy(base, dir.path(), fs::copy_options::recursive);
        PowerLossFileOps ops(dir.path());
        ops.cut_at_call(k);
        (void)run(md_, *context(dir.path(), &ops));  // fails at the cut
        if (ops.calls() < k) return k - 1;           // it finished first: every point is done
        ops.restore_durable_state(torn ? &rng : nullptr);
        std::string trace = "power cut at file call " + std::to_string(k);
        if (torn) {
          const int64_t again = std::uniform_int_distribution<int64_t>(1, full_run)(rng);
          ops.cut_at_call(again);
          (void)run(md_, *context(dir.path(), &ops));
          ops.restore_durable_state(&rng);
          trace += ", torn, then at call " + std::to_string(again) + " of the restart";
        }
        SCOPED_TRACE(trace);
        // The restart: the power is back (ops forwards every call again; its fsyncs stay
        // in the model, which keeps the test fast).
        const auto restarted = run(md_, *context(dir.path(), &ops));
        EXPECT_TRUE(restarted.ok()) << restarted.error();
        check(dir.path(), &ops);
        if (HasFailure()) return k;
      }
    }
  }

  int64_t calls_of_a_full_run(const std::string& base, const Switch& run) {
    TempDir dir(TempDir::in_memory_parent());
    fs::copy(base, dir.path(), fs::copy_options::recursive);
    PowerLossFileOps ops(dir.path());
    ops.cut_at_call(0);
    EXPECT_TRUE(run(md_, *context(dir.path(), &ops)).ok());
    return ops.calls();
  }

  Metadata md_;
  uint64_t ids_ = 0;
  Deliveries a_, b_, t_, lonely_;
  spdlog::level::level_enum old_level_;
};

TEST_F(PowerLossTakeoverTest, ATakeoverCutAtAnyFileCallEndsWithEachMessageOncePerChannel) {
  TempDir base;
  fill_disk_queues(base.path());
  const int64_t points = cut_at_every_call(
      base.path(), take_over_disk_queues, [&](const std::string& dir, disk::FileOps* ops) {
        EXPECT_TRUE(leftovers(dir, true).empty());
        expect_same(from_log(dir, ops, "t", "a"), concat(a_, t_), "channel a");
        expect_same(from_log(dir, ops, "t", "b"), concat(b_, t_), "channel b");
        expect_same(from_log(dir, ops, "lonely", ""), lonely_, "lonely");
      });
  std::printf("takeover: %lld power-loss points checked\n", static_cast<long long>(points));
  EXPECT_GT(points, 50);
}

TEST_F(PowerLossTakeoverTest, AMoveBackCutAtAnyFileCallEndsWithEachMessageOncePerChannel) {
  TempDir base;
  fill_disk_queues(base.path());
  ASSERT_TRUE(take_over_disk_queues(md_, *context(base.path())).ok());
  // While durable, a consumed a's first 3 messages and b deferred its 2nd by 2 hours (REQ).
  const int64_t req_due = now_ns() + 2 * kHour;
  {
    auto log = TopicLog::open({.dir = base.path() + "/t.log"});
    ASSERT_TRUE(succeeded(log));
    for (const std::string channel : {"a", "b"}) {
      auto journal = ChannelJournal::open(base.path() + "/t.log", channel);
      ASSERT_TRUE(succeeded(journal));
      const uint64_t floor = (*journal)->durable_state().floor;
      if (channel == "a") {
        for (uint64_t o = floor; o < floor + 3; ++o) (*journal)->record(AckRecord::kAck, o);
      } else {
        (*journal)->record(AckRecord::kDefer, floor + 1, req_due);
      }
      ASSERT_TRUE(succeeded((*journal)->flush((*log)->next_offset())));
    }
  }
  const Deliveries a_left(a_.begin() + 3, a_.end());
  Deliveries b_left = b_;
  b_left[1].due_ns = req_due;
  const int64_t points = cut_at_every_call(
      base.path(), move_logs_to_disk_queues, [&](const std::string& dir, disk::FileOps* ops) {
        EXPECT_TRUE(leftovers(dir, false).empty());
        expect_same(from_queue(dir, ops, "t:a"), concat(a_left, t_), "channel a");
        expect_same(from_queue(dir, ops, "t:b"), concat(b_left, t_), "channel b");
        expect_same(from_queue(dir, ops, "lonely"), lonely_, "lonely");
      });
  std::printf("move back: %lld power-loss points checked\n", static_cast<long long>(points));
  EXPECT_GT(points, 50);
}

}  // namespace
}  // namespace nsq::nsqd
