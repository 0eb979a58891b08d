// Go's int64 + and - wrap (two's complement); these are the values Go prints.
#include "common/gocompat/go_int.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace nsq::gocompat {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(GoInt, AddAndSubWrapAsGo) {
  EXPECT_EQ(go_add(2, 3), 5);
  EXPECT_EQ(go_add(kMax, 1), kMin);  // math.MaxInt64 + 1 == math.MinInt64
  EXPECT_EQ(go_add(kMin, -1), kMax);
  EXPECT_EQ(go_sub(5, 7), -2);
  EXPECT_EQ(go_sub(kMin, 1), kMax);  // math.MinInt64 - 1 == math.MaxInt64
  EXPECT_EQ(go_sub(kMax, -1), kMin);
  EXPECT_EQ(go_sub(0, kMin), kMin);
}

}  // namespace
}  // namespace nsq::gocompat
