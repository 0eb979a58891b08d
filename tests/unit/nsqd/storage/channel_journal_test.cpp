// ChannelJournal: the ack floor and FINed set, deferred due times, the rule that only records
// below the log's synced offset are written, torn-tail recovery, and compaction into an
// idempotent checkpoint.
#include "nsqd/storage/channel_journal.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/file_bytes.hpp"
#include "support/result_assertions.hpp"
#include "support/temp_dir.hpp"

namespace nsq::nsqd {
namespace {

namespace fs = std::filesystem;
using test_support::slurp;
using test_support::spit;
using test_support::succeeded;
using test_support::TempDir;

std::unique_ptr<ChannelJournal> open_journal(const std::string& dir) {
  auto j = ChannelJournal::open(dir, "c");
  EXPECT_TRUE(succeeded(j));
  return j ? std::move(*j) : nullptr;
}

void flush(ChannelJournal& j, uint64_t synced) {
  ASSERT_TRUE(succeeded(j.flush(synced)));
}

void expect_same(const AckState& a, const AckState& b) {
  EXPECT_EQ(a.started, b.started);
  EXPECT_EQ(a.floor, b.floor);
  EXPECT_EQ(a.acked, b.acked);
  EXPECT_EQ(a.deferred, b.deferred);
}

TEST(AckStateTest, TheFloorMovesOverContiguousAcks) {
  AckState s;
  s.apply(AckRecord::kStart, 10, 0);
  s.apply(AckRecord::kAck, 11, 0);
  EXPECT_EQ(s.floor, 10u);
  s.apply(AckRecord::kAck, 10, 0);
  EXPECT_EQ(s.floor, 12u);
  EXPECT_TRUE(s.acked.empty());
  s.apply(AckRecord::kDefer, 13, 777);
  s.apply(AckRecord::kAck, 14, 0);
  EXPECT_FALSE(s.is_acked(13));
  EXPECT_TRUE(s.is_acked(14));
  EXPECT_TRUE(s.is_acked(3));       // below the start
  s.apply(AckRecord::kAck, 13, 0);  // the deferred one, FINed after its delay
  EXPECT_EQ(s.floor, 12u);          // 12 is still out
  s.apply(AckRecord::kAck, 12, 0);
  EXPECT_EQ(s.floor, 15u);
  EXPECT_TRUE(s.deferred.empty());
  s.apply(AckRecord::kStart, 0, 0);  // a replayed START changes nothing
  EXPECT_EQ(s.floor, 15u);
}

TEST(ChannelJournalTest, StateSurvivesReopen) {
  TempDir dir;
  AckState expected;
  {
    auto j = open_journal(dir.path());
    j->record(AckRecord::kStart, 10);
    j->record(AckRecord::kAck, 10);
    j->record(AckRecord::kAck, 12);
    j->record(AckRecord::kDefer, 11, 5'000);
    flush(*j, 100);
    expected = j->durable_state();
  }
  EXPECT_EQ(expected.floor, 11u);
  EXPECT_EQ(expected.acked, std::set<uint64_t>{12});
  EXPECT_EQ(expected.deferred.at(11), 5'000);
  expect_same(open_journal(dir.path())->durable_state(), expected);
}

TEST(ChannelJournalTest, OnlyRecordsBelowTheSyncedOffsetAreWritten) {
  TempDir dir;
  auto j = open_journal(dir.path());
  j->record(AckRecord::kStart, 0);
  j->record(AckRecord::kAck, 5);
  j->record(AckRecord::kAck, 20);  // its message is not durable in the log yet
  flush(*j, 10);
  EXPECT_EQ(j->buffered(), 1u);
  EXPECT_FALSE(open_journal(dir.path())->durable_state().is_acked(20));
  flush(*j, 21);
  EXPECT_EQ(j->buffered(), 0u);
  EXPECT_TRUE(open_journal(dir.path())->durable_state().is_acked(20));
}

TEST(ChannelJournalTest, ATornOrCorruptTailIsCutAndTheRestKept) {
  TempDir dir;
  {
    auto j = open_journal(dir.path());
    j->record(AckRecord::kStart, 0);
    for (uint64_t o = 0; o < 4; ++o) j->record(AckRecord::kAck, o * 2);  // 0, 2, 4, 6
    flush(*j, 100);
  }
  const std::string path = dir.path() + "/c.acks";
  const std::string full = slurp(path);
  ASSERT_EQ(full.size(), 5u * 21);
  for (size_t cut = 0; cut <= full.size(); ++cut) {
    spit(path, full.substr(0, cut));
    const auto whole = cut / 21;  // START, then the ACKs
    const AckState s = open_journal(dir.path())->durable_state();
    EXPECT_EQ(s.started, whole >= 1) << cut;
    EXPECT_EQ(s.floor, whole >= 2 ? 1u : 0u) << cut;
    EXPECT_EQ(s.acked.size(), whole >= 3 ? whole - 2 : 0) << cut;
    EXPECT_EQ(fs::file_size(path), whole * 21) << cut;
  }
  std::string corrupt = full;
  corrupt[3 * 21 + 10] ^= 1;  // the third ACK
  spit(path, corrupt);
  const AckState s = open_journal(dir.path())->durable_state();
  EXPECT_EQ(s.acked, std::set<uint64_t>{2});
}

TEST(ChannelJournalTest, CompactionWritesACheckpointAndReplayOverItIsIdempotent) {
  TempDir dir;
  const std::string acks = dir.path() + "/c.acks";
  std::string before_compaction;
  AckState expected;
  {
    auto j = open_journal(dir.path());
    j->compact_after = 6;
    j->record(AckRecord::kStart, 100);
    for (uint64_t o = 100; o < 104; ++o) j->record(AckRecord::kAck, o);
    flush(*j, 1000);  // 5 records: no compaction yet
    before_compaction = slurp(acks);
    j->record(AckRecord::kAck, 110);
    j->record(AckRecord::kDefer, 105, 42);
    flush(*j, 1000);  // 7: compacted
    EXPECT_EQ(fs::file_size(acks), 0u);
    EXPECT_TRUE(fs::exists(dir.path() + "/c.ckpt"));
    expected = j->durable_state();
    j->record(AckRecord::kAck, 104);
    flush(*j, 1000);
    expected.apply(AckRecord::kAck, 104, 0);
  }
  expect_same(open_journal(dir.path())->durable_state(), expected);
  // A crash between the checkpoint's rename and the journal's truncation: the old records
  // are replayed over the checkpoint and change nothing.
  spit(acks, before_compaction + slurp(acks));
  expect_same(open_journal(dir.path())->durable_state(), expected);
  EXPECT_EQ(expected.floor, 105u);
  EXPECT_EQ(expected.acked, std::set<uint64_t>{110});
  EXPECT_EQ(expected.deferred.at(105), 42);
}

TEST(ChannelJournalTest, ACheckpointOfAnUnknownVersionIsRefused) {
  TempDir dir;
  {
    auto j = open_journal(dir.path());
    j->compact_after = 1;
    j->record(AckRecord::kStart, 0);
    flush(*j, 1);
  }
  std::string ckpt = slurp(dir.path() + "/c.ckpt");
  ckpt[5] = 7;
  spit(dir.path() + "/c.ckpt", ckpt);
  const auto opened = ChannelJournal::open(dir.path(), "c");
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().find("unsupported format version 7"), std::string::npos)
      << opened.error();
}

}  // namespace
}  // namespace nsq::nsqd
