// The reference http_api client's retry of a -tls-required 403 at the HTTPS port.
#include "common/http/https_redirect.hpp"

#include <gtest/gtest.h>

namespace nsq::http {
namespace {

TEST(HttpsRedirect, OnlyA403FromPlainHttpIsRetried) {
  EXPECT_TRUE(wants_https_retry("http://127.0.0.1:4151/stats", 403));
  EXPECT_FALSE(wants_https_retry("https://127.0.0.1:4152/stats", 403));
  EXPECT_FALSE(wants_https_retry("http://127.0.0.1:4151/stats", 404));
  EXPECT_FALSE(wants_https_retry("http://127.0.0.1:4151/stats", 200));
}

TEST(HttpsRedirect, KeepsHostPathAndQueryAndTakesThePort) {
  auto u = https_endpoint("http://127.0.0.1:4151/stats?format=json",
                          R"({"message": "TLS_REQUIRED", "https_port": 4152})");
  ASSERT_TRUE(u) << u.error();
  EXPECT_EQ(*u, "https://127.0.0.1:4152/stats?format=json");
  u = https_endpoint("http://[::1]:4151/info", R"({"https_port": 9})");
  ASSERT_TRUE(u) << u.error();
  EXPECT_EQ(*u, "https://[::1]:9/info");
}

TEST(HttpsRedirect, MissingPortIsGoZeroValue) {
  auto u = https_endpoint("http://h:1/x", R"({"message": "FORBIDDEN"})");
  ASSERT_TRUE(u) << u.error();
  EXPECT_EQ(*u, "https://h:0/x");
}

TEST(HttpsRedirect, NonJsonBodyIsAnError) {
  auto u = https_endpoint("http://h:1/x", "forbidden");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error(), "invalid JSON in 403 response forbidden");
  u = https_endpoint("http://h:1/x", R"({"https_port": "1"})");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error(),
            "json: cannot unmarshal string into Go struct field .https_port of type int");
}

}  // namespace
}  // namespace nsq::http
