// GuidFactory: ids in the reference layout ((tick - epoch) << 22 | node << 12 | seq, printed as
// 16 lowercase hex chars; the reference's nsqd/guid.go), unique and increasing, also across
// threads.
#include "nsqd/queue/guid.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace nsq::nsqd {
namespace {

using protocol::id_view;
using protocol::MessageId;

constexpr int64_t kEpochTick = 1288834974288;  // (2012-10-28 16:23:42 UTC).UnixNano() >> 20

uint64_t guid_of(const MessageId& id) {
  return std::stoull(std::string(id_view(id)), nullptr, 16);
}

int64_t now_tick() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() >>
         20;
}

TEST(GuidFactory, FormatIsSixteenLowercaseHex) {
  GuidFactory f(7);
  for (int i = 0; i < 100; ++i) {
    const MessageId id = f.next();
    for (char c : id) {
      EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id_view(id);
    }
  }
}

TEST(GuidFactory, LayoutCarriesTimeAndNode) {
  const int64_t before = now_tick();
  GuidFactory f(0x2A5);
  const uint64_t g = guid_of(f.next());
  const int64_t after = now_tick();
  EXPECT_EQ((g >> 12) & 0x3FF, 0x2A5u);
  EXPECT_EQ(g & 0xFFF, 0u);  // first id of a fresh factory
  const auto tick = static_cast<int64_t>(g >> 22) + kEpochTick;
  EXPECT_GE(tick, before);
  EXPECT_LE(tick, after);
}

TEST(GuidFactory, NodeIdIsTenBits) {
  GuidFactory f(1023);
  EXPECT_EQ((guid_of(f.next()) >> 12) & 0x3FF, 1023u);
  GuidFactory g(1024 + 5);  // masked to 10 bits (option validation refuses >= 1024 anyway)
  EXPECT_EQ((guid_of(g.next()) >> 12) & 0x3FF, 5u);
}

TEST(GuidFactory, UniqueAndStrictlyIncreasing) {
  GuidFactory f(1);
  std::string prev;
  for (int i = 0; i < 20000; ++i) {  // several 4096-id ticks
    const std::string id(id_view(f.next()));
    ASSERT_LT(prev, id) << "at " << i;
    prev = id;
  }
}

TEST(GuidFactory, SequenceRollsIntoTheNextTick) {
  GuidFactory f(3);
  const uint64_t first = f.reserve(4097);
  const uint64_t g0 = guid_of(f.id_at(first, 0));
  const uint64_t g4095 = guid_of(f.id_at(first, 4095));
  const uint64_t g4096 = guid_of(f.id_at(first, 4096));
  EXPECT_EQ(g4095 >> 22, g0 >> 22);
  EXPECT_EQ(g4095 & 0xFFF, 0xFFFu);
  EXPECT_EQ(g4096 >> 22, (g0 >> 22) + 1);
  EXPECT_EQ(g4096 & 0xFFF, 0u);
  EXPECT_EQ((g4096 >> 12) & 0x3FF, 3u);
  EXPECT_LT(g4095, g4096);
}

TEST(GuidFactory, ReserveHandsOutConsecutiveBatches) {
  GuidFactory f(9);
  const uint64_t a = f.reserve(10);
  const uint64_t b = f.reserve(5);
  EXPECT_EQ(b, a + 10);
  std::vector<std::string> ids;
  for (uint64_t i = 0; i < 10; ++i) ids.emplace_back(id_view(f.id_at(a, i)));
  for (uint64_t i = 0; i < 5; ++i) ids.emplace_back(id_view(f.id_at(b, i)));
  ids.emplace_back(id_view(f.next()));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  // id_at(first, i) is the same id as id_at(first + i, 0).
  EXPECT_EQ(f.id_at(a, 7), f.id_at(a + 7, 0));
}

TEST(GuidFactory, UniqueAcrossThreads) {
  GuidFactory f(11);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::vector<std::string>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&f, &got, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 10 == 0) {
          const uint64_t first = f.reserve(3);
          for (uint64_t k = 0; k < 3; ++k) got[t].emplace_back(id_view(f.id_at(first, k)));
        } else {
          got[t].emplace_back(id_view(f.next()));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  size_t total = 0;
  for (const auto& v : got) {
    // Each thread sees its own ids increasing.
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
    total += v.size();
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), total);
}

}  // namespace
}  // namespace nsq::nsqd
