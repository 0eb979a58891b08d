// Go's value syntaxes for flags and config files (time.ParseDuration, Duration.String,
// strconv.ParseInt/ParseBool/ParseFloat), reimplemented so that every value accepted or rejected
// by the reference daemons is accepted or rejected here too, with the same error texts.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>

#include "common/gocompat/go_values.hpp"

#include "common/gocompat/go_quote.hpp"

namespace nsq::gocompat {

namespace {

constexpr uint64_t kTopBit = uint64_t{1} << 63;  // |min int64|, Go's 1<<63

char lower(char c) {
  return static_cast<char>(c | ('x' - 'X'));
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

void set_error(GoParseError* error, std::string text, bool out_of_range = false) {
  if (error != nullptr) {
    error->text = std::move(text);
    error->out_of_range = out_of_range;
  }
}

// ---- durations -------------------------------------------------------------------------------

// time's private quote(): unlike strconv.Quote it writes every non-ASCII or control byte as
// \xNN, and that is what appears inside duration error messages.
std::string time_quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || c < 0x20) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

bool duration_error(GoParseError* error, std::string_view message, std::string_view orig) {
  set_error(error, "time: " + std::string(message) + " " + time_quote(orig));
  return false;
}

// Nanoseconds per unit; 0 = unknown. Both micro signs (U+00B5, U+03BC) are accepted like Go.
uint64_t unit_nanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1'000;
  if (unit == "ms") return 1'000'000;
  if (unit == "s") return 1'000'000'000;
  if (unit == "m") return 60'000'000'000;
  if (unit == "h") return 3'600'000'000'000;
  return 0;
}

// Integer part of one duration component; false on overflow past 1<<63.
bool leading_int(std::string_view& s, uint64_t& x) {
  x = 0;
  size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (x > kTopBit / 10) return false;
    x = x * 10 + static_cast<uint64_t>(s[i] - '0');
    if (x > kTopBit) return false;
  }
  s.remove_prefix(i);
  return true;
}

// Fraction digits of one component: value f/scale. Digits beyond what fits are dropped
// (not an error), exactly as Go does.
void leading_fraction(std::string_view& s, uint64_t& f, double& scale) {
  f = 0;
  scale = 1;
  bool overflow = false;
  size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (overflow) continue;
    if (f > (kTopBit - 1) / 10) {
      overflow = true;
      continue;
    }
    uint64_t y = f * 10 + static_cast<uint64_t>(s[i] - '0');
    if (y > kTopBit) {
      overflow = true;
      continue;
    }
    f = y;
    scale *= 10;
  }
  s.remove_prefix(i);
}

// ---- integers --------------------------------------------------------------------------------

// Go's rule for '_' in numbers with base prefix 0: only between digits (or after the prefix).
bool underscore_ok(std::string_view s) {
  char saw = '^';  // ^ start, 0 digit or prefix, _ underscore, ! anything else
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (is_digit(c) || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

enum class NumStatus { kOk, kSyntax, kRange };

// strconv.ParseUint(s, base, 64) on the unsigned part.
NumStatus parse_uint(std::string_view s, int base, uint64_t& out) {
  if (s.empty()) return NumStatus::kSyntax;
  const bool base0 = base == 0;
  const std::string_view s0 = s;
  if (base0) {
    base = 10;
    if (s[0] == '0') {
      if (s.size() >= 3 && lower(s[1]) == 'b') {
        base = 2;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && lower(s[1]) == 'o') {
        base = 8;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && lower(s[1]) == 'x') {
        base = 16;
        s.remove_prefix(2);
      } else {
        base = 8;
        s.remove_prefix(1);
      }
    }
  }
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t cutoff = max / static_cast<uint64_t>(base) + 1;
  bool underscores = false;
  uint64_t n = 0;
  for (char c : s) {
    unsigned d = 0;
    if (c == '_' && base0) {
      underscores = true;
      continue;
    } else if (is_digit(c)) {
      d = static_cast<unsigned>(c - '0');
    } else if (lower(c) >= 'a' && lower(c) <= 'z') {
      d = static_cast<unsigned>(lower(c) - 'a' + 10);
    } else {
      return NumStatus::kSyntax;
    }
    if (d >= static_cast<unsigned>(base)) return NumStatus::kSyntax;
    if (n >= cutoff) return NumStatus::kRange;
    n *= static_cast<uint64_t>(base);
    uint64_t n1 = n + d;
    if (n1 < n) return NumStatus::kRange;
    n = n1;
  }
  if (underscores && !underscore_ok(s0)) return NumStatus::kSyntax;
  out = n;
  return NumStatus::kOk;
}

bool num_error(GoParseError* error, std::string_view func, std::string_view text,
               NumStatus status) {
  const bool range = status == NumStatus::kRange;
  set_error(error,
            "strconv." + std::string(func) + ": parsing " + gocompat::go_quote(text) + ": " +
                (range ? "value out of range" : "invalid syntax"),
            range);
  return false;
}

// ---- floats ----------------------------------------------------------------------------------

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == y; });
}

