// nsqadmin's data model: decoding nsqd/lookupd JSON, the reference's aggregation (including
// its aliasing of the first node's channel object) and Go-identical encoding.
#include "nsqadmin/cluster_types.hpp"

#include <gtest/gtest.h>

namespace nsq::nsqadmin {
namespace {

using nlohmann::json;

std::string encode_topic(const TopicStats& t) {
  gocompat::JsonWriter w;
  write_topic(w, t);
  return w.take();
}

TopicPtr node_topic(const std::string& node, int64_t depth, int64_t channel_depth,
                    const json& e2e = json{{"count", 0}, {"percentiles", nullptr}}) {
  json j = {{"topic_name", "t"},
            {"depth", depth},
            {"backend_depth", 0},
            {"message_count", depth},
            {"paused", false},
            {"e2e_processing_latency", e2e},
            {"channels", json::array({{{"channel_name", "c"},
                                       {"depth", channel_depth},
                                       {"backend_depth", 0},
                                       {"message_count", channel_depth},
                                       {"clients", json::array()},
                                       {"e2e_processing_latency", e2e}}})}};
  auto t = TopicStats::from_nsqd(j, 100);
  t->node = node;
  t->hostname = "h";
  for (auto& c : t->channels) {
    c->node = node;
    c->hostname = "h";
    c->topic_name = "t";
  }
  return t;
}

TEST(ClusterTypes, TopicAddSumsAndReusesTheFirstNodesChannel) {
  auto a = node_topic("a:1", 2, 5);
  auto b = node_topic("b:1", 3, 7);
  TopicStats all;
  all.topic_name = "t";
  all.add(a);
  all.add(b);
  EXPECT_EQ(all.node, "*");
  EXPECT_EQ(all.depth, 5);
  ASSERT_EQ(all.channels.size(), 1u);
  // The aggregate channel IS node a's object (the reference mutates it in place).
  EXPECT_EQ(all.channels[0].get(), a->channels[0].get());
  EXPECT_EQ(all.channels[0]->depth, 12);
  EXPECT_EQ(all.channels[0]->node, "*");
  ASSERT_EQ(all.channels[0]->nodes.size(), 1u);
  EXPECT_EQ(all.channels[0]->nodes[0]->node, "b:1");
  EXPECT_EQ(all.nodes.size(), 2u);
}

// Found by fuzz/nsqadmin_stats_fuzz.cpp: a fractional count beyond int64 was converted with an
// undefined cast (UBSan: "outside the range of representable values").
TEST(ClusterTypes, CountsBeyondInt64ReadAsZero) {
  const json j =
      json::parse(R"({"topic_name":"t","depth":1e85,"backend_depth":-1e300,"message_count":2.9,)"
                  R"("channels":[{"channel_name":"c","depth":9.3e18,"message_count":-9.2e18}]})");
  auto t = TopicStats::from_nsqd(j, 100);
  EXPECT_EQ(t->depth, 0);
  EXPECT_EQ(t->backend_depth, 0);
  EXPECT_EQ(t->message_count, 2);
  ASSERT_EQ(t->channels.size(), 1u);
  EXPECT_EQ(t->channels[0]->depth, 0);
  EXPECT_EQ(t->channels[0]->message_count, -9200000000000000000);
}

// Also from the fuzzer: summing nodes' counts overflowed int64 (undefined); Go's += wraps.
TEST(ClusterTypes, TopicAddWrapsLikeGo) {
  const json big = {{"topic_name", "t"}, {"depth", INT64_MAX}, {"message_count", 1}};
  auto total = std::make_shared<TopicStats>();
  total->add(TopicStats::from_nsqd(big, 100));
  total->add(TopicStats::from_nsqd(big, 100));
  EXPECT_EQ(total->depth, -2);
  EXPECT_EQ(total->message_count, 2);
}

TEST(ClusterTypes, EmptyAggregateEncodesNulls) {
  TopicStats all;
  all.topic_name = "t";
  EXPECT_EQ(encode_topic(all),
            R"({"node":"","hostname":"","topic_name":"t","depth":0,"memory_depth":0,)"
            R"("backend_depth":0,"message_count":0,"nodes":null,"channels":null,"paused":false,)"
            R"("e2e_processing_latency":null})");
}

TEST(ClusterTypes, E2eAggregateFollowsTheReference) {
  json e2e = {{"count", 4}, {"percentiles", json::array({{{"quantile", 0.99}, {"value", 1000}}})}};
  auto a = E2eAggregate::from_nsqd(e2e);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->percentiles[0].at("min"), 1000);
  EXPECT_EQ(a->percentiles[0].at("count"), 4);
  json e2e2 = {{"count", 4}, {"percentiles", json::array({{{"quantile", 0.99}, {"value", 3000}}})}};
  auto b = E2eAggregate::from_nsqd(e2e2);
  E2eAggregate sum;
  sum.add(a.get());
  sum.add(b.get());
  EXPECT_EQ(sum.host, "*");
  EXPECT_EQ(sum.count, 8);
  ASSERT_EQ(sum.percentiles.size(), 1u);
  EXPECT_EQ(sum.percentiles[0].at("max"), 3000);
  EXPECT_EQ(sum.percentiles[0].at("min"), 3000);  // [quirk] min of the maxima
  EXPECT_EQ(sum.percentiles[0].at("average"), 2000);
  EXPECT_EQ(sum.percentiles[0].at("count"), 8);
}

TEST(ClusterTypes, LookupdProducerTopicsAndTombstones) {
  json j = {{"remote_address", "1.2.3.4:5"},
            {"hostname", "h"},
            {"broadcast_address", "::1"},
            {"tcp_port", 4150},
            {"http_port", 4151},
            {"version", "1.3.0"},
            {"topics", {"a", "b"}},
            {"tombstones", {false, true}}};
  auto p = Producer::from_lookupd(j);
  EXPECT_EQ(p.http_address(), "[::1]:4151");
  ASSERT_EQ(p.topics.size(), 2u);
  EXPECT_TRUE(p.topics[1].tombstoned);
  EXPECT_TRUE(SemVer::parse("1.2.9") < p.version_obj);
  EXPECT_TRUE(SemVer::parse("1.3.0-rc1") < p.version_obj);
  EXPECT_FALSE(SemVer::parse("junk") < SemVer{});
}

// Go's time.Time.Sub saturates; an absurd connect_ts from an nsqd must not overflow (the
// nsqadmin_stats fuzz target found the signed overflow).
TEST(ClientStatsTest, ConnectedDurationSaturatesAsGo) {
  EXPECT_EQ(ClientStats::from_nsqd(json{{"connect_ts", 90}}, 100)->connected_ns, 10000000000LL);
  EXPECT_EQ(ClientStats::from_nsqd(json{{"connect_ts", 110}}, 100)->connected_ns, -10000000000LL);
  EXPECT_EQ(ClientStats::from_nsqd(json{{"connect_ts", -6700000000000000000LL}}, 100)->connected_ns,
            INT64_MAX);
  EXPECT_EQ(ClientStats::from_nsqd(json{{"connect_ts", 6700000000000000000LL}}, 100)->connected_ns,
            INT64_MIN);
  EXPECT_EQ(ClientStats::from_nsqd(json{{"connect_ts", INT64_MIN}}, 100)->connected_ns, INT64_MAX);
}

}  // namespace
}  // namespace nsq::nsqadmin
