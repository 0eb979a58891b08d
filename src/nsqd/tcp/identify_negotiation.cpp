#include "nsqd/tcp/identify_negotiation.hpp"

#include <nlohmann/json.hpp>

namespace nsq::nsqd {

namespace {
constexpr int64_t kNsPerMs = 1000000;
int64_t ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}
std::string invalid(const char* what, int64_t value) {
  return std::string(what) + " (" + std::to_string(value) + ") is invalid";
}
}  // namespace

ClientSettings ClientSettings::defaults(const NsqdOptions& opts) {
  ClientSettings s;
  s.heartbeat_interval_ns = opts.client_timeout.count() / 2;
  s.output_buffer_size = 16384;
  s.output_buffer_timeout_ns = opts.output_buffer_timeout.count();
  s.sample_rate = 0;
  s.msg_timeout_ns = opts.msg_timeout.count();
  return s;
}

std::optional<std::string> apply_identify(const protocol::IdentifyRequest& req,
                                          const NsqdOptions& opts, ClientSettings& s) {
  const int64_t hb = req.heartbeat_interval;
  if (hb == -1) {
    s.heartbeat_interval_ns = 0;
  } else if (hb == 0) {
    // keep the default
  } else if (hb >= 1000 && hb <= ms(opts.max_heartbeat_interval)) {
    s.heartbeat_interval_ns = hb * kNsPerMs;
  } else {
    return invalid("heartbeat interval", hb);
  }

  const int64_t timeout = req.output_buffer_timeout;
  if (timeout == -1) {
    s.output_buffer_timeout_ns = 0;
  } else if (timeout == 0) {
  } else if (timeout >= ms(opts.min_output_buffer_timeout) &&
             timeout <= ms(opts.max_output_buffer_timeout)) {
    s.output_buffer_timeout_ns = timeout * kNsPerMs;
  } else {
    return invalid("output buffer timeout", timeout);
  }

  const int64_t size = req.output_buffer_size;
  if (size == -1) {
    s.output_buffer_size = 1;
    s.output_buffer_timeout_ns = 0;
  } else if (size == 0) {
  } else if (size >= 64 && size <= opts.max_output_buffer_size) {
    s.output_buffer_size = size;
  } else {
    return invalid("output buffer size", size);
  }

  if (req.sample_rate < 0 || req.sample_rate > 99) return invalid("sample rate", req.sample_rate);
  s.sample_rate = static_cast<int32_t>(req.sample_rate);

  const int64_t mt = req.msg_timeout;
  if (mt == 0) {
  } else if (mt >= 1000 && mt <= ms(opts.max_msg_timeout)) {
    s.msg_timeout_ns = mt * kNsPerMs;
  } else {
    return invalid("msg timeout", mt);
  }
  return std::nullopt;
}

NegotiatedFeatures negotiate_features(const protocol::IdentifyRequest& req, const NsqdOptions& opts,
                                      const ServerFeatures& server) {
  NegotiatedFeatures f;
  f.tls = server.tls && req.tls_v1;
  f.deflate = server.deflate && opts.deflate && req.deflate;
  f.deflate_level = 6;
  if (f.deflate && req.deflate_level > 0) f.deflate_level = req.deflate_level;
  if (opts.max_deflate_level < f.deflate_level) f.deflate_level = opts.max_deflate_level;
  f.snappy = server.snappy && opts.snappy && req.snappy;
  return f;
}

std::string identify_reply_json(const NsqdOptions& opts, const ClientSettings& s,
                                const NegotiatedFeatures& f, bool auth_required) {
  nlohmann::ordered_json j;
  j["max_rdy_count"] = opts.max_rdy_count;
  j["version"] = NSQ_COMPAT_VERSION;
  j["max_msg_timeout"] = ms(opts.max_msg_timeout);
  j["msg_timeout"] = s.msg_timeout_ns / kNsPerMs;
  j["tls_v1"] = f.tls;
  j["deflate"] = f.deflate;
  j["deflate_level"] = f.deflate_level;
  j["max_deflate_level"] = opts.max_deflate_level;
  j["snappy"] = f.snappy;
  j["sample_rate"] = s.sample_rate;
  j["auth_required"] = auth_required;
  j["output_buffer_size"] = s.output_buffer_size;
  j["output_buffer_timeout"] = s.output_buffer_timeout_ns / kNsPerMs;
  return j.dump();
}

}  // namespace nsq::nsqd
