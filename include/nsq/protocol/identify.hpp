// The IDENTIFY request body, decoded with Go encoding/json semantics [compat]: keys match
// case-insensitively, unknown keys are ignored, `null` keeps the default, and a value of the
// wrong JSON type (a string or fraction for an int, ...) fails the whole decode.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nsq::protocol {

struct IdentifyRequest {
  std::string client_id;
  std::string hostname;
  std::string user_agent;
  bool feature_negotiation = false;
  int64_t heartbeat_interval = 0;
  int64_t output_buffer_size = 0;
  int64_t output_buffer_timeout = 0;
  bool tls_v1 = false;
  bool deflate = false;
  int64_t deflate_level = 0;
  bool snappy = false;
  int64_t sample_rate = 0;  // int32 in the reference: out-of-range values fail the decode
  int64_t msg_timeout = 0;
};

// nullopt: "IDENTIFY failed to decode JSON body".
std::optional<IdentifyRequest> decode_identify(std::string_view body);

}  // namespace nsq::protocol