// Go's special(): [+-]inf, [+-]infinity, nan (any case), as the whole string.
bool parse_special_float(std::string_view s, double& out) {
  double sign = 1;
  std::string_view rest = s;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    sign = rest[0] == '-' ? -1 : 1;
    rest.remove_prefix(1);
  } else if (equals_ignore_case(s, "nan")) {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (equals_ignore_case(rest, "inf") || equals_ignore_case(rest, "infinity")) {
    out = sign * std::numeric_limits<double>::infinity();
    return true;
  }
  return false;
}

// The pieces of a syntactically valid Go float literal.
struct FloatParts {
  bool negative = false;
  bool hex = false;
  std::string mantissa;  // digits and at most one '.', underscores removed
  long exponent = 0;     // clamped like Go's (|e| <= 10000)
  bool has_exponent = false;
};

// Go's readFloat grammar; false on a syntax error.
bool split_float(std::string_view s, FloatParts& parts) {
  size_t i = 0;
  bool underscores = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    parts.negative = s[i] == '-';
    ++i;
  }
  if (i + 2 < s.size() && s[i] == '0' && lower(s[i + 1]) == 'x') {
    parts.hex = true;
    i += 2;
  }
  bool saw_dot = false;
  bool saw_digits = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      underscores = true;
    } else if (c == '.') {
      if (saw_dot) break;
      saw_dot = true;
      parts.mantissa.push_back(c);
    } else if (is_digit(c) || (parts.hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw_digits = true;
      parts.mantissa.push_back(c);
    } else {
      break;
    }
  }
  if (!saw_digits) return false;
  const char exp_char = parts.hex ? 'p' : 'e';
  if (i < s.size() && lower(s[i]) == exp_char) {
    ++i;
    if (i >= s.size()) return false;
    long sign = 1;
    if (s[i] == '+' || s[i] == '-') {
      sign = s[i] == '-' ? -1 : 1;
      ++i;
    }
    if (i >= s.size() || !is_digit(s[i])) return false;
    long e = 0;
    for (; i < s.size() && (is_digit(s[i]) || s[i] == '_'); ++i) {
      if (s[i] == '_') {
        underscores = true;
        continue;
      }
      if (e < 10000) e = e * 10 + (s[i] - '0');
    }
    parts.exponent = sign * e;
    parts.has_exponent = true;
  } else if (parts.hex) {
    return false;  // hex mantissas need a 'p' exponent
  }
  if (i != s.size()) return false;
  return !underscores || underscore_ok(s);
}

// Order of magnitude of the literal, in exponent units (powers of 10, or of 2 for hex); only
// its sign matters: it tells an overflow (positive) from an underflow, which from_chars both
// report as result_out_of_range.
long magnitude(const FloatParts& parts) {
  const std::string& m = parts.mantissa;
  const size_t dot = std::min(m.find('.'), m.size());
  const size_t first = m.find_first_not_of("0.");
  if (first == std::string::npos) return 0;
  long digit_exp = first < dot ? static_cast<long>(dot - first) - 1
                               : -static_cast<long>(first - dot);  // dot before first nonzero
  if (parts.hex) digit_exp *= 4;
  return digit_exp + parts.exponent;
}

}  // namespace

bool parse_go_duration(std::string_view text, Duration& out, GoParseError* error) {
  const std::string_view orig = text;
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {  // the one value that needs no unit
    out = Duration::zero();
    return true;
  }
  if (s.empty()) return duration_error(error, "invalid duration", orig);
  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || is_digit(s[0]))) return duration_error(error, "invalid duration", orig);
    const size_t before_int = s.size();
    uint64_t v = 0;
    if (!leading_int(s, v)) return duration_error(error, "invalid duration", orig);
    const bool pre = before_int != s.size();
    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      const size_t before_frac = s.size();
      leading_fraction(s, f, scale);
      post = before_frac != s.size();
    }
    if (!pre && !post) return duration_error(error, "invalid duration", orig);
    size_t unit_len = 0;
    while (unit_len < s.size() && s[unit_len] != '.' && !is_digit(s[unit_len])) ++unit_len;
    if (unit_len == 0) return duration_error(error, "missing unit in duration", orig);
    const std::string_view unit_text = s.substr(0, unit_len);
    s.remove_prefix(unit_len);
    const uint64_t unit = unit_nanos(unit_text);
    if (unit == 0) {
      return duration_error(error, "unknown unit " + time_quote(unit_text) + " in duration", orig);
    }
    if (v > kTopBit / unit) return duration_error(error, "invalid duration", orig);
    v *= unit;
    if (f > 0) {
      // Go computes the fraction in float64 (nanosecond-exact up to hours); so do we.
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kTopBit) return duration_error(error, "invalid duration", orig);
    }
    total += v;
    if (total > kTopBit) return duration_error(error, "invalid duration", orig);
  }
  if (negative) {
    // 1<<63 is allowed only negated: it is exactly min int64.
    out = Duration(static_cast<int64_t>(~total + 1));
    return true;
  }
  if (total > kTopBit - 1) return duration_error(error, "invalid duration", orig);
  out = Duration(static_cast<int64_t>(total));
  return true;
}

