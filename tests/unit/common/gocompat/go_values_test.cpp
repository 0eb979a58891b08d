// Go value syntaxes. Expected values were produced by Go 1.26 (time.ParseDuration,
// Duration.String, strconv.ParseInt/ParseBool/ParseFloat) on the same inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>

#include "common/gocompat/go_values.hpp"

namespace nsq::gocompat {
namespace {

using namespace std::chrono_literals;

int64_t nanos(std::string_view text) {
  Duration d{-12345};
  EXPECT_TRUE(parse_go_duration(text, d)) << text;
  return d.count();
}

std::string duration_error(std::string_view text) {
  Duration d{-12345};
  GoParseError error;
  EXPECT_FALSE(parse_go_duration(text, d, &error)) << text;
  EXPECT_EQ(d.count(), -12345) << "output must be untouched on failure";
  return error.text;
}

TEST(GoDuration, ParsesUnitsFractionsAndSums) {
  EXPECT_EQ(nanos("250ms"), 250'000'000);
  EXPECT_EQ(nanos("1.5h"), 5'400'000'000'000);
  EXPECT_EQ(nanos("1h30m"), 5'400'000'000'000);
  EXPECT_EQ(nanos("1h1h"), 7'200'000'000'000);
  EXPECT_EQ(nanos("1m1.5s1ms"), 61'501'000'000);
  EXPECT_EQ(nanos("3.7m"), 222'000'000'000);
  EXPECT_EQ(nanos("1ns"), 1);
  EXPECT_EQ(nanos("1us"), 1'000);
  EXPECT_EQ(nanos("1\xC2\xB5s"), 1'000);  // U+00B5 micro sign
  EXPECT_EQ(nanos("1\xCE\xBCs"), 1'000);  // U+03BC greek mu
  EXPECT_EQ(nanos(".5s"), 500'000'000);
  EXPECT_EQ(nanos("5.s"), 5'000'000'000);
  EXPECT_EQ(nanos("00001s"), 1'000'000'000);
  EXPECT_EQ(nanos("0.5ns"), 0);
  EXPECT_EQ(nanos("1.00000000000000000000000000001s"), 1'000'000'000);
  EXPECT_EQ(nanos("0.1234567890123456789012h"), 444'444'440'444);
  EXPECT_EQ(nanos("1.1234567891ms"), 1'123'456);
}

TEST(GoDuration, SignsAndZero) {
  EXPECT_EQ(nanos("0"), 0);
  EXPECT_EQ(nanos("+0"), 0);
  EXPECT_EQ(nanos("-0"), 0);
  EXPECT_EQ(nanos("0s"), 0);
  EXPECT_EQ(nanos("-0s"), 0);
  EXPECT_EQ(nanos("-1s"), -1'000'000'000);
  EXPECT_EQ(nanos("+1s"), 1'000'000'000);
}

TEST(GoDuration, Limits) {
  EXPECT_EQ(nanos("9223372036854775807ns"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(nanos("-9223372036854775808ns"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(nanos("2562047h47m16.854775807s"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(nanos("-2562047h47m16.854775808s"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(duration_error("9223372036854775808ns"),
            R"(time: invalid duration "9223372036854775808ns")");
  EXPECT_EQ(duration_error("-9223372036854775809ns"),
            R"(time: invalid duration "-9223372036854775809ns")");
  EXPECT_EQ(duration_error("2562048h"), R"(time: invalid duration "2562048h")");
  EXPECT_EQ(duration_error("12345678901234567890ns"),
            R"(time: invalid duration "12345678901234567890ns")");
}

TEST(GoDuration, RejectsWithGoMessages) {
  EXPECT_EQ(duration_error("5"), R"(time: missing unit in duration "5")");
  EXPECT_EQ(duration_error("1x"), R"(time: unknown unit "x" in duration "1x")");
  EXPECT_EQ(duration_error(""), R"(time: invalid duration "")");
  EXPECT_EQ(duration_error("-"), R"(time: invalid duration "-")");
  EXPECT_EQ(duration_error(".s"), R"(time: invalid duration ".s")");
  EXPECT_EQ(duration_error("1e3s"), R"(time: unknown unit "e" in duration "1e3s")");
  EXPECT_EQ(duration_error("1 s"), R"(time: unknown unit " s" in duration "1 s")");
  EXPECT_EQ(duration_error("10S"), R"(time: unknown unit "S" in duration "10S")");
  EXPECT_EQ(duration_error("1\xC3\xA9"),
            R"(time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9")");
  EXPECT_EQ(duration_error("1\x01s"), R"(time: unknown unit "\x01s" in duration "1\x01s")");
  EXPECT_FALSE(parse_go_duration("60", *std::make_unique<Duration>()));  // no error pointer
}

TEST(GoDuration, FormatsLikeGo) {
  EXPECT_EQ(format_go_duration(0s), "0s");
  EXPECT_EQ(format_go_duration(1min), "1m0s");
  EXPECT_EQ(format_go_duration(250ms), "250ms");
  EXPECT_EQ(format_go_duration(1h), "1h0m0s");
  EXPECT_EQ(format_go_duration(1500ms), "1.5s");
  EXPECT_EQ(format_go_duration(150min), "2h30m0s");
  EXPECT_EQ(format_go_duration(24h), "24h0m0s");
  EXPECT_EQ(format_go_duration(1ns), "1ns");
  EXPECT_EQ(format_go_duration(999ns), "999ns");
  EXPECT_EQ(format_go_duration(1us), "1\xC2\xB5s");
  EXPECT_EQ(format_go_duration(1500ns), "1.5\xC2\xB5s");
  EXPECT_EQ(format_go_duration(999999ns), "999.999\xC2\xB5s");
  EXPECT_EQ(format_go_duration(1000001ns), "1.000001ms");
  EXPECT_EQ(format_go_duration(123456789ns), "123.456789ms");
  EXPECT_EQ(format_go_duration(Duration(3723004005006)), "1h2m3.004005006s");
  EXPECT_EQ(format_go_duration(-1ns), "-1ns");
  EXPECT_EQ(format_go_duration(-1500ms), "-1.5s");
  EXPECT_EQ(format_go_duration(Duration::max()), "2562047h47m16.854775807s");
  EXPECT_EQ(format_go_duration(Duration::min()), "-2562047h47m16.854775808s");
}

TEST(GoDuration, RoundTrips) {
  for (Duration d : std::initializer_list<Duration>{0ns, 1ns, 25ms, 30s, 10min, 15min, 1h,
                                                    Duration(61501000000)}) {
    Duration back{};
    ASSERT_TRUE(parse_go_duration(format_go_duration(d), back));
    EXPECT_EQ(back, d);
  }
}

int64_t go_int(std::string_view text) {
  int64_t v = -12345;
  GoParseError error;
  EXPECT_TRUE(parse_go_int(text, v, &error)) << text << ": " << error.text;
  return v;
}

GoParseError int_error(std::string_view text, int base = 0) {
  int64_t v = -12345;
  GoParseError error;
  EXPECT_FALSE(parse_go_int_base(text, base, v, &error)) << text;
  EXPECT_EQ(v, -12345);
  return error;
}

TEST(GoInt, PrefixesAndUnderscores) {
  EXPECT_EQ(go_int("0x10"), 16);
  EXPECT_EQ(go_int("0X1f"), 31);
  EXPECT_EQ(go_int("010"), 8);
  EXPECT_EQ(go_int("0o17"), 15);
  EXPECT_EQ(go_int("0O17"), 15);
  EXPECT_EQ(go_int("0B101"), 5);
  EXPECT_EQ(go_int("0b1_0"), 2);
  EXPECT_EQ(go_int("0x_1"), 1);
  EXPECT_EQ(go_int("0_7"), 7);
  // With base 0 Go accepts '_' between decimal digits too (strconv.ParseInt("1_000", 0, 64)).
  EXPECT_EQ(go_int("1_000"), 1000);
  EXPECT_EQ(go_int("1_0_0"), 100);
  EXPECT_EQ(go_int("0"), 0);
  EXPECT_EQ(go_int("00"), 0);
  EXPECT_EQ(go_int("+5"), 5);
  EXPECT_EQ(go_int("-0x10"), -16);
}

TEST(GoInt, Limits) {
  EXPECT_EQ(go_int("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(go_int("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(go_int("-0x8000000000000000"), std::numeric_limits<int64_t>::min());
  for (const char* text : {"9223372036854775808", "-9223372036854775809", "99999999999999999999",
                           "99999999999999999999x", "0x8000000000000000"}) {
    GoParseError error = int_error(text);
    EXPECT_TRUE(error.out_of_range) << text;
    EXPECT_EQ(error.text,
              "strconv.ParseInt: parsing \"" + std::string(text) + "\": value out of range");
  }
}

TEST(GoInt, SyntaxErrors) {
  for (const char* text : {"", "-", "+-5", "08", "0x", "0b", "0b2", "0xG", "0x1_", "1__0", "_1",
                           "1_", "0o_7x", "abc", "1 ", " 1", "1e3"}) {
    GoParseError error = int_error(text);
    EXPECT_FALSE(error.out_of_range) << text;
    EXPECT_EQ(error.text,
              "strconv.ParseInt: parsing \"" + std::string(text) + "\": invalid syntax");
  }
}

TEST(GoInt, Base10AsGoOptionsUsesForConfigStrings) {
  int64_t v = 0;
  EXPECT_TRUE(parse_go_int_base("08", 10, v));
  EXPECT_EQ(v, 8);
  EXPECT_TRUE(parse_go_int_base("-42", 10, v));
  EXPECT_EQ(v, -42);
  EXPECT_EQ(int_error("0x10", 10).text, R"(strconv.ParseInt: parsing "0x10": invalid syntax)");
  EXPECT_EQ(int_error("1_000", 10).text, R"(strconv.ParseInt: parsing "1_000": invalid syntax)");
  EXPECT_EQ(int_error("5", 1).text, R"(strconv.ParseInt: parsing "5": invalid base 1)");
}

TEST(GoBool, AcceptsExactlyGoSpellings) {
  for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"}) {
    bool v = false;
    EXPECT_TRUE(parse_go_bool(yes, v)) << yes;
    EXPECT_TRUE(v) << yes;
  }
  for (const char* no : {"0", "f", "F", "FALSE", "false", "False"}) {
    bool v = true;
    EXPECT_TRUE(parse_go_bool(no, v)) << no;
    EXPECT_FALSE(v) << no;
  }
  for (const char* bad : {"yes", "tRUE", "", "2", " true"}) {
    bool v = true;
    GoParseError error;
    EXPECT_FALSE(parse_go_bool(bad, v, &error)) << bad;
    EXPECT_TRUE(v);
    EXPECT_EQ(error.text,
              "strconv.ParseBool: parsing \"" + std::string(bad) + "\": invalid syntax");
  }
}

double go_float(std::string_view text) {
  double v = -12345;
  GoParseError error;
  EXPECT_TRUE(parse_go_float(text, v, &error)) << text << ": " << error.text;
  return v;
}

TEST(GoFloat, DecimalHexAndUnderscores) {
  EXPECT_EQ(go_float("1.0"), 1.0);
  EXPECT_EQ(go_float("0.99"), 0.99);
  EXPECT_EQ(go_float("-1"), -1.0);
  EXPECT_EQ(go_float("+1"), 1.0);
  EXPECT_EQ(go_float(".5"), 0.5);
  EXPECT_EQ(go_float("5."), 5.0);
  EXPECT_EQ(go_float("1e3"), 1000.0);
  EXPECT_EQ(go_float("1E-3"), 0.001);
  EXPECT_EQ(go_float("1_000.5"), 1000.5);
  EXPECT_EQ(go_float("0x1p-2"), 0.25);
  EXPECT_EQ(go_float("0x1.8p3"), 12.0);
  EXPECT_EQ(go_float("0x.8p1"), 1.0);
  EXPECT_EQ(go_float("0x1_0p0"), 16.0);
  EXPECT_EQ(go_float("1.7976931348623157e308"), std::numeric_limits<double>::max());
  EXPECT_EQ(go_float("4.9e-324"), std::numeric_limits<double>::denorm_min());
  EXPECT_TRUE(std::signbit(go_float("-0")));
}

TEST(GoFloat, SpecialValues) {
  EXPECT_EQ(go_float("inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(go_float("-Inf"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(go_float("+infinity"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(go_float("INFINITY"), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(go_float("nan")));
  EXPECT_TRUE(std::isnan(go_float("NaN")));
}

TEST(GoFloat, UnderflowIsZeroOverflowIsRangeError) {
  EXPECT_EQ(go_float("1e-400"), 0.0);
  EXPECT_EQ(go_float("2.4e-324"), 0.0);
  EXPECT_EQ(go_float("0x1p-1080"), 0.0);
  EXPECT_EQ(go_float("1e-99999999999"), 0.0);
  for (const char* text :
       {"1e400", "-1e400", "1.7976931348623159e308", "0x1p1024", "1e99999999999"}) {
    double v = -12345;
    GoParseError error;
    EXPECT_FALSE(parse_go_float(text, v, &error)) << text;
    EXPECT_TRUE(error.out_of_range) << text;
    EXPECT_EQ(error.text,
              "strconv.ParseFloat: parsing \"" + std::string(text) + "\": value out of range");
  }
}

TEST(GoFloat, SyntaxErrors) {
  for (const char* text :
       {"",    "x",    "1e",    "1e+",  "infin", "-nan", "+nan", "1__0", "_1", "1_",
        "0x1", "0xp1", "1.2.3", "1..2", "1_e1",  "1,0",  ".",    "-.",   "1 ", "0x"}) {
    double v = -12345;
    GoParseError error;
    EXPECT_FALSE(parse_go_float(text, v, &error)) << text;
    EXPECT_EQ(v, -12345);
    EXPECT_EQ(error.text,
              "strconv.ParseFloat: parsing \"" + std::string(text) + "\": invalid syntax");
  }
}

}  // namespace
}  // namespace nsq::gocompat
