// The server side of IDENTIFY, as pure functions: validating the client's requested settings
// against the options (in the reference's order, with its messages) and building the
// feature-negotiation reply. Sans-IO so every rule is unit-testable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nsq/protocol/identify.hpp"
#include "nsqd/options.hpp"

namespace nsq::nsqd {

// A connection's negotiated settings; starts from the server defaults.
struct ClientSettings {
  int64_t heartbeat_interval_ns = 0;  // 0 = heartbeats disabled
  int64_t output_buffer_size = 16384;
  int64_t output_buffer_timeout_ns = 0;
  int32_t sample_rate = 0;
  int64_t msg_timeout_ns = 0;

  static ClientSettings defaults(const NsqdOptions& opts);
};

// Applies the request to `settings`; returns the validation message on failure (sent as
// "E_BAD_BODY IDENTIFY <message>"), e.g. "heartbeat interval (100) is invalid".
std::optional<std::string> apply_identify(const protocol::IdentifyRequest& req,
                                          const NsqdOptions& opts, ClientSettings& settings);

// What this server can negotiate at all (TLS needs a certificate, auth an auth server;
// snappy/deflate are further gated by their flags in negotiate_features).
struct ServerFeatures {
  bool tls = false;
  bool snappy = false;
  bool deflate = false;
  bool auth = false;
};

struct NegotiatedFeatures {
  bool tls = false;
  bool snappy = false;
  bool deflate = false;
  int64_t deflate_level = 6;
};

NegotiatedFeatures negotiate_features(const protocol::IdentifyRequest& req, const NsqdOptions& opts,
                                      const ServerFeatures& server);

// The reply JSON, compact and in the reference's key order.
std::string identify_reply_json(const NsqdOptions& opts, const ClientSettings& settings,
                                const NegotiatedFeatures& features, bool auth_required);

}  // namespace nsq::nsqd
