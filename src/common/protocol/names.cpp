#include "nsq/protocol/names.hpp"

namespace nsq::protocol {

namespace {
bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}
}  // namespace

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  std::string_view base = name;
  if (base.ends_with(kEphemeralSuffix)) base.remove_suffix(kEphemeralSuffix.size());
  if (base.empty()) return false;
  for (char c : base) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

}  // namespace nsq::protocol
