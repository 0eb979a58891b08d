// nlohmann::json parsing that refuses what Go's encoding/json refuses: nlohmann stops reading
// at a NUL byte (so `{}\0junk` would parse) and skips a byte order mark; Go checks every byte.
// Bodies from clients and answers from upstream servers go through this.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/gocompat/go_json.hpp"

namespace nsq::util {

// A discarded value when Go would refuse the syntax or nlohmann cannot parse it.
inline nlohmann::json parse_json_as_go(std::string_view body) {
  if (body.starts_with("\xEF\xBB\xBF") || !gocompat::go_json_syntax_error(body).empty()) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return nlohmann::json::parse(body, nullptr, false);
}

}  // namespace nsq::util
