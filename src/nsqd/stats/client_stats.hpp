// ClientStats: what /stats, statsd and /metrics report of one TCP client, as plain data.
// The connection (tcp/) fills it and the stats layer renders it, so neither needs the other's
// classes (the reference keeps ClientStats in its stats.go for the same reason).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace nsq::nsqd {

struct ClientStats {
  int64_t id = 0;
  std::string client_id;
  std::string hostname;
  std::string user_agent;
  std::string remote_address;
  int32_t state = 0;
  int64_t ready_count = 0;
  int64_t in_flight_count = 0;
  uint64_t message_count = 0;
  uint64_t finish_count = 0;
  uint64_t requeue_count = 0;
  int64_t connect_ts = 0;
  int32_t sample_rate = 0;
  std::map<std::string, uint64_t> pub_counts;
  // Negotiated features, as /stats reports them (false/empty until TLS, compression and
  // auth are negotiated by this connection).
  bool deflate = false;
  bool snappy = false;
  bool tls = false;
  std::string tls_cipher_suite;
  std::string tls_version;
  std::string tls_negotiated_protocol;
  bool tls_negotiated_protocol_is_mutual = false;
  bool authed = false;
  std::string auth_identity;
  std::string auth_identity_url;
};

}  // namespace nsq::nsqd
