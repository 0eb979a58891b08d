// Durable mode under power loss (PowerLossFileOps): publishers append to a TopicLog and wait
// for the GroupCommitter's OK, a consumer FINs OKed messages on two channels' journals (one
// made before the first commit cycle, one after), and the power is cut at seeded random points.
// After each loss the log and the journals are reopened, as nsqd's recovery does, and checked:
// every OKed message that was not durably FINed is still in the log with its body, offsets run
// without a gap and every record reads back (CRC), no FIN whose journal cycle completed comes
// back, and no FIN appears that was never sent.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "nsqd/storage/channel_journal.hpp"
#include "nsqd/storage/group_committer.hpp"
#include "nsqd/storage/topic_log.hpp"
#include "support/power_loss_file_ops.hpp"
#include "support/result_assertions.hpp"
#include "support/temp_dir.hpp"

namespace nsq::nsqd {
namespace {

using test_support::PowerLossFileOps;
using test_support::succeeded;
using test_support::TempDir;

constexpr int kPublishers = 3;
constexpr int kRounds = 6;

// What the clients were told, across every power loss.
struct Ledger {
  std::mutex mu;
  std::map<uint64_t, std::string> oked;  // offset -> body, for every publish answered OK
  std::vector<uint64_t> unfinned;        // OKed offsets no FIN was sent for yet
  std::set<uint64_t> fins_sent[2];       // per channel
};

struct Channel {
  std::string name;
  uint64_t start = 0;  // the first offset it must see (its START)
  std::unique_ptr<ChannelJournal> journal;
};

class PowerLossDurableTest : public ::testing::Test {
 protected:
  void SetUp() override { ops_ = std::make_unique<PowerLossFileOps>(data_.path()); }

  std::string log_dir() const { return data_.path() + "/t.log"; }

  void open_log() {
    auto opened =
        TopicLog::open({.dir = log_dir(), .segment_bytes = segment_bytes_, .ops = ops_.get()});
    ASSERT_TRUE(succeeded(opened));
    log_ = std::move(*opened);
  }

  // Opens a channel's journal as Channel::attach_log does: a journal without its START starts
  // at the log's first offset if the file existed, else where a new channel would. Returns
  // the state its backlog is rebuilt from.
  AckState open_channel(int index, uint64_t start_if_new) {
    auto opened = ChannelJournal::open(log_dir(), names_[index], ops_.get());
    EXPECT_TRUE(succeeded(opened));
    if (!opened) return {};
    std::unique_ptr<ChannelJournal> journal = std::move(*opened);
    journal->compact_after = compact_after_;
    if (!journal->existed()) log_->directory_changed();  // as Channel::attach_log does
    AckState state = journal->durable_state();
    if (!state.started) {
      const uint64_t start = journal->existed() ? log_->start_offset() : start_if_new;
      journal->record(AckRecord::kStart, start);
      state.apply(AckRecord::kStart, start, 0);
    }
    std::lock_guard l(channels_mu_);
    channels_[index].name = names_[index];
    channels_[index].journal = std::move(journal);
    return state;
  }

  // The commit hook, as Topic::commit_journals: flush the journals, trim below their floors.
  int commit_journals() {
    std::lock_guard l(channels_mu_);
    const uint64_t synced = log_->synced_offset();
    int fsyncs = 0;
    uint64_t floor = UINT64_MAX;
    for (auto& c : channels_) {
      if (!c.journal) continue;
      // A failed flush (the power is out) counts no fsync.
      if (const auto flushed = c.journal->flush(synced); flushed) fsyncs += *flushed;
      floor = std::min(floor, c.journal->durable_floor());
    }
    if (channels_[1].journal) log_->trim_below(floor);
    return fsyncs;
  }

  void publish_until_failure(int thread, int round) {
    for (int i = 0;; ++i) {
      const int n = 1 + (i % 4);  // PUB and MPUBs of 2..4
      std::vector<std::string> bodies;
      for (int k = 0; k < n; ++k) {
        bodies.push_back("r" + std::to_string(round) + "-p" + std::to_string(thread) + "-" +
                         std::to_string(i) + "-" + std::to_string(k) + std::string(k * 13, 'x'));
      }
      std::vector<LogAppend> items;
      for (int k = 0; k < n; ++k) {
        items.push_back(LogAppend{protocol::message_id_from_guid(i), i, 0, bodies[k]});
      }
      std::mutex m;
      std::condition_variable cv;
      bool done = false;
      std::string result;
      util::Result<uint64_t> first = util::fail("not appended");
      {
        std::lock_guard topic(topic_mu_);  // as Topic::put appends under the topic's lock
        first = log_->append(items, [&](const std::string& e) {
          std::lock_guard l(m);
          result = e;
          done = true;
          cv.notify_one();
        });
      }
      if (!first) return;  // the log failed: the power is out
      committer_->request(log_);
      std::unique_lock l(m);
      cv.wait(l, [&] { return done; });
      if (!result.empty()) return;
      std::lock_guard lg(ledger_.mu);
      for (int k = 0; k < n; ++k) {
        ledger_.oked[*first + k] = bodies[k];
        ledger_.unfinned.push_back(*first + k);
      }
    }
  }

