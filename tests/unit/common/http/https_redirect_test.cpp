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
  std::string error;
  auto u = https_endpoint("http://127.0.0.1:4151/stats?format=json",
                          R"({"message": "TLS_REQUIRED", "https_port": 4152})", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(*u, "https://127.0.0.1:4152/stats?format=json");
  u = https_endpoint("http://[::1]:4151/info", R"({"https_port": 9})", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(*u, "https://[::1]:9/info");
}

TEST(HttpsRedirect, MissingPortIsGoZeroValue) {
  std::string error;
  auto u = https_endpoint("http://h:1/x", R"({"message": "FORBIDDEN"})", error);
  ASSERT_TRUE(u) << error;
  EXPECT_EQ(*u, "https://h:0/x");
}

TEST(HttpsRedirect, NonJsonBodyIsAnError) {
  std::string error;
  EXPECT_FALSE(https_endpoint("http://h:1/x", "forbidden", error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(https_endpoint("http://h:1/x", R"({"https_port": "1"})", error));
  EXPECT_NE(error.find("cannot unmarshal string"), std::string::npos);
}

}  // namespace
}  // namespace nsq::http
