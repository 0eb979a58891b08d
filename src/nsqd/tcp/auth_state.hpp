// Authorization as the reference's internal/auth: the auth server's reply (a TTL, an identity
// and a list of topic/channel regex grants with "publish"/"subscribe" permissions), the
// checks SUB/PUB make against it, and the query URL nsqd sends. Sans-IO; the HTTP call is
// in auth_query.*.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/result.hpp"

namespace nsq::nsqd {

struct AuthGrant {
  std::string topic;                  // regex source, as sent
  std::vector<std::string> channels;  // regex sources
  bool publish = false;
  bool subscribe = false;
  std::regex topic_re;
  std::vector<std::regex> channel_res;

  // A channel means a SUB check (needs "subscribe"), none a publish check. Regexes match
  // anywhere in the name, as Go's MatchString (anchor them with ^...$ to match exactly).
  bool allows(std::string_view topic, std::string_view channel) const;
};

struct AuthState {
  int64_t ttl_seconds = 0;
  std::string identity;
  std::string identity_url;
  std::vector<AuthGrant> grants;
  std::chrono::steady_clock::time_point expires;

  bool allows(std::string_view topic, std::string_view channel) const;
  bool expired(std::chrono::steady_clock::time_point now) const { return expires < now; }
};

// Parses and validates an auth server reply as the reference does (unknown permission,
// regex that does not compile, TTL <= 0 are errors); `expires` = now + TTL.
util::Result<AuthState> parse_auth_response(std::string_view body,
                                            std::chrono::steady_clock::time_point now);

struct AuthQuery {
  std::string remote_ip;
  bool tls = false;
  std::string common_name;  // of the client certificate, if any
  std::string secret;
};

// The URL for one --auth-http-address: "host:port" becomes http://host:port/auth?..., a full
// URL gets the query appended. Parameters in url.Values.Encode order (sorted by key).
std::string auth_query_url(std::string_view auth_address, const AuthQuery& q);

// The AUTH reply body: {"identity":...,"identity_url":...,"permission_count":N}.
std::string auth_reply_json(const AuthState& state);

}  // namespace nsq::nsqd
