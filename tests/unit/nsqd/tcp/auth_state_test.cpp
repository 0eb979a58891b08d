#include "nsqd/tcp/auth_state.hpp"

#include <gtest/gtest.h>

namespace nsq::nsqd {

namespace {

const auto kNow = std::chrono::steady_clock::time_point(std::chrono::seconds(1000));

AuthState parse_ok(std::string_view body) {
  auto st = parse_auth_response(body, kNow);
  EXPECT_TRUE(st) << st.error();
  return st ? *st : AuthState{};
}

std::string parse_error(std::string_view body) {
  auto st = parse_auth_response(body, kNow);
  EXPECT_FALSE(st);
  return st ? std::string() : st.error();
}

}  // namespace

TEST(AuthState, ParsesReplyAndExpiry) {
  auto st = parse_ok(R"({"ttl":60,"identity":"alice","identity_url":"u",
    "authorizations":[{"topic":"^t$","channels":[".*"],"permissions":["subscribe","publish"]}]})");
  EXPECT_EQ(st.identity, "alice");
  EXPECT_EQ(st.identity_url, "u");
  ASSERT_EQ(st.grants.size(), 1u);
  EXPECT_FALSE(st.expired(kNow + std::chrono::seconds(59)));
  EXPECT_TRUE(st.expired(kNow + std::chrono::seconds(61)));
  EXPECT_EQ(auth_reply_json(st), R"({"identity":"alice","identity_url":"u","permission_count":1})");
}

TEST(AuthState, ValidationErrorsAsReference) {
  EXPECT_EQ(parse_error(R"({"ttl":0})"), "invalid TTL 0 (must be >0)");
  EXPECT_EQ(parse_error(R"({"ttl":5,"authorizations":[{"topic":"t","permissions":["read"]}]})"),
            "unknown permission read");
  EXPECT_EQ(parse_error(R"({"ttl":5,"authorizations":[{"topic":"(","permissions":[]}]})"),
            "unable to compile topic \"(\"");
  EXPECT_EQ(parse_error(
                R"({"ttl":5,"authorizations":[{"topic":"t","channels":["["],"permissions":[]}]})"),
            "unable to compile channel \"[\"");
  EXPECT_FALSE(parse_error("not json").empty());
}

TEST(AuthState, GrantChecks) {
  auto st = parse_ok(R"({"ttl":60,"authorizations":[
    {"topic":"^pub$","channels":[".*"],"permissions":["publish"]},
    {"topic":"sub","channels":["^c1$"],"permissions":["subscribe"]},
    {"topic":"^nochan$","channels":[],"permissions":["publish"]}]})");
  EXPECT_TRUE(st.allows("pub", ""));
  EXPECT_FALSE(st.allows("pub", "c"));    // no subscribe permission
  EXPECT_TRUE(st.allows("xsubx", "c1"));  // unanchored topic regex matches anywhere
  EXPECT_FALSE(st.allows("sub", "c2"));
  EXPECT_FALSE(st.allows("sub", ""));     // no publish permission
  EXPECT_FALSE(st.allows("nochan", ""));  // publish checks "" against the channel list
  EXPECT_FALSE(st.allows("other", ""));
}

TEST(AuthState, QueryUrl) {
  AuthQuery q{"127.0.0.1", true, "client one", "a&b=c"};
  EXPECT_EQ(auth_query_url("127.0.0.1:4181", q),
            "http://127.0.0.1:4181/auth?common_name=client+one&remote_ip=127.0.0.1"
            "&secret=a%26b%3Dc&tls=true");
  EXPECT_TRUE(auth_query_url("https://auth.example/check", q)
                  .starts_with("https://auth.example/check?common_name=client+one&"));
}

}  // namespace nsq::nsqd
