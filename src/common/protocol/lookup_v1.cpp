#include "nsq/protocol/lookup_v1.hpp"

#include <nlohmann/json.hpp>

#include <climits>
#include <cstring>

#include "common/gocompat/go_json.hpp"
#include "nsq/protocol/names.hpp"

namespace nsq::protocol {

namespace {

using Status = LookupParseResult::Status;

ProtocolError fatal(std::string code, std::string message) {
  return ProtocolError{std::move(code), std::move(message), true};
}

LookupParseResult error_result(ProtocolError error, size_t consumed) {
  LookupParseResult r;
  r.status = Status::kError;
  r.consumed = consumed;
  r.error = std::move(error);
  return r;
}

LookupParseResult need_more(std::optional<ProtocolError> eof_error = std::nullopt) {
  LookupParseResult r;
  r.status = Status::kNeedMore;
  r.eof_error = std::move(eof_error);
  return r;
}

LookupParseResult command_result(LookupCommand cmd, size_t consumed) {
  LookupParseResult r;
  r.status = Status::kCommand;
  r.consumed = consumed;
  r.command = cmd;
  return r;
}

constexpr char32_t kRuneError = 0xFFFD;

// utf8.DecodeRuneInString: (rune, size); invalid or truncated input gives (RuneError, 1).
std::pair<char32_t, size_t> decode_rune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return {b0, 1};
  size_t n = 0;
  char32_t r = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, r = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, r = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, r = b0 & 0x07, min = 0x10000;
  } else {
    return {kRuneError, 1};
  }
  if (s.size() < n) return {kRuneError, 1};
  for (size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return {kRuneError, 1};
    r = (r << 6) | (b & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return {kRuneError, 1};
  return {r, n};
}

// utf8.DecodeLastRuneInString.
std::pair<char32_t, size_t> decode_last_rune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  const auto last = static_cast<unsigned char>(s.back());
  if (last < 0x80) return {last, 1};
  // Back up to the start byte of the last rune (at most 4 bytes).
  size_t start = s.size() - 1;
  const size_t lim = s.size() >= 4 ? s.size() - 4 : 0;
  while (start > lim && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  auto [r, size] = decode_rune(s.substr(start));
  if (start + size != s.size()) return {kRuneError, 1};
  return {r, size};
}

// unicode.IsSpace.
bool is_go_space(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

// Go's json decoder replaces each invalid UTF-8 byte inside a string with U+FFFD, where
// nlohmann refuses the document: make the bytes valid first. Outside strings a replaced
// byte is as much a syntax error as the original one.
std::string sanitize_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  while (!in.empty()) {
    auto [r, size] = decode_rune(in);
    if (r == kRuneError && size == 1) {
      out += "\xEF\xBF\xBD";
    } else {
      out.append(in.substr(0, size));
    }
    in.remove_prefix(size);
  }
  return out;
}

// ASCII case folding is what Go's field matching amounts to for these all-ASCII names.
bool equal_fold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

using Json = nlohmann::ordered_json;

// A JSON string (or null: Go leaves the field unchanged) into a string field.
bool set_string(const Json& v, std::string& field) {
  if (v.is_null()) return true;
  if (!v.is_string()) return false;
  field = v.get<std::string>();
  return true;
}

// A JSON integer literal (or null) into a Go int field: no fraction, no exponent, no overflow.
bool set_int(const Json& v, int64_t& field) {
  if (v.is_null()) return true;
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    field = v.get<int64_t>();
    return true;
  }
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return false;
    field = static_cast<int64_t>(u);
    return true;
  }
  return false;
}

void append_command(std::string& out, std::string_view name, std::string_view topic,
                    std::string_view channel) {
  out.append(name);
  out.push_back(' ');
  out.append(topic);
  if (!channel.empty()) {
    out.push_back(' ');
    out.append(channel);
  }
  out.push_back('\n');
}

