#include "common/http/query.hpp"

namespace nsq::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unescape(std::string_view in, std::string& out, bool plus_is_space, std::string* bad) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      const int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        // Go quotes at most the three characters of the broken escape.
        if (bad != nullptr) *bad = std::string(in.substr(i, 3));
        return false;
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

void append_escaped(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}

}  // namespace

std::optional<std::string_view> QueryParams::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return std::string_view(it->second.front());
}

const std::vector<std::string>* QueryParams::all(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

void QueryParams::add(std::string key, std::string value) {
  auto it = values_.find(key);
  if (it == values_.end()) it = values_.emplace(std::move(key), std::vector<std::string>{}).first;
  it->second.push_back(std::move(value));
}

util::Result<QueryParams> parse_query(std::string_view raw) {
  QueryParams params;
  // The error Go's parseQuery returns after the whole scan (net/url/url.go): a bad escape
  // only when none came before, a ';' always, so the last ';' wins over any escape error.
  std::optional<std::string> error;
  while (!raw.empty()) {
    const size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (pair.find(';') != std::string_view::npos) {
      error = "invalid semicolon separator in query";
      continue;
    }
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string_view key_raw = pair.substr(0, eq);
    std::string_view value_raw =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    std::string key;
    std::string value;
    std::string bad;
    if (!unescape(key_raw, key, true, &bad) || !unescape(value_raw, value, true, &bad)) {
      if (!error) error = "invalid URL escape \"" + bad + "\"";
      continue;
    }
    params.add(std::move(key), std::move(value));
  }
  if (error) return util::fail(std::move(*error));
  return params;
}

bool query_unescape(std::string_view in, std::string& out) {
  return unescape(in, out, true, nullptr);
}
bool path_unescape(std::string_view in, std::string& out) {
  return unescape(in, out, false, nullptr);
}

std::string query_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (is_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

std::string path_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    // Go leaves these sub-delimiters (and '/', ':', '@') unescaped in a path.
    if (is_unreserved(c) || c == '/' || c == ':' || c == '@' || c == '$' || c == '&' || c == '+' ||
        c == ',' || c == ';' || c == '=') {
      out.push_back(static_cast<char>(c));
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

}  // namespace nsq::http
