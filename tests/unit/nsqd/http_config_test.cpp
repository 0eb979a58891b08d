// /config/:opt values encoded as the reference's reflection + encoding/json does.
#include "nsqd/http_config.hpp"

#include <gtest/gtest.h>

namespace nsq::nsqd {
namespace {

TEST(OptionJson, TypesAndNames) {
  NsqdOptions o;
  o.broadcast_address = "h";
  RuntimeOptionValues rt;
  rt.lookupd_addresses = {"127.0.0.1:4160"};
  rt.broadcast_http_port = 4151;
  EXPECT_EQ(option_json(o, rt, "mem_queue_size"), "10000");
  EXPECT_EQ(option_json(o, rt, "msg_timeout"), "60000000000");
  EXPECT_EQ(option_json(o, rt, "nsqlookupd_tcp_addresses"), R"(["127.0.0.1:4160"])");
  EXPECT_EQ(option_json(o, rt, "auth_http_addresses"), "[]");
  EXPECT_EQ(option_json(o, rt, "log_level"), "2");
  EXPECT_EQ(option_json(o, rt, "tls_min_version"), "769");
  EXPECT_EQ(option_json(o, rt, "tls_required"), "0");
  EXPECT_EQ(option_json(o, rt, "snappy"), "true");
  EXPECT_EQ(option_json(o, rt, "broadcast_http_port"), "4151");
  EXPECT_EQ(option_json(o, rt, "e2e_processing_latency_percentiles"), "null");
  o.e2e_processing_latency_percentiles = {0.5, 1.0};
  EXPECT_EQ(option_json(o, rt, "e2e_processing_latency_percentiles"), "[1,0.5]");
  EXPECT_FALSE(option_json(o, rt, "lookupd_tcp_address"));  // flag name, not config name
  EXPECT_FALSE(option_json(o, rt, "nope"));
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
