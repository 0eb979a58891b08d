#include "nsqd/memory/heap_release.hpp"

#include <gtest/gtest.h>

namespace nsq::nsqd {
namespace {

TEST(HeapReleaseOnDrop, ReleasesOnceAfterHalfOfAPeakWentAway) {
  int releases = 0;
  HeapReleaseOnDrop policy([&] { ++releases; });
  for (size_t live = 0; live <= 10000; live += 500) policy.observe(live);
  policy.observe(6000);
  EXPECT_EQ(releases, 0) << "40 % gone is not enough";
  policy.observe(5000);
  EXPECT_EQ(releases, 1);
  policy.observe(4000);
  EXPECT_EQ(releases, 1) << "the peak restarts from the count at the release";
  policy.observe(0);
  EXPECT_EQ(releases, 2);
  policy.observe(0);
  EXPECT_EQ(releases, 2) << "nothing more went away";
}

TEST(HeapReleaseOnDrop, IgnoresSmallServers) {
  int releases = 0;
  HeapReleaseOnDrop policy([&] { ++releases; });
  policy.observe(HeapReleaseOnDrop::kMinDrop - 1);
  policy.observe(0);
  EXPECT_EQ(releases, 0) << "a few connections coming and going never trim";
  policy.observe(HeapReleaseOnDrop::kMinDrop);
  policy.observe(0);
  EXPECT_EQ(releases, 1);
}

TEST(HeapReleaseOnDrop, DefaultReleaseRuns) {
  HeapReleaseOnDrop policy;  // malloc_trim(0): must simply not crash
  policy.observe(1000);
  policy.observe(0);
}

}  // namespace
}  // namespace nsq::nsqd
