// Go's value syntaxes for flags and config values. Input: [kind][text...]. What parses
// prints back (Duration.String, decimal) in a form that parses to the same value; a failure
// leaves the output untouched and says why.
#include <cmath>
#include <cstdio>
#include <string>

#include "common/gocompat/go_values.hpp"
#include "fuzz/fuzz_target.hpp"

namespace {

namespace g = nsq::gocompat;

void check_duration(std::string_view text) {
  g::Duration d{123};
  g::GoParseError err;
  if (!g::parse_go_duration(text, d, &err)) {
    FUZZ_CHECK(d == g::Duration{123} && !err.text.empty());
    return;
  }
  g::Duration back{};
  FUZZ_CHECK(g::parse_go_duration(g::format_go_duration(d), back) && back == d);
}

void check_int(std::string_view text, int base) {
  int64_t v = 123;
  g::GoParseError err;
  if (!g::parse_go_int_base(text, base, v, &err)) {
    FUZZ_CHECK(v == 123 && !err.text.empty());
    return;
  }
  int64_t back = 0;
  FUZZ_CHECK(g::parse_go_int(std::to_string(v), back) && back == v);
}

void check_bool(std::string_view text) {
  bool v = false;
  if (!g::parse_go_bool(text, v)) return;
  bool back = !v;
  FUZZ_CHECK(g::parse_go_bool(v ? "true" : "false", back) && back == v);
}

void check_float(std::string_view text) {
  double v = 0.5;
  g::GoParseError err;
  if (!g::parse_go_float(text, v, &err)) {
    FUZZ_CHECK(v == 0.5 && !err.text.empty());
    return;
  }
  if (std::isnan(v)) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  double back = 0;
  FUZZ_CHECK(g::parse_go_float(buf, back) && back == v);
}

}  // namespace

NSQ_FUZZ_TARGET(go_values) {
  if (size < 1) return 0;
  const std::string_view text = nsq::fuzz::as_view(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      check_duration(text);
      break;
    case 1: {
      const int base = data[0] / 4 % 36;  // 0 = Go's prefix rules, 1 is not a base
      check_int(text, base == 1 ? 10 : base);
      break;
    }
    case 2:
      check_bool(text);
      break;
    default:
      check_float(text);
      break;
  }
  return 0;
}
