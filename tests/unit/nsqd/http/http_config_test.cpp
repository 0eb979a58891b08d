// /config/:opt values encoded as the reference's reflection + encoding/json does.
#include "nsqd/http/http_config.hpp"

#include <gtest/gtest.h>

namespace nsq::nsqd {
namespace {

std::optional<std::string> J(const NsqdOptions& o, const RuntimeOptionValues& rt,
                             std::string_view name) {
  auto v = option_value(o, rt, name);
  if (!v) return std::nullopt;
  return (v->json ? "json:" : "text:") + v->body;
}

TEST(OptionValue, TypesAndNames) {
  NsqdOptions o;
  o.broadcast_address = "h";
  RuntimeOptionValues rt;
  rt.lookupd_addresses = {"127.0.0.1:4160"};
  rt.broadcast_http_port = 4151;
  EXPECT_EQ(J(o, rt, "mem_queue_size"),
            "json:"
            "10000");
  EXPECT_EQ(J(o, rt, "msg_timeout"),
            "json:"
            "60000000000");
  EXPECT_EQ(J(o, rt, "nsqlookupd_tcp_addresses"), std::string("json:") + R"(["127.0.0.1:4160"])");
  EXPECT_EQ(J(o, rt, "auth_http_addresses"),
            "json:"
            "[]");
  EXPECT_EQ(J(o, rt, "log_level"),
            "json:"
            "2");
  EXPECT_EQ(J(o, rt, "tls_min_version"),
            "json:"
            "769");
  EXPECT_EQ(J(o, rt, "tls_required"),
            "json:"
            "0");
  EXPECT_EQ(J(o, rt, "snappy"),
            "json:"
            "true");
  EXPECT_EQ(J(o, rt, "broadcast_http_port"),
            "json:"
            "4151");
  EXPECT_EQ(J(o, rt, "e2e_processing_latency_percentiles"),
            "json:"
            "[]");
  EXPECT_EQ(J(o, rt, "log_prefix"), "text:[nsqd] ");
  o.e2e_processing_latency_percentiles = {0.5, 1.0};
  EXPECT_EQ(J(o, rt, "e2e_processing_latency_percentiles"),
            "json:"
            "[1,0.5]");
  EXPECT_FALSE(J(o, rt, "lookupd_tcp_address"));  // flag name, not config name
  EXPECT_FALSE(J(o, rt, "nope"));
}

TEST(GoLogLevel, Names) {
  EXPECT_EQ(go_log_level("DEBUG"), 1);
  EXPECT_EQ(go_log_level("warn"), 3);
  EXPECT_EQ(go_log_level("fatal"), 5);
  EXPECT_EQ(go_log_level("warning"), 0);
}

TEST(StatsdPrefix, HostKeyExpansion) {
  EXPECT_EQ(expand_statsd_prefix("nsq.%s", "my.host", 4151), "nsq.my_host_4151.");
  EXPECT_EQ(expand_statsd_prefix("nsq.", "h", 1), "nsq.");
  EXPECT_EQ(expand_statsd_prefix("", "h", 1), "");
}

}  // namespace
}  // namespace nsq::nsqd
