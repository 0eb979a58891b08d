#include "common/gocompat/go_json.hpp"

#include <cstdint>
#include <cstdio>

namespace nsq::gocompat {

namespace {

constexpr int kMaxDepth = 10000;  // Go's maxNestingDepth

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(unsigned char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Recursive descent over Go's scanner states. At end of input Go feeds the state machine one
// virtual space: states that skip or accept a space report "unexpected end of JSON input",
// the others (inside numbers, literals, escapes) report "invalid character ' ' <context>".
class Checker {
 public:
  explicit Checker(std::string_view s) : s_(s) {}

  std::string run() {
    if (!value(0)) return err_;
    skip_ws();
    if (i_ < s_.size()) fail("after top-level value", true);
    return err_;
  }

 private:
  bool eof() const { return i_ >= s_.size(); }
  unsigned char cur() const { return static_cast<unsigned char>(s_[i_]); }
  void skip_ws() {
    while (!eof() && is_space(cur())) ++i_;
  }
  bool fail(const char* context, bool space_ok) {
    if (eof()) {
      err_ = space_ok ? "unexpected end of JSON input"
                      : std::string("invalid character ' ' ") + context;
    } else {
      err_ = "invalid character " + go_json_quote_char(cur()) + " " + context;
    }
    return false;
  }

  bool value(int depth) {
    skip_ws();
    if (eof()) return fail("looking for beginning of value", true);
    switch (cur()) {
      case '{':
        return object(depth + 1);
      case '[':
        return array(depth + 1);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        if (cur() == '-' || is_digit(cur())) return number();
        return fail("looking for beginning of value", true);
    }
  }

  bool object(int depth) {
    if (depth > kMaxDepth) {
      err_ = "exceeded max depth";
      return false;
    }
    ++i_;
    skip_ws();
    if (!eof() && cur() == '}') {
      ++i_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (eof() || cur() != '"') return fail("looking for beginning of object key string", true);
      if (!string()) return false;
      skip_ws();
      if (eof() || cur() != ':') return fail("after object key", true);
      ++i_;
      if (!value(depth)) return false;
      skip_ws();
      if (eof()) return fail("after object key:value pair", true);
      if (cur() == ',') {
        ++i_;
        continue;
      }
      if (cur() == '}') {
        ++i_;
        return true;
      }
      return fail("after object key:value pair", true);
    }
  }

  bool array(int depth) {
    if (depth > kMaxDepth) {
      err_ = "exceeded max depth";
      return false;
    }
    ++i_;
    skip_ws();
    if (!eof() && cur() == ']') {
      ++i_;
      return true;
    }
    for (;;) {
      if (!value(depth)) return false;
      skip_ws();
      if (eof()) return fail("after array element", true);
      if (cur() == ',') {
        ++i_;
        continue;
      }
      if (cur() == ']') {
        ++i_;
        return true;
      }
      return fail("after array element", true);
    }
  }

  bool string() {
    ++i_;  // opening quote
    for (;;) {
      if (eof()) return fail("in string literal", true);
      unsigned char c = cur();
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return fail("in string literal", true);
      ++i_;
      if (c != '\\') continue;
      if (eof()) return fail("in string escape code", false);
      c = cur();
      switch (c) {
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
        case '\\':
        case '/':
        case '"':
          ++i_;
          break;
        case 'u':
          ++i_;
          for (int k = 0; k < 4; ++k) {
            if (eof() || !is_hex(cur())) return fail("in \\u hexadecimal character escape", false);
            ++i_;
          }
          break;
        default:
          return fail("in string escape code", false);
      }
    }
  }

  bool digits() {
    while (!eof() && is_digit(cur())) ++i_;
    return true;
  }

  bool number() {
    if (cur() == '-') {
      ++i_;
      if (eof() || !is_digit(cur())) return fail("in numeric literal", false);
    }
    if (cur() == '0') {
      ++i_;
    } else {
      digits();
    }
    if (!eof() && cur() == '.') {
      ++i_;
      if (eof() || !is_digit(cur())) return fail("after decimal point in numeric literal", false);
      digits();
    }
    if (!eof() && (cur() == 'e' || cur() == 'E')) {
      ++i_;
      if (!eof() && (cur() == '+' || cur() == '-')) ++i_;
      if (eof() || !is_digit(cur())) return fail("in exponent of numeric literal", false);
      digits();
    }
    return true;  // whatever follows is judged by the enclosing state
  }

  bool literal(std::string_view word) {
    ++i_;
    for (size_t k = 1; k < word.size(); ++k) {
      if (eof() || cur() != static_cast<unsigned char>(word[k])) {
        std::string ctx = "in literal " + std::string(word) + " (expecting '" + word[k] + "')";
        return fail(ctx.c_str(), false);
      }
      ++i_;
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string err_;
};

// Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid (Go's utf8.DecodeRune).
size_t utf8_len(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  if (c < 0x80) return 1;
  auto cont = [&](size_t k) { return k < n && (p[k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

int hex_value(unsigned char c) {
  if (is_digit(c)) return c - '0';
  return (c | 0x20) - 'a' + 10;
}

// The code point of a "\uXXXX" escape at s[i], or -1 when there is none.
int32_t u4_at(std::string_view s, size_t i) {
  if (i + 6 > s.size() || s[i] != '\\' || s[i + 1] != 'u') return -1;
  int32_t r = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const auto c = static_cast<unsigned char>(s[k]);
    if (!is_hex(c)) return -1;
    r = r * 16 + hex_value(c);
  }
  return r;
}

void append_utf8(std::string& out, uint32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

constexpr uint32_t kReplacement = 0xFFFD;

// Appends the UTF-8 sequence at s[i], or U+FFFD when the byte there starts none (Go's
// utf8.DecodeRune then reports width 1); returns how many bytes it consumed.
size_t append_char_or_replacement(std::string& out, std::string_view s, size_t i) {
  const size_t len = utf8_len(reinterpret_cast<const unsigned char*>(s.data()) + i, s.size() - i);
  if (len == 0) {
    append_utf8(out, kReplacement);
    return 1;
  }
  out.append(s.data() + i, len);
  return len;
}

}  // namespace

std::string go_json_syntax_error(std::string_view data) {
  return Checker(data).run();
}

std::string go_json_quote_char(unsigned char c) {
  if (c == '\'') return "'\\''";
  if (c == '"') return "'\"'";
  char buf[16];
  switch (c) {
    case '\a':
      return "'\\a'";
    case '\b':
      return "'\\b'";
    case '\f':
      return "'\\f'";
    case '\n':
      return "'\\n'";
    case '\r':
      return "'\\r'";
    case '\t':
      return "'\\t'";
    case '\v':
      return "'\\v'";
    case '\\':
      return "'\\\\'";
    default:
      break;
  }
  if (c < 0x20 || c == 0x7F) {
    std::snprintf(buf, sizeof buf, "'\\x%02x'", c);
    return buf;
  }
  if (c < 0x80) return std::string("'") + static_cast<char>(c) + "'";
  // A byte >= 0x80 is shown as the rune U+00XX: C1 controls, NBSP and soft hyphen are not
  // printable for strconv.Quote, the rest print as their UTF-8 encoding.
  if (c < 0xA0 || c == 0xA0 || c == 0xAD) {
    std::snprintf(buf, sizeof buf, "'\\u%04x'", c);
    return buf;
  }
  std::string out = "'";
  out += static_cast<char>(0xC0 | (c >> 6));
  out += static_cast<char>(0x80 | (c & 0x3F));
  out += "'";
  return out;
}

std::string go_json_coerce_utf8(std::string_view data) {
  std::string out;
  out.reserve(data.size());
  for (size_t i = 0; i < data.size();) i += append_char_or_replacement(out, data, i);
  return out;
}

std::string go_json_unquote(std::string_view inner) {
  std::string out;
  out.reserve(inner.size());
  size_t i = 0;
  while (i < inner.size()) {
    if (inner[i] != '\\') {
      i += append_char_or_replacement(out, inner, i);
      continue;
    }
    if (i + 1 >= inner.size()) break;  // not reachable for checked input
    const char e = inner[i + 1];
    i += 2;
    switch (e) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        const int32_t r = u4_at(inner, i - 2);
        if (r < 0) return out;  // not reachable for checked input
        i += 4;
        if (r < 0xD800 || r > 0xDFFF) {
          append_utf8(out, static_cast<uint32_t>(r));
          break;
        }
        // A high surrogate joins a following low one; anything else is replaced, and the
        // escape after it is decoded on its own.
        const int32_t low = u4_at(inner, i);
        if (r < 0xDC00 && low >= 0xDC00 && low <= 0xDFFF) {
          append_utf8(out, 0x10000 + ((static_cast<uint32_t>(r) - 0xD800) << 10) +
                               (static_cast<uint32_t>(low) - 0xDC00));
          i += 6;
        } else {
          append_utf8(out, kReplacement);
        }
        break;
      }
      default:  // '"', '\\', '/'
        out += e;
        break;
    }
  }
  return out;
}

}  // namespace nsq::gocompat
