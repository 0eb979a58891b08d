// IdleSpin: the window an idle event loop polls for before blocking grows while work keeps
// coming soon after the loop blocks, and falls to nothing when the loop is really idle.
#include "common/net/idle_spin.hpp"

#include <gtest/gtest.h>

namespace nsq::net {

namespace {
constexpr int64_t kUs = 1000;
}

TEST(IdleSpin, StartsWithoutPolling) {
  IdleSpin spin;
  EXPECT_EQ(spin.window_ns(), 0);
}

TEST(IdleSpin, GrowsUntilPollingCatchesWorkThatComesSoonAfterBlocking) {
  IdleSpin spin(50 * kUs);
  // A client whose next request comes 30 µs after the loop ran out of work.
  const int64_t gap = 30 * kUs;
  spin.blocked(0, gap);
  EXPECT_EQ(spin.window_ns(), IdleSpin::kStartNs);
  int rounds = 0;
  while (spin.window_ns() < gap && rounds++ < 10)
    spin.blocked(spin.window_ns(), gap - spin.window_ns());
  // 5, 10, 20, 40 µs: from now on the poll finds the request and the loop never blocks.
  EXPECT_EQ(spin.window_ns(), 40 * kUs);
  EXPECT_EQ(rounds, 3);
}

TEST(IdleSpin, NeverGrowsPastTheMaximum) {
  IdleSpin spin(50 * kUs);
  for (int i = 0; i < 10; ++i) spin.blocked(0, 1);
  EXPECT_EQ(spin.window_ns(), 50 * kUs);
}

TEST(IdleSpin, ShrinksToNothingWhenTheLoopIsIdle) {
  IdleSpin spin(50 * kUs);
  for (int i = 0; i < 5; ++i) spin.blocked(0, 5 * kUs);
  ASSERT_EQ(spin.window_ns(), 50 * kUs);
  // Work every 100 µs (10,000 msg/s): polling 50 µs never catches it, so stop polling.
  spin.blocked(50 * kUs, 50 * kUs + 1);
  EXPECT_EQ(spin.window_ns(), 25 * kUs);
  for (int i = 0; i < 4; ++i) spin.blocked(spin.window_ns(), 100 * kUs);
  EXPECT_EQ(spin.window_ns(), 0);
  // And stays off while the loop stays idle.
  spin.blocked(0, 1'000'000 * kUs);
  EXPECT_EQ(spin.window_ns(), 0);
}

TEST(IdleSpin, AMaximumOfZeroNeverPolls) {
  IdleSpin spin(0);
  for (int i = 0; i < 3; ++i) spin.blocked(0, 1);
  EXPECT_EQ(spin.window_ns(), 0);
}

}  // namespace nsq::net
