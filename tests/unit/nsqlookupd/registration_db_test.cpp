// nsqlookupd's RegistrationDB: keys outlive producers, wildcard matching, per-registration
// tombstones, activity filtering, /nodes and the reverse index used on disconnect.
#include <gtest/gtest.h>

#include "nsqlookupd/registration_db.hpp"

namespace nsq::nsqlookupd {
namespace {

PeerPtr peer(const std::string& id, const std::string& addr = "h", int64_t http = 4151) {
  auto p = std::make_shared<PeerInfo>();
  p->id = id;
  p->remote_address = id;
  p->broadcast_address = addr;
  p->http_port = http;
  p->tcp_port = 4150;
  p->version = "1.3.0";
  p->last_update_ns = 1000;
  return p;
}

Registration topic(const std::string& t) {
  return {"topic", t, ""};
}
Registration channel(const std::string& t, const std::string& c) {
  return {"channel", t, c};
}

TEST(RegistrationDB, AddProducerOncePerPeer) {
  RegistrationDB db;
  auto a = peer("a");
  EXPECT_TRUE(db.add_producer(topic("t"), a));
  EXPECT_FALSE(db.add_producer(topic("t"), a));
  EXPECT_TRUE(db.add_producer(topic("t"), peer("b")));
  EXPECT_EQ(db.find_producers("topic", "t", "").size(), 2u);
}

TEST(RegistrationDB, KeysOutliveProducers) {
  RegistrationDB db;
  db.add_producer(topic("t"), peer("a"));
  auto [removed, left] = db.remove_producer(topic("t"), "a");
  EXPECT_TRUE(removed);
  EXPECT_EQ(left, 0u);
  EXPECT_EQ(db.find_registrations("topic", "t", "").size(), 1u);
  EXPECT_FALSE(db.remove_producer(topic("t"), "a").first);
  EXPECT_FALSE(db.remove_producer(topic("nope"), "a").first);
  db.remove_registration(topic("t"));
  EXPECT_TRUE(db.find_registrations("topic", "t", "").empty());
}

TEST(RegistrationDB, WildcardsMatchLikeTheReference) {
  RegistrationDB db;
  db.add_registration(channel("t", "c1"));
  db.add_registration(channel("t", "c2"));
  db.add_registration(channel("u", "c1"));
  db.add_registration(topic("t"));
  EXPECT_EQ(db.find_registrations("channel", "t", "*").size(), 2u);
  EXPECT_EQ(db.find_registrations("channel", "*", "c1").size(), 2u);
  EXPECT_EQ(db.find_registrations("channel", "*", "*").size(), 3u);
  EXPECT_EQ(db.find_registrations("topic", "*", "").size(), 1u);
  EXPECT_TRUE(db.find_registrations("channel", "t", "c3").empty());
}

TEST(RegistrationDB, FindProducersDedupesAcrossKeys) {
  RegistrationDB db;
  auto a = peer("a");
  db.add_producer(channel("t", "c1"), a);
  db.add_producer(channel("t", "c2"), a);
  db.add_producer(channel("t", "c2"), peer("b"));
  EXPECT_EQ(db.find_producers("channel", "t", "*").size(), 2u);
}

TEST(RegistrationDB, LookupRegistrationsFollowsAddsAndRemoves) {
  RegistrationDB db;
  auto a = peer("a");
  db.add_producer(Registration{"client", "", ""}, a);
  db.add_producer(topic("t"), a);
  db.add_producer(channel("t", "c"), a);
  EXPECT_EQ(db.lookup_registrations("a").size(), 3u);
  db.remove_producer(channel("t", "c"), "a");
  EXPECT_EQ(db.lookup_registrations("a").size(), 2u);
  db.remove_registration(topic("t"));
  EXPECT_EQ(db.lookup_registrations("a").size(), 1u);
  EXPECT_TRUE(db.lookup_registrations("zz").empty());
}

TEST(RegistrationDB, TombstoneIsPerTopicAndExpires) {
  RegistrationDB db;
  auto a = peer("a", "host", 4151);
  db.add_producer(topic("t"), a);
  db.add_producer(topic("u"), a);
  EXPECT_EQ(db.tombstone_topic_producer("t", "host:9999", 5000), 0u);
  EXPECT_EQ(db.tombstone_topic_producer("t", "host:4151", 5000), 1u);

  const int64_t lifetime = 100;
  auto t = filter_active(db.find_producers("topic", "t", ""), 5050, 1'000'000, lifetime);
  EXPECT_TRUE(t.empty());
  auto u = filter_active(db.find_producers("topic", "u", ""), 5050, 1'000'000, lifetime);
  EXPECT_EQ(u.size(), 1u);
  // After the lifetime the tombstone no longer hides it.
  t = filter_active(db.find_producers("topic", "t", ""), 5200, 1'000'000, lifetime);
  EXPECT_EQ(t.size(), 1u);
}

TEST(RegistrationDB, InactiveProducersAreFiltered) {
  RegistrationDB db;
  auto a = peer("a");
  a->last_update_ns = 1000;
  db.add_producer(topic("t"), a);
  EXPECT_EQ(filter_active(db.find_producers("topic", "t", ""), 1500, 500, 0).size(), 1u);
  EXPECT_TRUE(filter_active(db.find_producers("topic", "t", ""), 1501, 500, 0).empty());
}

TEST(RegistrationDB, NodesListTopicsWithTombstones) {
  RegistrationDB db;
  auto a = peer("a", "host", 4151);
  db.add_producer(Registration{"client", "", ""}, a);
  db.add_producer(topic("t"), a);
  db.add_producer(topic("u"), a);
  db.add_producer(channel("t", "c"), a);
  db.tombstone_topic_producer("u", "host:4151", 2000);
  auto nodes = db.nodes(2010, 1'000'000, 100);
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].topics, (std::vector<std::string>{"t", "u"}));
  EXPECT_EQ(nodes[0].tombstones, (std::vector<bool>{false, true}));
  // Inactive peers are not nodes.
  EXPECT_TRUE(db.nodes(1'000'000'000, 10, 100).empty());
}

TEST(RegistrationDB, DumpSkipsKeysWithoutProducers) {
  RegistrationDB db;
  db.add_registration(topic("empty"));
  db.add_producer(topic("t"), peer("a"));
  auto d = db.dump();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].first, topic("t"));
  EXPECT_EQ(d[0].second[0].tombstoned_at_ns, kGoZeroTimeUnixNano);
}

}  // namespace
}  // namespace nsq::nsqlookupd
