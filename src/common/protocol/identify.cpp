#include "nsq/protocol/identify.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/gocompat/go_json.hpp"

namespace nsq::protocol {

namespace {

using json = nlohmann::ordered_json;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool take_string(const json& v, std::string& out) {
  if (v.is_null()) return true;
  if (!v.is_string()) return false;
  out = v.get<std::string>();
  return true;
}

bool take_bool(const json& v, bool& out) {
  if (v.is_null()) return true;
  if (!v.is_boolean()) return false;
  out = v.get<bool>();
  return true;
}

// Go decodes JSON numbers into int fields with ParseInt: integers only, within range.
bool take_int(const json& v, int64_t& out, int64_t min, int64_t max) {
  if (v.is_null()) return true;
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    const auto n = v.get<int64_t>();
    if (n < min || n > max) return false;
    out = n;
    return true;
  }
  if (v.is_number_unsigned()) {
    const auto n = v.get<uint64_t>();
    if (n > static_cast<uint64_t>(max)) return false;
    out = static_cast<int64_t>(n);
    return true;
  }
  return false;
}

}  // namespace

std::optional<IdentifyRequest> decode_identify(std::string_view body) {
  // Go's decoder rejects a byte order mark, which nlohmann would skip.
  if (body.starts_with("\xEF\xBB\xBF")) return std::nullopt;
  // nlohmann stops reading at a NUL byte, so `{}\0junk` would pass; Go checks every byte.
  if (!gocompat::go_json_syntax_error(body).empty()) return std::nullopt;
  // ordered_json keeps document order, so keys differing only in case apply in the order
  // they were sent, as Go applies them (the last one wins).
  const auto doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return std::nullopt;
  IdentifyRequest req;
  if (doc.is_null()) return req;
  if (!doc.is_object()) return std::nullopt;

  constexpr int64_t kIntMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kIntMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kI32Min = std::numeric_limits<int32_t>::min();
  constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();
  for (const auto& [raw_key, value] : doc.items()) {
    const std::string key = lower(raw_key);
    bool ok = true;
    if (key == "client_id") {
      ok = take_string(value, req.client_id);
    } else if (key == "hostname") {
      ok = take_string(value, req.hostname);
    } else if (key == "user_agent") {
      ok = take_string(value, req.user_agent);
    } else if (key == "feature_negotiation") {
      ok = take_bool(value, req.feature_negotiation);
    } else if (key == "heartbeat_interval") {
      ok = take_int(value, req.heartbeat_interval, kIntMin, kIntMax);
    } else if (key == "output_buffer_size") {
      ok = take_int(value, req.output_buffer_size, kIntMin, kIntMax);
    } else if (key == "output_buffer_timeout") {
      ok = take_int(value, req.output_buffer_timeout, kIntMin, kIntMax);
    } else if (key == "tls_v1") {
      ok = take_bool(value, req.tls_v1);
    } else if (key == "deflate") {
      ok = take_bool(value, req.deflate);
    } else if (key == "deflate_level") {
      ok = take_int(value, req.deflate_level, kIntMin, kIntMax);
    } else if (key == "snappy") {
      ok = take_bool(value, req.snappy);
    } else if (key == "sample_rate") {
      ok = take_int(value, req.sample_rate, kI32Min, kI32Max);
    } else if (key == "msg_timeout") {
      ok = take_int(value, req.msg_timeout, kIntMin, kIntMax);
    }
    if (!ok) return std::nullopt;
  }
  return req;
}

}  // namespace nsq::protocol
