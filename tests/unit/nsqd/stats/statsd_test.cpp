// statsd lines (names, counter deltas, gauges) and datagram packing.
#include "nsqd/stats/statsd.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace nsq::nsqd {
namespace {

StatsSnapshot snapshot(uint64_t topic_msgs, uint64_t channel_msgs, uint64_t requeues) {
  TopicSnapshot t;
  t.stats.name = "t";
  t.stats.message_count = topic_msgs;
  t.stats.message_bytes = topic_msgs * 10;
  t.stats.depth = 3;
  ChannelSnapshot c;
  c.stats.name = "c";
  c.stats.message_count = channel_msgs;
  c.stats.requeue_count = requeues;
  c.stats.in_flight_count = 2;
  c.stats.client_count = 1;
  c.e2e = E2eResult{5, {{0.99, 1500.7}, {0.5, 20}}};
  t.channels.push_back(c);
  StatsSnapshot s;
  s.topics = std::vector<TopicSnapshot>{t};
  return s;
}

bool has(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

TEST(StatsdLines, CountersAreDeltasGaugesAreValues) {
  const auto first = snapshot(10, 10, 1);
  auto lines = statsd_lines("nsq.h_4151.", first, nullptr, nullptr, nullptr, false);
  EXPECT_TRUE(has(lines, "nsq.h_4151.topic.t.message_count:10|c\n"));
  EXPECT_TRUE(has(lines, "nsq.h_4151.topic.t.message_bytes:100|c\n"));
  EXPECT_TRUE(has(lines, "nsq.h_4151.topic.t.depth:3|g\n"));
  EXPECT_TRUE(has(lines, "nsq.h_4151.topic.t.backend_depth:0|g\n"));
  EXPECT_TRUE(has(lines, "nsq.h_4151.topic.t.channel.c.in_flight_count:2|g\n"));
  EXPECT_TRUE(has(lines, "nsq.h_4151.topic.t.channel.c.clients:1|g\n"));
  EXPECT_TRUE(has(lines, "nsq.h_4151.topic.t.channel.c.requeue_count:1|c\n"));
  EXPECT_TRUE(has(lines, "nsq.h_4151.topic.t.channel.c.e2e_processing_latency_99:1500|g\n"));
  EXPECT_TRUE(has(lines, "nsq.h_4151.topic.t.channel.c.e2e_processing_latency_50:20|g\n"));
  const auto second = snapshot(15, 14, 1);
  lines = statsd_lines("p.", second, &first, nullptr, nullptr, false);
  EXPECT_TRUE(has(lines, "p.topic.t.message_count:5|c\n"));
  EXPECT_TRUE(has(lines, "p.topic.t.channel.c.message_count:4|c\n"));
  EXPECT_TRUE(has(lines, "p.topic.t.channel.c.requeue_count:0|c\n"));
}

TEST(StatsdLines, MemStatsAndEphemeralExclusion) {
  MemStats mem;
  mem.heap_in_use_bytes = 42;
  auto snap = snapshot(1, 1, 0);
  (*snap.topics)[0].stats.name = "x#ephemeral";
  auto lines = statsd_lines("", snap, nullptr, &mem, nullptr, true);
  EXPECT_TRUE(has(lines, "mem.heap_in_use_bytes:42|g\n"));
  EXPECT_TRUE(has(lines, "mem.gc_runs:0|c\n"));
  EXPECT_TRUE(has(lines, "mem.next_gc_bytes:0|g\n"));
  for (const auto& l : lines) EXPECT_EQ(l.find("ephemeral"), std::string::npos) << l;
}

TEST(StatsdPacking, NeverSplitsALine) {
  const std::vector<std::string> lines = {"aaaa\n", "bbbb\n", "cc\n", std::string(12, 'x')};
  const auto d = pack_statsd_datagrams(lines, 10);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0], "aaaa\nbbbb\n");
  EXPECT_EQ(d[1], "cc\n");
  EXPECT_EQ(d[2], std::string(12, 'x'));  // longer than a packet: sent alone
}

}  // namespace
}  // namespace nsq::nsqd
