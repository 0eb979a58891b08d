// The data model nsqadmin serves (the reference's internal/clusterinfo/types.go): producers,
// per-node and aggregated topic/channel stats, clients, e2e latency aggregates; decoded from
// nsqd/nsqlookupd JSON and encoded field for field (order, null-vs-[] and Go's number format)
// as the reference's encoding/json does.
//
// Aggregation follows the reference literally, including its aliasing: TopicStats::add() keeps
// the first node's ChannelStats object as the aggregate and mutates it, and that same object is
// still listed in the first node's per-node stats. Objects are shared_ptr for that reason.
// Plain values; not thread-safe (each request builds its own).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/gocompat/json_writer.hpp"

namespace nsq::nsqadmin {

struct ProducerTopic {
  std::string topic;
  bool tombstoned = false;
};

struct SemVer {
  int64_t major = 0, minor = 0, patch = 0;
  bool has_pre = false;
  std::string pre;
  static SemVer parse(const std::string& text);  // 0.0.0 when not a version
  bool operator<(const SemVer& o) const;
};

struct Producer {
  std::vector<std::string> remote_addresses;  // null when empty
  std::string remote_address;
  std::string hostname;
  std::string broadcast_address;
  int64_t tcp_port = 0;
  int64_t http_port = 0;
  std::string version;
  SemVer version_obj;
  std::vector<ProducerTopic> topics;  // null when empty
  bool out_of_date = false;

  std::string http_address() const;  // net.JoinHostPort(broadcast_address, http_port)
  std::string tcp_address() const;
  std::string address() const { return remote_address.empty() ? "N/A" : remote_address; }

  // A lookupd producer object (topics + tombstones arrays when present).
  static Producer from_lookupd(const nlohmann::json& j);
};
using ProducerPtr = std::shared_ptr<Producer>;
using Producers = std::vector<ProducerPtr>;

// quantile.E2eProcessingLatencyAggregate.
struct E2eAggregate {
  int64_t count = 0;
  bool percentiles_null = true;
  std::vector<std::map<std::string, double>> percentiles;
  std::string topic, channel, host;

  static std::shared_ptr<E2eAggregate> from_nsqd(const nlohmann::json& j);
  void add(const E2eAggregate* other);
};
using E2ePtr = std::shared_ptr<E2eAggregate>;

struct ClientStats {
  std::string node, remote_address, version, client_id, hostname, user_agent;
  int64_t connect_ts = 0;
  int64_t connected_ns = 0;
  int64_t in_flight_count = 0, ready_count = 0, finish_count = 0, requeue_count = 0,
          message_count = 0, sample_rate = 0;
  bool deflate = false, snappy = false, authed = false;
  std::string auth_identity, auth_identity_url;
  bool tls = false;
  std::string tls_cipher_suite, tls_version, tls_negotiated_protocol;
  bool tls_negotiated_protocol_is_mutual = false;

  static std::shared_ptr<ClientStats> from_nsqd(const nlohmann::json& j, int64_t now_unix);
};
using ClientPtr = std::shared_ptr<ClientStats>;

struct ChannelStats;
using ChannelPtr = std::shared_ptr<ChannelStats>;

struct ChannelStats {
  std::string node, hostname, topic_name, channel_name;
  int64_t depth = 0, memory_depth = 0, backend_depth = 0, in_flight_count = 0, deferred_count = 0,
          requeue_count = 0, timeout_count = 0, message_count = 0, client_count = 0;
  std::vector<ChannelPtr> nodes;  // null when empty
  bool clients_null = true;
  std::vector<ClientPtr> clients;
  bool paused = false;
  E2ePtr e2e;

  static ChannelPtr from_nsqd(const nlohmann::json& j, int64_t now_unix);
  void add(const ChannelPtr& a);
};

struct TopicStats;
using TopicPtr = std::shared_ptr<TopicStats>;

struct TopicStats {
  std::string node, hostname, topic_name;
  int64_t depth = 0, memory_depth = 0, backend_depth = 0, message_count = 0;
  std::vector<TopicPtr> nodes;  // null when empty
  bool channels_null = true;
  std::vector<ChannelPtr> channels;
  bool paused = false;
  E2ePtr e2e;
  // nsqd -max-bytes-per-topic (ours, not the reference's): only nodes that report it, and
  // written only then, so /api stays the reference's otherwise.
  bool has_disk_limit = false;
  bool disk_full = false;
  int64_t disk_bytes = 0, max_disk_bytes = 0, disk_limit_refused_count = 0;

  static TopicPtr from_nsqd(const nlohmann::json& j, int64_t now_unix);
  void add(const TopicPtr& a);
};

// Stable sorts by hostname, as Go's sort.Sort does for the small lists involved.
void sort_by_host(std::vector<TopicPtr>& v);
void sort_by_host(std::vector<ChannelPtr>& v);
void sort_by_host(std::vector<ClientPtr>& v);
void sort_by_host(Producers& v);

// Encoders: the object's fields (no braces) so handlers can append "message" like the
// reference's embedded structs; write_* with braces.
void write_producer(gocompat::JsonWriter& w, const Producer& p);
void write_topic_fields(gocompat::JsonWriter& w, const TopicStats& t);
void write_channel_fields(gocompat::JsonWriter& w, const ChannelStats& c);
void write_topic(gocompat::JsonWriter& w, const TopicStats& t);
void write_channel(gocompat::JsonWriter& w, const ChannelStats& c);

}  // namespace nsq::nsqadmin
