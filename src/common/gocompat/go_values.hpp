// Go's value syntaxes (time.ParseDuration, Duration.String, strconv.ParseInt/ParseBool/
// ParseFloat), reproduced so that every flag or config value the reference daemons accept or
// reject is accepted or rejected here too, with the same error texts.
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace nsq::gocompat {

// Go's time.Duration.
using Duration = std::chrono::nanoseconds;

// Why one of the Go value parsers below failed: Go's error text (e.g.
// `strconv.ParseInt: parsing "x": invalid syntax`, `time: missing unit in duration "5"`) and
// whether it was a range error (the flag package says "value out of range" rather than
// "parse error" then). On failure `out` is left unchanged.
struct GoParseError {
  std::string text;
  bool out_of_range = false;
};

// Go's time.ParseDuration; failure reported through the bool.
bool parse_go_duration(std::string_view text, Duration& out, GoParseError* error = nullptr);
// Go's time.Duration.String(): "1m0s", "250ms", "1h0m0s", "0s", "1.5s".
std::string format_go_duration(Duration d);
// strconv.ParseInt(s, 0, 64): decimal, 0x/0o/0b prefixes, leading 0 = octal, '_' between
// digits (Go allows it whenever the base is 0, so "1_000" is 1000; "1__0", "_1" are errors).
bool parse_go_int(std::string_view text, int64_t& out, GoParseError* error = nullptr);
// strconv.ParseInt(s, base, 64) for base 0 or 2..36 (go-options parses config strings base 10).
bool parse_go_int_base(std::string_view text, int base, int64_t& out,
                       GoParseError* error = nullptr);
// strconv.ParseBool: 1 t T TRUE true True 0 f F FALSE false False.
bool parse_go_bool(std::string_view text, bool& out, GoParseError* error = nullptr);
// strconv.ParseFloat(s, 64): decimal and hex (0x1p-2) forms, '_' separators, inf/nan.
// Overflow is a range error (out is not set); underflow quietly gives 0 like Go.
bool parse_go_float(std::string_view text, double& out, GoParseError* error = nullptr);

}  // namespace nsq::gocompat
