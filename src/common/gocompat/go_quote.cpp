#include "common/gocompat/go_quote.hpp"

#include <cstdint>
#include <cstdio>

namespace nsq::gocompat {

namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when invalid (Go then prints
// the byte as \xNN).
size_t decode_utf8(std::string_view s, size_t i, uint32_t& rune) {
  auto b0 = static_cast<uint8_t>(s[i]);
  size_t len = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    rune = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    rune = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    rune = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    rune = (rune << 6) | (b & 0x3F);
  }
  // Reject overlong encodings and surrogates, as Go's utf8.DecodeRune does.
  if ((len == 3 && rune < 0x800) || (len == 4 && (rune < 0x10000 || rune > 0x10FFFF)) ||
      (rune >= 0xD800 && rune <= 0xDFFF)) {
    return 0;
  }
  return len;
}

void append_hex_escape(std::string& out, char kind, uint32_t value, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\%c%0*x", kind, digits, value);
  out += buf;
}

}  // namespace

std::string go_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (c < 0x20 || c == 0x7F) {
            append_hex_escape(out, 'x', c, 2);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    uint32_t rune = 0;
    size_t len = decode_utf8(s, i, rune);
    if (len == 0) {
      append_hex_escape(out, 'x', c, 2);
      ++i;
      continue;
    }
    // C1 controls and a few format characters are not printable for Go; the rest of the
    // valid runes are copied through (an approximation of unicode.IsPrint good enough for
    // names, which are ASCII whenever they are valid).
    if (rune < 0xA0 || rune == 0xAD || rune == 0xFEFF || (rune >= 0x2028 && rune <= 0x2029)) {
      append_hex_escape(out, 'u', rune, 4);
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  out.push_back('"');
  return out;
}

}  // namespace nsq::gocompat