// getTopicChan of the reference: params after the command name.
std::optional<ProtocolError> topic_channel(std::string_view command, std::string_view rest,
                                           bool has_params, std::string_view& topic,
                                           std::string_view& channel) {
  if (!has_params) {
    return fatal("E_INVALID", std::string(command) + " insufficient number of params");
  }
  const size_t sp = rest.find(' ');
  topic = rest.substr(0, sp);
  channel = {};
  if (sp != std::string_view::npos) {
    const std::string_view after = rest.substr(sp + 1);
    channel = after.substr(0, after.find(' '));
  }
  if (!is_valid_topic_name(topic)) {
    return fatal("E_BAD_TOPIC",
                 std::string(command) + " topic name '" + std::string(topic) + "' is not valid");
  }
  if (!channel.empty() && !is_valid_channel_name(channel)) {
    return fatal("E_BAD_CHANNEL", std::string(command) + " channel name '" + std::string(channel) +
                                      "' is not valid");
  }
  return std::nullopt;
}

}  // namespace

std::string_view go_trim_space(std::string_view s) {
  while (!s.empty()) {
    auto [r, size] = decode_rune(s);
    if (!is_go_space(r) || (r == kRuneError && size == 1)) break;
    s.remove_prefix(size);
  }
  while (!s.empty()) {
    auto [r, size] = decode_last_rune(s);
    if (!is_go_space(r) || (r == kRuneError && size == 1)) break;
    s.remove_suffix(size);
  }
  return s;
}

MagicCheck check_lookup_magic(std::string_view data) {
  if (data.size() < kMagicV1.size()) return MagicCheck::kNeedMore;
  return data.substr(0, kMagicV1.size()) == kMagicV1 ? MagicCheck::kV1 : MagicCheck::kBad;
}

LookupParseResult LookupV1Parser::parse(std::string_view data, bool identified) const {
  const size_t nl = data.find('\n');
  if (nl == std::string_view::npos) {
    if (data.size() >= limits_.max_line_length) {
      LookupParseResult r;
      r.status = Status::kCloseSilently;
      return r;
    }
    // The reference drops a partial line at EOF without answering.
    return need_more();
  }
  if (nl + 1 > limits_.max_line_length) {
    LookupParseResult r;
    r.status = Status::kCloseSilently;
    return r;
  }
  const size_t line_end = nl + 1;
  const std::string_view line = go_trim_space(data.substr(0, nl));
  const size_t sp = line.find(' ');
  const std::string_view name = line.substr(0, sp);
  const bool has_params = sp != std::string_view::npos;
  const std::string_view rest = has_params ? line.substr(sp + 1) : std::string_view{};

  if (name == "PING") {
    LookupCommand cmd;
    cmd.type = LookupCommandType::kPing;
    return command_result(cmd, line_end);
  }
  if (name == "IDENTIFY") {
    if (identified) return error_result(fatal("E_INVALID", "cannot IDENTIFY again"), line_end);
    if (data.size() < line_end + 4) {
      return need_more(fatal("E_BAD_BODY", "IDENTIFY failed to read body size"));
    }
    const int32_t size = read_be32s(data.data() + line_end);
    if (size < 0 || size > limits_.max_identify_body) {
      return error_result(fatal("E_BAD_BODY", "IDENTIFY invalid body size " + std::to_string(size)),
                          line_end + 4);
    }
    const size_t total = line_end + 4 + static_cast<size_t>(size);
    if (data.size() < total) return need_more(fatal("E_BAD_BODY", "IDENTIFY failed to read body"));
    LookupCommand cmd;
    cmd.type = LookupCommandType::kIdentify;
    cmd.body = data.substr(line_end + 4, static_cast<size_t>(size));
    return command_result(cmd, total);
  }
  if (name == "REGISTER" || name == "UNREGISTER") {
    if (!identified) return error_result(fatal("E_INVALID", "client must IDENTIFY"), line_end);
    LookupCommand cmd;
    cmd.type = name == "REGISTER" ? LookupCommandType::kRegister : LookupCommandType::kUnregister;
    if (auto err = topic_channel(name, rest, has_params, cmd.topic, cmd.channel)) {
      return error_result(std::move(*err), line_end);
    }
    return command_result(cmd, line_end);
  }
  return error_result(fatal("E_INVALID", "invalid command " + std::string(name)), line_end);
}

