// Topic and channel name rules shared by nsqd, nsqlookupd and nsqadmin:
// 1..64 bytes matching ^[.a-zA-Z0-9_-]+(#ephemeral)?$ (the suffix counts toward the 64).
#pragma once

#include <string_view>

namespace nsq::protocol {

inline constexpr std::string_view kEphemeralSuffix = "#ephemeral";
inline constexpr size_t kMaxNameLength = 64;

bool is_valid_name(std::string_view name);
inline bool is_valid_topic_name(std::string_view name) {
  return is_valid_name(name);
}
inline bool is_valid_channel_name(std::string_view name) {
  return is_valid_name(name);
}
inline bool is_ephemeral_name(std::string_view name) {
  return name.ends_with(kEphemeralSuffix);
}

}  // namespace nsq::protocol
