#include "nsqd/http/http_mpub_body.hpp"

#include <algorithm>

namespace nsq::nsqd {

namespace {

// Big-endian int32 at `p` (the reference reads sizes as signed).
int32_t read_be32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) |
                              (uint32_t{u[2]} << 8) | uint32_t{u[3]});
}

}  // namespace

bool mpub_binary_mode(std::optional<std::string_view> value, bool* deprecated_value) {
  if (deprecated_value != nullptr) *deprecated_value = false;
  if (!value) return false;
  if (*value == "true" || *value == "1") return true;
  if (*value == "false" || *value == "0") return false;
  if (deprecated_value != nullptr) *deprecated_value = true;
  return true;
}

std::optional<MpubBodyError> split_text_mpub(std::string_view body, int64_t max_msg_size,
                                             int64_t max_body_size,
                                             std::vector<std::string_view>& out) {
  out.clear();
  // The reference reads through a LimitReader of max+1 bytes and fails when it got them all.
  if (static_cast<int64_t>(body.size()) > max_body_size) {
    return MpubBodyError{"BODY_TOO_BIG", "body too big"};
  }
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    if (line.empty()) continue;  // silently skipped since nsqd 0.2.22
    if (static_cast<int64_t>(line.size()) > max_msg_size) {
      return MpubBodyError{"MSG_TOO_BIG", "message too big"};
    }
    out.push_back(line);
  }
  return std::nullopt;
}

std::optional<MpubBodyError> parse_binary_mpub(std::string_view body, int64_t max_msg_size,
                                               int64_t max_body_size,
                                               std::vector<std::string_view>& out) {
  out.clear();
  if (body.size() < 4) return MpubBodyError{"BAD_BODY", "MPUB failed to read message count"};
  const int32_t count = read_be32(body.data());
  // 4 bytes of count, then at least 5 bytes (size + one byte) per message.
  const int64_t max_messages = (max_body_size - 4) / 5;
  if (count <= 0 || count > max_messages) {
    return MpubBodyError{"BAD_BODY", "MPUB invalid message count " + std::to_string(count)};
  }
  size_t pos = 4;
  // Reserve for what the body can hold, not what it claims: an 8-byte body claiming a
  // million messages must not cost 16 MB before it fails.
  out.reserve(std::min(static_cast<size_t>(count), (body.size() - 4) / 5));
  for (int32_t i = 0; i < count; ++i) {
    if (body.size() - pos < 4) {
      return MpubBodyError{"BAD_MESSAGE",
                           "MPUB failed to read message(" + std::to_string(i) + ") body size"};
    }
    const int32_t size = read_be32(body.data() + pos);
    pos += 4;
    if (size <= 0) {
      return MpubBodyError{"BAD_MESSAGE", "MPUB invalid message(" + std::to_string(i) +
                                              ") body size " + std::to_string(size)};
    }
    if (size > max_msg_size) {
      return MpubBodyError{"BAD_MESSAGE", "MPUB message too big " + std::to_string(size) + " > " +
                                              std::to_string(max_msg_size)};
    }
    if (body.size() - pos < static_cast<size_t>(size)) {
      return MpubBodyError{"BAD_MESSAGE", "MPUB failed to read message body"};
    }
    out.push_back(body.substr(pos, static_cast<size_t>(size)));
    pos += static_cast<size_t>(size);
  }
  return std::nullopt;
}

}  // namespace nsq::nsqd
