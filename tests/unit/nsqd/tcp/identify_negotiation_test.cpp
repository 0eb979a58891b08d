// IDENTIFY on the server side (the reference's client_v2.go Identify/Set*): defaults,
// validation order and messages, -1 / 0 special values, feature negotiation and the reply JSON.
#include "nsqd/tcp/identify_negotiation.hpp"

#include <gtest/gtest.h>

#include <string>

namespace nsq::nsqd {
namespace {

using protocol::IdentifyRequest;
constexpr int64_t kMs = 1000000;

TEST(IdentifyNegotiation, ServerDefaults) {
  const NsqdOptions opts;
  const ClientSettings s = ClientSettings::defaults(opts);
  EXPECT_EQ(s.heartbeat_interval_ns, 30000 * kMs);  // client timeout (60 s) / 2
  EXPECT_EQ(s.output_buffer_size, 16384);
  EXPECT_EQ(s.output_buffer_timeout_ns, 250 * kMs);
  EXPECT_EQ(s.sample_rate, 0);
  EXPECT_EQ(s.msg_timeout_ns, 60000 * kMs);

  NsqdOptions custom;
  custom.output_buffer_timeout = std::chrono::milliseconds(100);
  custom.msg_timeout = std::chrono::seconds(5);
  const ClientSettings c = ClientSettings::defaults(custom);
  EXPECT_EQ(c.output_buffer_timeout_ns, 100 * kMs);
  EXPECT_EQ(c.msg_timeout_ns, 5000 * kMs);
}

TEST(IdentifyNegotiation, EmptyRequestKeepsDefaults) {
  const NsqdOptions opts;
  ClientSettings s = ClientSettings::defaults(opts);
  EXPECT_EQ(apply_identify(IdentifyRequest{}, opts, s), std::nullopt);
  const ClientSettings d = ClientSettings::defaults(opts);
  EXPECT_EQ(s.heartbeat_interval_ns, d.heartbeat_interval_ns);
  EXPECT_EQ(s.output_buffer_size, d.output_buffer_size);
  EXPECT_EQ(s.output_buffer_timeout_ns, d.output_buffer_timeout_ns);
  EXPECT_EQ(s.sample_rate, d.sample_rate);
  EXPECT_EQ(s.msg_timeout_ns, d.msg_timeout_ns);
}

// Runs apply_identify on fresh default settings.
struct Applied {
  std::optional<std::string> error;
  ClientSettings settings;
};
Applied apply(const IdentifyRequest& req, const NsqdOptions& opts = NsqdOptions{}) {
  Applied a{std::nullopt, ClientSettings::defaults(opts)};
  a.error = apply_identify(req, opts, a.settings);
  return a;
}

TEST(IdentifyNegotiation, HeartbeatInterval) {
  IdentifyRequest r;
  r.heartbeat_interval = -1;
  EXPECT_EQ(apply(r).settings.heartbeat_interval_ns, 0);  // disabled
  r.heartbeat_interval = 1000;
  EXPECT_EQ(apply(r).settings.heartbeat_interval_ns, 1000 * kMs);
  r.heartbeat_interval = 60000;  // --max-heartbeat-interval default 60s
  EXPECT_EQ(apply(r).settings.heartbeat_interval_ns, 60000 * kMs);
  for (int64_t bad :
       {int64_t{-2}, int64_t{1}, int64_t{999}, int64_t{60001}, INT64_MIN, INT64_MAX}) {
    r.heartbeat_interval = bad;
    EXPECT_EQ(apply(r).error, "heartbeat interval (" + std::to_string(bad) + ") is invalid");
  }
  NsqdOptions opts;
  opts.max_heartbeat_interval = std::chrono::minutes(5);
  r.heartbeat_interval = 300000;
  EXPECT_EQ(apply(r, opts).error, std::nullopt);
  r.heartbeat_interval = 300001;
  EXPECT_EQ(apply(r, opts).error, "heartbeat interval (300001) is invalid");
}

TEST(IdentifyNegotiation, OutputBufferTimeout) {
  IdentifyRequest r;
  r.output_buffer_timeout = -1;
  EXPECT_EQ(apply(r).settings.output_buffer_timeout_ns, 0);
  r.output_buffer_timeout = 25;  // --min-output-buffer-timeout
  EXPECT_EQ(apply(r).settings.output_buffer_timeout_ns, 25 * kMs);
  r.output_buffer_timeout = 30000;  // --max-output-buffer-timeout
  EXPECT_EQ(apply(r).settings.output_buffer_timeout_ns, 30000 * kMs);
  for (int64_t bad : {int64_t{-2}, int64_t{1}, int64_t{24}, int64_t{30001}}) {
    r.output_buffer_timeout = bad;
    EXPECT_EQ(apply(r).error, "output buffer timeout (" + std::to_string(bad) + ") is invalid");
  }
  NsqdOptions opts;
  opts.max_output_buffer_timeout = std::chrono::seconds(1);
  r.output_buffer_timeout = 1001;
  EXPECT_EQ(apply(r, opts).error, "output buffer timeout (1001) is invalid");
}

TEST(IdentifyNegotiation, OutputBufferSize) {
  IdentifyRequest r;
  r.output_buffer_size = 64;
  EXPECT_EQ(apply(r).settings.output_buffer_size, 64);
  r.output_buffer_size = 65536;  // --max-output-buffer-size
  EXPECT_EQ(apply(r).settings.output_buffer_size, 65536);
  for (int64_t bad : {int64_t{-2}, int64_t{1}, int64_t{63}, int64_t{65537}}) {
    r.output_buffer_size = bad;
    EXPECT_EQ(apply(r).error, "output buffer size (" + std::to_string(bad) + ") is invalid");
  }
  NsqdOptions opts;
  opts.max_output_buffer_size = 512 * 1024;
  r.output_buffer_size = 524289;
  EXPECT_EQ(apply(r, opts).error, "output buffer size (524289) is invalid");
}

TEST(IdentifyNegotiation, OutputBufferSizeMinusOneMeansUnbuffered) {
  IdentifyRequest r;
  r.output_buffer_size = -1;
  r.output_buffer_timeout = 100;  // overridden: size -1 also zeroes the timeout
  const Applied a = apply(r);
  EXPECT_EQ(a.error, std::nullopt);
  EXPECT_EQ(a.settings.output_buffer_size, 1);
  EXPECT_EQ(a.settings.output_buffer_timeout_ns, 0);
}

TEST(IdentifyNegotiation, SampleRate) {
  IdentifyRequest r;
  for (int64_t ok : {0, 1, 99}) {
    r.sample_rate = ok;
    const Applied a = apply(r);
    EXPECT_EQ(a.error, std::nullopt);
    EXPECT_EQ(a.settings.sample_rate, ok);
  }
  for (int64_t bad : {int64_t{-1}, int64_t{100}, int64_t{INT32_MIN}, int64_t{INT32_MAX}}) {
    r.sample_rate = bad;
    EXPECT_EQ(apply(r).error, "sample rate (" + std::to_string(bad) + ") is invalid");
  }
}

TEST(IdentifyNegotiation, MsgTimeout) {
  IdentifyRequest r;
  r.msg_timeout = 1000;
  EXPECT_EQ(apply(r).settings.msg_timeout_ns, 1000 * kMs);
  r.msg_timeout = 900000;  // --max-msg-timeout 15m
  EXPECT_EQ(apply(r).settings.msg_timeout_ns, 900000 * kMs);
  for (int64_t bad : {int64_t{-1}, int64_t{999}, int64_t{900001}}) {
    r.msg_timeout = bad;
    EXPECT_EQ(apply(r).error, "msg timeout (" + std::to_string(bad) + ") is invalid");
  }
}

TEST(IdentifyNegotiation, ValidationOrder) {
  // heartbeat, then output buffer timeout, then size, then sample rate, then msg timeout.
  IdentifyRequest r;
  r.heartbeat_interval = 5;
  r.output_buffer_timeout = 5;
  r.output_buffer_size = 5;
  r.sample_rate = 500;
  r.msg_timeout = 5;
  EXPECT_EQ(apply(r).error, "heartbeat interval (5) is invalid");
  r.heartbeat_interval = 0;
  EXPECT_EQ(apply(r).error, "output buffer timeout (5) is invalid");
  r.output_buffer_timeout = 0;
  EXPECT_EQ(apply(r).error, "output buffer size (5) is invalid");
  r.output_buffer_size = 0;
  EXPECT_EQ(apply(r).error, "sample rate (500) is invalid");
  r.sample_rate = 0;
  EXPECT_EQ(apply(r).error, "msg timeout (5) is invalid");
  r.msg_timeout = 0;
  EXPECT_EQ(apply(r).error, std::nullopt);
}

TEST(IdentifyNegotiation, FeatureNegotiation) {
  const NsqdOptions opts;
  IdentifyRequest r;
  ServerFeatures none;
  ServerFeatures all{true, true, true, true};

  NegotiatedFeatures f = negotiate_features(r, opts, all);
  EXPECT_FALSE(f.tls);
  EXPECT_FALSE(f.snappy);
  EXPECT_FALSE(f.deflate);
  EXPECT_EQ(f.deflate_level, 6);

  r.tls_v1 = true;
  r.snappy = true;
  r.deflate = true;
  r.deflate_level = 3;
  f = negotiate_features(r, opts, none);  // the server has none of them
  EXPECT_FALSE(f.tls);
  EXPECT_FALSE(f.snappy);
  EXPECT_FALSE(f.deflate);
  EXPECT_EQ(f.deflate_level, 6);  // requested level only counts when deflate is negotiated

  f = negotiate_features(r, opts, all);
  EXPECT_TRUE(f.tls);
  EXPECT_TRUE(f.snappy);
  EXPECT_TRUE(f.deflate);  // the caller refuses this combination
  EXPECT_EQ(f.deflate_level, 3);

  NsqdOptions off;
  off.snappy = false;
  off.deflate = false;
  f = negotiate_features(r, off, all);
  EXPECT_TRUE(f.tls);
  EXPECT_FALSE(f.snappy);
  EXPECT_FALSE(f.deflate);
}

TEST(IdentifyNegotiation, DeflateLevel) {
  NsqdOptions opts;
  const ServerFeatures server{false, false, true, false};
  IdentifyRequest r;
  r.deflate = true;
  r.deflate_level = 0;
  EXPECT_EQ(negotiate_features(r, opts, server).deflate_level, 6);
  r.deflate_level = -5;
  EXPECT_EQ(negotiate_features(r, opts, server).deflate_level, 6);
  r.deflate_level = 9;  // capped at --max-deflate-level 6
  EXPECT_EQ(negotiate_features(r, opts, server).deflate_level, 6);
  opts.max_deflate_level = 9;
  EXPECT_EQ(negotiate_features(r, opts, server).deflate_level, 9);
  // The cap applies even when deflate is not negotiated.
  opts.max_deflate_level = 2;
  r.deflate = false;
  EXPECT_EQ(negotiate_features(r, opts, server).deflate_level, 2);
}

TEST(IdentifyNegotiation, ReplyJsonDefaults) {
  const NsqdOptions opts;
  const ClientSettings s = ClientSettings::defaults(opts);
  EXPECT_EQ(identify_reply_json(opts, s, NegotiatedFeatures{}, false),
            R"({"max_rdy_count":2500,"version":"1.3.0","max_msg_timeout":900000,)"
            R"("msg_timeout":60000,"tls_v1":false,"deflate":false,"deflate_level":6,)"
            R"("max_deflate_level":6,"snappy":false,"sample_rate":0,"auth_required":false,)"
            R"("output_buffer_size":16384,"output_buffer_timeout":250})");
}

TEST(IdentifyNegotiation, ReplyJsonReflectsTheClientsSettings) {
  NsqdOptions opts;
  opts.max_rdy_count = 50;
  opts.max_msg_timeout = std::chrono::minutes(1);
  opts.max_deflate_level = 9;
  IdentifyRequest r;
  r.output_buffer_size = -1;
  r.sample_rate = 42;
  r.msg_timeout = 1234;
  ClientSettings s = ClientSettings::defaults(opts);
  ASSERT_EQ(apply_identify(r, opts, s), std::nullopt);
  NegotiatedFeatures f;
  f.tls = true;
  f.deflate = true;
  f.deflate_level = 7;
  EXPECT_EQ(identify_reply_json(opts, s, f, true),
            R"({"max_rdy_count":50,"version":"1.3.0","max_msg_timeout":60000,)"
            R"("msg_timeout":1234,"tls_v1":true,"deflate":true,"deflate_level":7,)"
            R"("max_deflate_level":9,"snappy":false,"sample_rate":42,"auth_required":true,)"
            R"("output_buffer_size":1,"output_buffer_timeout":0})");
}

}  // namespace
}  // namespace nsq::nsqd