namespace {

// Writes v / 10^prec's fraction (".123", trailing zeros and a bare '.' omitted) in front of
// `tail`, and returns v / 10^prec.
uint64_t prepend_fraction(std::string& tail, uint64_t v, int prec) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    const auto digit = static_cast<char>('0' + v % 10);
    print = print || digit != '0';
    if (print) digits.insert(digits.begin(), digit);
    v /= 10;
  }
  if (print) tail.insert(0, "." + digits);
  return v;
}

}  // namespace

std::string format_go_duration(Duration d) {
  const int64_t ns = d.count();
  // Negate in unsigned arithmetic so that min int64 works too.
  uint64_t u = ns < 0 ? ~static_cast<uint64_t>(ns) + 1 : static_cast<uint64_t>(ns);
  std::string out;
  if (u == 0) return "0s";
  if (u < 1'000'000'000) {
    // Under a second Go switches to one smaller unit with a fraction: 1.5µs, 250ms.
    int prec = 0;
    std::string unit;
    if (u < 1'000) {
      unit = "ns";
    } else if (u < 1'000'000) {
      prec = 3;
      unit = "\xC2\xB5s";  // U+00B5 micro sign, as Go prints it
    } else {
      prec = 6;
      unit = "ms";
    }
    out = unit;
    u = prepend_fraction(out, u, prec);
    out.insert(0, std::to_string(u));
  } else {
    out = "s";
    u = prepend_fraction(out, u, 9);
    out.insert(0, std::to_string(u % 60));
    u /= 60;
    if (u > 0) {  // minutes, then hours (never days: they vary in length)
      out.insert(0, std::to_string(u % 60) + "m");
      u /= 60;
      if (u > 0) out.insert(0, std::to_string(u) + "h");
    }
  }
  if (ns < 0) out.insert(0, "-");
  return out;
}

bool parse_go_int_base(std::string_view text, int base, int64_t& out, GoParseError* error) {
  if (base != 0 && (base < 2 || base > 36)) {
    set_error(error, "strconv.ParseInt: parsing " + gocompat::go_quote(text) + ": invalid base " +
                         std::to_string(base));
    return false;
  }
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  uint64_t magnitude_value = 0;
  NumStatus status = text.empty() ? NumStatus::kSyntax : parse_uint(s, base, magnitude_value);
  if (status == NumStatus::kOk &&
      (negative ? magnitude_value > kTopBit : magnitude_value >= kTopBit)) {
    status = NumStatus::kRange;
  }
  if (status != NumStatus::kOk) return num_error(error, "ParseInt", text, status);
  out =
      negative ? static_cast<int64_t>(~magnitude_value + 1) : static_cast<int64_t>(magnitude_value);
  return true;
}

bool parse_go_int(std::string_view text, int64_t& out, GoParseError* error) {
  return parse_go_int_base(text, 0, out, error);
}

bool parse_go_bool(std::string_view text, bool& out, GoParseError* error) {
  for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (text == yes) {
      out = true;
      return true;
    }
  }
  for (std::string_view no : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (text == no) {
      out = false;
      return true;
    }
  }
  set_error(error, "strconv.ParseBool: parsing " + gocompat::go_quote(text) + ": invalid syntax");
  return false;
}

bool parse_go_float(std::string_view text, double& out, GoParseError* error) {
  if (parse_special_float(text, out)) return true;
  FloatParts parts;
  if (!split_float(text, parts)) return num_error(error, "ParseFloat", text, NumStatus::kSyntax);
  // The grammar is Go's (checked above); the correctly rounded conversion is from_chars'.
  std::string literal = parts.mantissa;
  if (parts.has_exponent) {
    literal += parts.hex ? 'p' : 'e';
    literal += std::to_string(parts.exponent);
  }
  double value = 0;
  const auto format = parts.hex ? std::chars_format::hex : std::chars_format::general;
  const auto [end, ec] =
      std::from_chars(literal.data(), literal.data() + literal.size(), value, format);
  if (ec == std::errc::result_out_of_range) {
    if (magnitude(parts) > 0) return num_error(error, "ParseFloat", text, NumStatus::kRange);
    value = 0;  // underflow: Go returns (signed) zero without an error
  } else if (ec != std::errc() || end != literal.data() + literal.size()) {
    return num_error(error, "ParseFloat", text, NumStatus::kSyntax);
  }
  out = parts.negative ? -value : value;
  return true;
}

}  // namespace nsq::gocompat
