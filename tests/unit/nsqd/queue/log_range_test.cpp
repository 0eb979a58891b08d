#include "nsqd/queue/log_range.hpp"

#include <gtest/gtest.h>

namespace nsq::nsqd {
namespace {

TEST(LogRangeTest, AddsGrowTheEndAndTheFirstSetsTheStart) {
  LogRange r;
  EXPECT_TRUE(r.empty());
  r.add(7);
  r.add(9);  // 8 is a DPUB or went elsewhere: still one range, two messages
  EXPECT_FALSE(r.empty());
  EXPECT_EQ(r.from, 7u);
  EXPECT_EQ(r.end, 10u);
  EXPECT_EQ(r.count, 2);
}

TEST(LogRangeTest, AppendJoinsALaterRangeOrStartsAtIt) {
  LogRange tail;
  tail.append(LogRange{20, 30, 8});
  EXPECT_EQ(tail.from, 20u);
  EXPECT_EQ(tail.end, 30u);
  EXPECT_EQ(tail.count, 8);
  tail.append(LogRange{35, 40, 5});
  EXPECT_EQ(tail.from, 20u);
  EXPECT_EQ(tail.end, 40u);
  EXPECT_EQ(tail.count, 13);
}

TEST(LogRangeTest, ClearMovesTheStartToTheEnd) {
  LogRange r{3, 6, 3};
  r.clear();
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.from, 6u);  // a reader that noted from = 3 sees the range moved
  EXPECT_EQ(r.count, 0);
  r.add(11);
  EXPECT_EQ(r.from, 11u);
  EXPECT_EQ(r.end, 12u);
}

}  // namespace
}  // namespace nsq::nsqd
