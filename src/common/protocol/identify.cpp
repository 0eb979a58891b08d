#include "nsq/protocol/identify.hpp"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

#include "common/gocompat/go_json.hpp"

namespace nsq::protocol {

namespace {

// Reads a body that go_json_syntax_error accepted, so it trusts the syntax. It decodes the
// way Go's json.Unmarshal into identifyDataV2 does, rather than building a DOM: keys apply in
// document order (duplicates included, each checked for its type), strings are unquoted with
// Go's replacement of invalid UTF-8, and unknown keys are skipped unread, so numbers that
// overflow a double or deep nesting there are no error.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n'))
      ++i_;
  }
  char peek() {
    ws();
    return s_[i_];
  }
  void expect(char) { ++i_; }  // the checker saw this punctuation

  // At the opening quote: the unquoted string.
  std::string string() { return gocompat::go_json_unquote(raw_string_inner()); }

  // The text of a number or literal token (true, false, null, -1.5e3).
  std::string_view token() {
    const size_t b = i_;
    while (i_ < s_.size() && !is_delim(s_[i_])) ++i_;
    return s_.substr(b, i_ - b);
  }

  // Skips one value of any kind without recursion (nesting may be 10000 deep).
  void skip() {
    size_t depth = 0;
    do {
      const char c = peek();
      if (c == '"') {
        raw_string_inner();
      } else if (c == '{' || c == '[') {
        ++depth;
        ++i_;
      } else if (c == '}' || c == ']') {
        --depth;
        ++i_;
      } else if (c == ',' || c == ':') {
        ++i_;
      } else {
        token();
      }
      ws();
      // Inside a container, keep going until its closing bracket is consumed.
    } while (depth > 0);
  }

 private:
  static bool is_delim(char c) {
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
  }
  std::string_view raw_string_inner() {
    const size_t b = ++i_;
    while (s_[i_] != '"') i_ += s_[i_] == '\\' ? 2 : 1;
    return s_.substr(b, i_++ - b);
  }

  std::string_view s_;
  size_t i_ = 0;
};

// Go matches a key to a field exactly or else case-insensitively, folding each rune to the
// smallest of its simple case folding orbit; beyond ASCII only U+017F (long s) and U+212A
// (Kelvin sign) land on ASCII letters.
std::string fold_key(std::string_view key) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (key.substr(i, 2) == "\xC5\xBF") {
      out += 's';
      i += 1;
    } else if (key.substr(i, 3) == "\xE2\x84\xAA") {
      out += 'k';
      i += 2;
    } else {
      out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
  }
  return out;
}

bool take_string(Reader& r, std::string& out) {
  if (r.peek() != '"') return r.token() == "null";
  out = r.string();
  return true;
}

bool take_bool(Reader& r, bool& out) {
  const char c = r.peek();
  if (c != 't' && c != 'f' && c != 'n') return false;
  const auto t = r.token();
  if (t != "null") out = t == "true";
  return true;
}

// Go decodes JSON numbers into int fields with ParseInt: integers only, within range.
bool take_int(Reader& r, int64_t& out, int64_t min, int64_t max) {
  const char c = r.peek();
  if (c != '-' && (c < '0' || c > '9')) return c == 'n' && r.token() == "null";
  const auto t = r.token();
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || end != t.data() + t.size() || n < min || n > max) return false;
  out = n;
  return true;
}

}  // namespace

std::optional<IdentifyRequest> decode_identify(std::string_view body) {
  if (!gocompat::go_json_syntax_error(body).empty()) return std::nullopt;
  IdentifyRequest req;
  Reader r(body);
  const char first = r.peek();
  if (first == 'n') return req;  // null leaves every field alone
  if (first != '{') return std::nullopt;
  r.expect('{');

  constexpr int64_t kIntMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kIntMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kI32Min = std::numeric_limits<int32_t>::min();
  constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();
  while (r.peek() != '}') {
    const std::string key = fold_key(r.string());
    r.peek();
    r.expect(':');
    bool ok = true;
    if (key == "client_id") {
      ok = take_string(r, req.client_id);
    } else if (key == "hostname") {
      ok = take_string(r, req.hostname);
    } else if (key == "user_agent") {
      ok = take_string(r, req.user_agent);
    } else if (key == "feature_negotiation") {
      ok = take_bool(r, req.feature_negotiation);
    } else if (key == "heartbeat_interval") {
      ok = take_int(r, req.heartbeat_interval, kIntMin, kIntMax);
    } else if (key == "output_buffer_size") {
      ok = take_int(r, req.output_buffer_size, kIntMin, kIntMax);
    } else if (key == "output_buffer_timeout") {
      ok = take_int(r, req.output_buffer_timeout, kIntMin, kIntMax);
    } else if (key == "tls_v1") {
      ok = take_bool(r, req.tls_v1);
    } else if (key == "deflate") {
      ok = take_bool(r, req.deflate);
    } else if (key == "deflate_level") {
      ok = take_int(r, req.deflate_level, kIntMin, kIntMax);
    } else if (key == "snappy") {
      ok = take_bool(r, req.snappy);
    } else if (key == "sample_rate") {
      ok = take_int(r, req.sample_rate, kI32Min, kI32Max);
    } else if (key == "msg_timeout") {
      ok = take_int(r, req.msg_timeout, kIntMin, kIntMax);
    } else {
      r.skip();
    }
    // A value of the wrong type fails the whole body, as Go's Unmarshal returns its error.
    if (!ok) return std::nullopt;
    if (r.peek() == ',') r.expect(',');
  }
  return req;
}

}  // namespace nsq::protocol