  // FINs random OKed messages on both channels until stopped.
  void fin_until_stopped(std::mt19937 rng) {
    while (!stop_fins_.load()) {
      uint64_t offset = 0;
      {
        std::lock_guard l(ledger_.mu);
        if (ledger_.unfinned.empty()) {
          std::this_thread::yield();
          continue;
        }
        auto at = ledger_.unfinned.begin() +
                  std::uniform_int_distribution<size_t>(0, ledger_.unfinned.size() - 1)(rng);
        offset = *at;
        ledger_.unfinned.erase(at);
      }
      std::lock_guard l(channels_mu_);
      for (int c = 0; c < 2; ++c) {
        if (!channels_[c].journal || offset < channels_[c].start || rng() % 4 == 0) continue;
        channels_[c].journal->record(AckRecord::kAck, offset);
        std::lock_guard lg(ledger_.mu);
        ledger_.fins_sent[c].insert(offset);
      }
      committer_->request(log_);
    }
  }

  size_t oked_count() {
    std::lock_guard l(ledger_.mu);
    return ledger_.oked.size();
  }
  bool wait_for_oked(size_t n) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (oked_count() < n) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
  }

  // After a restore: reopen and check everything the clients were promised.
  void reopen_and_check(const AckState (&believed)[2], int round) {
    open_log();
    std::vector<LogRecord> records;
    ASSERT_TRUE(succeeded(log_->read(log_->start_offset(), SIZE_MAX, records)));
    std::map<uint64_t, std::string> stored;
    uint64_t expect = log_->start_offset();
    for (const auto& r : records) {
      ASSERT_EQ(r.offset, expect) << "round " << round << ": offsets must not have a gap";
      ++expect;
      stored[r.offset] = r.body;
    }
    ASSERT_EQ(expect, log_->next_offset());
    const AckState states[2] = {
        open_channel(0, log_->start_offset()),  // the first channel takes what none took
        open_channel(1, log_->next_offset()),   // a later one starts at the end
    };
    std::lock_guard l(ledger_.mu);
    for (int c = 0; c < 2; ++c) {
      const AckState& state = states[c];
      for (uint64_t o : believed[c].acked) {
        EXPECT_TRUE(state.is_acked(o)) << names_[c] << ": durable FIN of " << o << " undone";
      }
      EXPECT_GE(state.floor, believed[c].floor) << names_[c];
      size_t lost = 0;
      for (const auto& [offset, body] : ledger_.oked) {
        if (offset < channels_[c].start) continue;  // published before the channel existed
        if (state.is_acked(offset)) {
          // Below the floor or FINed: only a FIN the consumer sent may hide a message.
          if (ledger_.fins_sent[c].count(offset) == 0) ++lost;
          continue;
        }
        // The channel's backlog: every stored offset from its floor that is not acknowledged.
        auto it = stored.find(offset);
        if (it == stored.end() || it->second != body) ++lost;
      }
      EXPECT_EQ(lost, 0u) << "round " << round << ": " << names_[c] << " lost OKed messages";
    }
  }

  void run_rounds(uint32_t seed);

