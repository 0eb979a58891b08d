// GET/PUT /config/:opt: every nsqd option addressed by its config-file name, encoded the way
// the reference's reflection over its Options struct and its V1 responder do: a string option
// is answered as bare text (RespondV1 writes Go strings as they are, without JSON quotes or a
// JSON content type); everything else is JSON: lists as arrays, durations as integer
// nanoseconds, log_level as Go's number (1 debug .. 5 fatal), tls_required 0/1/2,
// tls_min_version as the TLS version number.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nsqd/options.hpp"

namespace nsq::nsqd {

// Option values that differ from the command line once the daemon runs.
struct RuntimeOptionValues {
  std::vector<std::string> lookupd_addresses;
  int log_level = 2;               // Go lg.LogLevel: 1 debug, 2 info, ... 5 fatal
  int64_t broadcast_tcp_port = 0;  // the listening port when the flag was 0
  int64_t broadcast_http_port = 0;
  std::string statsd_prefix;  // already host-expanded
};

struct OptionValue {
  std::string body;
  bool json = true;  // false: a string option, sent as plain text
  bool operator==(const OptionValue&) const = default;
};

// The value of option `cfg_name`, or nullopt when no option has that name.
std::optional<OptionValue> option_value(const NsqdOptions& opts, const RuntimeOptionValues& rt,
                                        std::string_view cfg_name);

// -tls-required as the reference stores it: 0 not required, 1 tcp-https (all but HTTP),
// 2 required everywhere.
int tls_required_number(const std::string& value);
// The same after nsqd.go New(): -tls-client-auth-policy raises "not required" to 2.
int tls_required_number(const NsqdOptions& o);

// Go's lg.ParseLogLevel (debug|info|warn|error|fatal, any case) -> 1..5; 0 when invalid.
int go_log_level(std::string_view name);

// The reference's statsd prefix expansion: "%s" -> "<broadcast-address>_<http-port>" with
// '.' and ':' turned into '_', plus a trailing '.'; "" stays "".
std::string expand_statsd_prefix(const std::string& prefix, const std::string& broadcast_address,
                                 int64_t broadcast_http_port);

}  // namespace nsq::nsqd
