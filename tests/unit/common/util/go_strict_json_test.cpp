// parse_json_as_go refuses what Go's encoding/json refuses, where nlohmann alone would accept.
#include "common/util/go_strict_json.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "nsqd/tcp/auth_state.hpp"

namespace nsq::util {
namespace {

using namespace std::string_literals;

TEST(GoStrictJson, BytesAfterANulAreRefused) {
  EXPECT_TRUE(nlohmann::json::parse("[\"a\"]\0junk"s, nullptr, false).is_array());  // the gap
  EXPECT_TRUE(parse_json_as_go("[\"a\"]\0junk"s).is_discarded());
  EXPECT_TRUE(parse_json_as_go("\xEF\xBB\xBF[]").is_discarded());
  EXPECT_TRUE(parse_json_as_go("[1,]").is_discarded());
}

TEST(GoStrictJson, ValidDocumentsParse) {
  const auto doc = parse_json_as_go(R"({"channels":["a","b"]} )");
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["channels"].size(), 2u);
  EXPECT_TRUE(parse_json_as_go("null").is_null());
}

TEST(GoStrictJson, AuthServerAnswersWithTrailingBytesAreRefused) {
  const std::string ok = R"({"ttl":60,"authorizations":[]})";
  const auto good = nsqd::parse_auth_response(ok, std::chrono::steady_clock::now());
  EXPECT_TRUE(good) << good.error();
  const auto bad = nsqd::parse_auth_response(ok + "\0junk"s, std::chrono::steady_clock::now());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "failed to parse auth response JSON");
}

}  // namespace
}  // namespace nsq::util
