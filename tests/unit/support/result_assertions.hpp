// ASSERT_TRUE(succeeded(q->put(x))): a util::Result as a GoogleTest assertion that prints the
// error text when it failed (a bare ASSERT_TRUE(result) would only say "false").
#pragma once

#include <gtest/gtest.h>

#include "nsq/result.hpp"

namespace nsq::test_support {

template <class T>
::testing::AssertionResult succeeded(const util::Result<T>& r) {
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.error();
}

}  // namespace nsq::test_support
