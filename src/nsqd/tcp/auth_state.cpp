#include "nsqd/tcp/auth_state.hpp"

#include <nlohmann/json.hpp>

#include "common/gocompat/go_quote.hpp"
#include "common/http/query.hpp"
#include "common/util/go_strict_json.hpp"

namespace nsq::nsqd {

bool AuthGrant::allows(std::string_view t, std::string_view c) const {
  if (!c.empty() ? !subscribe : !publish) return false;
  if (!std::regex_search(t.begin(), t.end(), topic_re)) return false;
  for (const auto& re : channel_res) {
    if (std::regex_search(c.begin(), c.end(), re)) return true;
  }
  return false;
}

bool AuthState::allows(std::string_view topic, std::string_view channel) const {
  for (const auto& g : grants) {
    if (g.allows(topic, channel)) return true;
  }
  return false;
}

namespace {

bool compile(const std::string& source, std::regex& out) {
  try {
    out = std::regex(source, std::regex::ECMAScript);
    return true;
  } catch (const std::regex_error&) {
    return false;
  }
}

}  // namespace

util::Result<AuthState> parse_auth_response(std::string_view body,
                                            std::chrono::steady_clock::time_point now) {
  nlohmann::json j = util::parse_json_as_go(body);
  if (j.is_discarded() || !j.is_object()) {
    return util::fail("failed to parse auth response JSON");
  }
  AuthState st;
  try {
    if (j.contains("ttl") && !j["ttl"].is_null()) st.ttl_seconds = j["ttl"].get<int64_t>();
    if (j.contains("identity") && !j["identity"].is_null()) {
      st.identity = j["identity"].get<std::string>();
    }
    if (j.contains("identity_url") && !j["identity_url"].is_null()) {
      st.identity_url = j["identity_url"].get<std::string>();
    }
    if (j.contains("authorizations") && j["authorizations"].is_array()) {
      for (const auto& a : j["authorizations"]) {
        AuthGrant g;
        if (a.contains("topic") && !a["topic"].is_null()) g.topic = a["topic"].get<std::string>();
        if (a.contains("channels") && a["channels"].is_array()) {
          for (const auto& c : a["channels"]) g.channels.push_back(c.get<std::string>());
        }
        if (a.contains("permissions") && a["permissions"].is_array()) {
          for (const auto& p : a["permissions"]) {
            const auto perm = p.get<std::string>();
            if (perm == "subscribe") {
              g.subscribe = true;
            } else if (perm == "publish") {
              g.publish = true;
            } else {
              return util::fail("unknown permission " + perm);
            }
          }
        }
        if (!compile(g.topic, g.topic_re)) {
          return util::fail("unable to compile topic " + gocompat::go_quote(g.topic));
        }
        for (const auto& c : g.channels) {
          std::regex re;
          if (!compile(c, re)) {
            return util::fail("unable to compile channel " + gocompat::go_quote(c));
          }
          g.channel_res.push_back(std::move(re));
        }
        st.grants.push_back(std::move(g));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return util::fail(std::string("failed to parse auth response JSON - ") + e.what());
  }
  if (st.ttl_seconds <= 0) {
    return util::fail("invalid TTL " + std::to_string(st.ttl_seconds) + " (must be >0)");
  }
  st.expires = now + std::chrono::seconds(st.ttl_seconds);
  return st;
}

std::string auth_query_url(std::string_view addr, const AuthQuery& q) {
  std::string query = "common_name=" + http::query_escape(q.common_name) +
                      "&remote_ip=" + http::query_escape(q.remote_ip) +
                      "&secret=" + http::query_escape(q.secret) +
                      "&tls=" + (q.tls ? "true" : "false");
  if (addr.find("://") != std::string_view::npos) return std::string(addr) + "?" + query;
  return "http://" + std::string(addr) + "/auth?" + query;
}

std::string auth_reply_json(const AuthState& st) {
  nlohmann::ordered_json j;
  j["identity"] = st.identity;
  j["identity_url"] = st.identity_url;
  j["permission_count"] = st.grants.size();
  return j.dump();
}

}  // namespace nsq::nsqd