std::optional<ProtocolError> decode_lookup_identify(std::string_view body,
                                                    LookupPeerIdentity& out) {
  const auto decode_error = [] {
    return fatal("E_BAD_BODY", "IDENTIFY failed to decode JSON body");
  };
  // nlohmann skips a UTF-8 byte-order mark; Go's decoder calls it an invalid character.
  if (body.starts_with("\xEF\xBB\xBF")) return decode_error();
  // nlohmann stops reading at a NUL byte, so `{...}\0junk` would pass; Go checks every byte.
  if (!gocompat::go_json_syntax_error(body).empty()) return decode_error();
  const Json doc = Json::parse(sanitize_utf8(body), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return decode_error();
  LookupPeerIdentity peer;
  if (doc.is_object()) {
    for (const auto& [key, value] : doc.items()) {
      bool ok = true;
      if (equal_fold(key, "remote_address")) {
        ok = set_string(value, peer.remote_address);
      } else if (equal_fold(key, "hostname")) {
        ok = set_string(value, peer.hostname);
      } else if (equal_fold(key, "broadcast_address")) {
        ok = set_string(value, peer.broadcast_address);
      } else if (equal_fold(key, "tcp_port")) {
        ok = set_int(value, peer.tcp_port);
      } else if (equal_fold(key, "http_port")) {
        ok = set_int(value, peer.http_port);
      } else if (equal_fold(key, "version")) {
        ok = set_string(value, peer.version);
      }
      // Go reports a type mismatch after decoding everything; the IDENTIFY fails either way.
      if (!ok) return decode_error();
    }
  } else if (!doc.is_null()) {
    return decode_error();
  }
  if (peer.broadcast_address.empty() || peer.tcp_port == 0 || peer.http_port == 0 ||
      peer.version.empty()) {
    return fatal("E_BAD_BODY", "IDENTIFY missing fields");
  }
  out = std::move(peer);
  return std::nullopt;
}

void append_lookup_identify(std::string& out, std::string_view json_body) {
  out.append("IDENTIFY\n");
  append_be32(out, static_cast<uint32_t>(json_body.size()));
  out.append(json_body);
}

void append_lookup_register(std::string& out, std::string_view topic, std::string_view channel) {
  append_command(out, "REGISTER", topic, channel);
}

void append_lookup_unregister(std::string& out, std::string_view topic, std::string_view channel) {
  append_command(out, "UNREGISTER", topic, channel);
}

void append_lookup_ping(std::string& out) {
  out.append("PING\n");
}

LookupResponse read_lookup_response(std::string_view data, int64_t limit) {
  LookupResponse r;
  if (data.size() < 4) return r;
  const int32_t size = read_be32s(data.data());
  if (size < 0) {
    r.status = LookupResponse::Status::kError;
    r.error = "response body size (" + std::to_string(size) + ") is invalid";
    return r;
  }
  if (static_cast<int64_t>(size) > limit) {
    r.status = LookupResponse::Status::kError;
    r.error = "response body size (" + std::to_string(size) + ") is greater than limit (" +
              std::to_string(limit) + ")";
    return r;
  }
  if (data.size() < 4 + static_cast<size_t>(size)) return r;
  r.status = LookupResponse::Status::kResponse;
  r.consumed = 4 + static_cast<size_t>(size);
  r.data = data.substr(4, static_cast<size_t>(size));
  return r;
}

}  // namespace nsq::protocol