  // The first test: one segment and no checkpoint, so only the commit cycles' own fsyncs make
  // anything durable. The second: rolls, trims and checkpoints within every round.
  int64_t segment_bytes_ = 1 << 20;
  size_t compact_after_ = 4096;
  TempDir data_;
  std::unique_ptr<PowerLossFileOps> ops_;
  std::shared_ptr<TopicLog> log_;
  std::unique_ptr<GroupCommitter> committer_;
  std::mutex topic_mu_;
  std::mutex channels_mu_;
  Channel channels_[2];
  const std::string names_[2] = {"first", "later"};
  Ledger ledger_;
  std::atomic<bool> stop_fins_{false};
};

void PowerLossDurableTest::run_rounds(uint32_t seed) {
  std::mt19937 rng(seed);
  open_log();
  open_channel(0, 0);
  for (int round = 0; round < kRounds; ++round) {
    committer_ = std::make_unique<GroupCommitter>();
    committer_->set_after_sync(log_.get(), [this] { return commit_journals(); });
    stop_fins_ = false;
    std::vector<std::thread> threads;
    for (int t = 0; t < kPublishers; ++t) {
      threads.emplace_back([this, t, round] { publish_until_failure(t, round); });
    }
    std::thread finner([this, seed = rng()] { fin_until_stopped(std::mt19937(seed)); });
    const size_t base = oked_count();
    if (round == 0) {
      // The later channel's journal is created after the log directory's first fsync.
      EXPECT_TRUE(wait_for_oked(base + 20));
      // Under the topic's lock, as Topic::get_channel: no append between the START and the
      // journal's creation.
      std::lock_guard topic(topic_mu_);
      const uint64_t start = log_->next_offset();
      open_channel(1, start);
      std::lock_guard l(channels_mu_);
      channels_[1].start = start;
    }
    const bool published = wait_for_oked(base + 40 + rng() % 300);
    ops_->power_cut();
    for (auto& t : threads) t.join();
    stop_fins_ = true;
    finner.join();
    committer_->stop();
    committer_.reset();
    AckState believed[2];
    for (int c = 0; c < 2; ++c) {
      believed[c] = channels_[c].journal->durable_state();
      channels_[c].journal.reset();
    }
    log_.reset();
    ASSERT_TRUE(published) << "round " << round << ": publishing stalled";
    // Every other round keeps a random torn prefix of what was not fsynced.
    ops_->restore_durable_state(round % 2 == 1 ? &rng : nullptr);
    reopen_and_check(believed, round);
    if (HasFailure()) return;
  }
  std::printf("power loss: %d rounds, %zu OKed messages checked\n", kRounds, oked_count());
}

TEST_F(PowerLossDurableTest, EveryOkedMessageNotDurablyFinedSurvivesEachPowerLoss) {
  run_rounds(20261207);
}

TEST_F(PowerLossDurableTest, SegmentRollsTrimsAndCheckpointsKeepEveryOkedMessage) {
  segment_bytes_ = 4096;
  compact_after_ = 64;
  run_rounds(42);
}

// A topic log past its first commit cycle (its directory's entries durable) and a channel
// journal created after it, as Channel::attach_log creates one.
class PowerLossJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = TopicLog::open({.dir = dir_, .ops = &ops_});
    ASSERT_TRUE(succeeded(log));
    log_ = std::move(*log);
    ASSERT_GT(log_->sync(), 0);  // the first cycle: the log directory's entries are durable
    auto journal = ChannelJournal::open(dir_, "later", &ops_);
    ASSERT_TRUE(succeeded(journal));
    journal_ = std::move(*journal);
    EXPECT_FALSE(journal_->existed());
    log_->directory_changed();  // as Channel::attach_log does for a new journal
  }
  void power_loss_and_reopen() {
    journal_.reset();
    log_.reset();
    ops_.simulate_power_loss();
    auto journal = ChannelJournal::open(dir_, "later", &ops_);
    ASSERT_TRUE(succeeded(journal));
    journal_ = std::move(*journal);
  }

  TempDir data_;
  PowerLossFileOps ops_{data_.path()};
  const std::string dir_ = data_.path() + "/t.log";
  std::shared_ptr<TopicLog> log_;
  std::unique_ptr<ChannelJournal> journal_;
};

// A channel made after its topic's first commit cycle: a publish OKed after it, then the power
// goes before the commit thread wrote the channel's START. The journal's name must have been
// made durable by that OK's cycle, and an empty journal must count as an existing channel
// (start at the log's first offset), else the channel restarts at the log end and loses the
// OKed message. Found by PowerLossDurableTest.
TEST_F(PowerLossJournalTest, AChannelMadeAfterTheFirstCycleKeepsMessagesOkedBeforeItsStart) {
  journal_->record(AckRecord::kStart, log_->next_offset());
  const LogAppend item{protocol::message_id_from_guid(1), 1, 0, "m"};
  std::string result = "no OK";
  const auto offset = log_->append(std::span(&item, 1), [&](const std::string& e) { result = e; });
  ASSERT_TRUE(succeeded(offset));
  ASSERT_EQ(*offset, 0u);
  log_->sync();
  ASSERT_EQ(result, "");  // OK sent; the START is still only in memory
  power_loss_and_reopen();
  EXPECT_TRUE(journal_->existed());  // so the channel starts at the log's first offset: 0
  EXPECT_FALSE(journal_->durable_state().is_acked(0));
}

// Once a flush returned, a new journal's records survive a power loss.
TEST_F(PowerLossJournalTest, AFlushedNewJournalSurvivesAPowerLoss) {
  journal_->record(AckRecord::kStart, 0);
  log_->sync();
  ASSERT_TRUE(succeeded(journal_->flush(log_->synced_offset())));
  power_loss_and_reopen();
  EXPECT_TRUE(journal_->durable_state().started);
}

}  // namespace
}  // namespace nsq::nsqd
