// IDENTIFY body decoding with Go encoding/json semantics (the reference's protocol_v2.go IDENTIFY).
// Every expectation below was checked against Go's json.Unmarshal into nsqd v1.3.0's
// identifyDataV2.
#include "nsq/protocol/identify.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nsq::protocol {
namespace {

IdentifyRequest decode_ok(std::string_view body) {
  auto r = decode_identify(body);
  EXPECT_TRUE(r.has_value()) << body;
  return r.value_or(IdentifyRequest{});
}

void expect_defaults(const IdentifyRequest& r) {
  EXPECT_EQ(r.client_id, "");
  EXPECT_EQ(r.hostname, "");
  EXPECT_EQ(r.user_agent, "");
  EXPECT_FALSE(r.feature_negotiation);
  EXPECT_EQ(r.heartbeat_interval, 0);
  EXPECT_EQ(r.output_buffer_size, 0);
  EXPECT_EQ(r.output_buffer_timeout, 0);
  EXPECT_FALSE(r.tls_v1);
  EXPECT_FALSE(r.deflate);
  EXPECT_EQ(r.deflate_level, 0);
  EXPECT_FALSE(r.snappy);
  EXPECT_EQ(r.sample_rate, 0);
  EXPECT_EQ(r.msg_timeout, 0);
}

TEST(IdentifyDecode, EveryField) {
  const auto r =
      decode_ok(R"({"client_id":"a","hostname":"h","user_agent":"ua","feature_negotiation":true,)"
                R"("heartbeat_interval":1000,"output_buffer_size":100,"output_buffer_timeout":50,)"
                R"("tls_v1":true,"deflate":true,"deflate_level":3,"snappy":true,"sample_rate":5,)"
                R"("msg_timeout":2000})");
  EXPECT_EQ(r.client_id, "a");
  EXPECT_EQ(r.hostname, "h");
  EXPECT_EQ(r.user_agent, "ua");
  EXPECT_TRUE(r.feature_negotiation);
  EXPECT_EQ(r.heartbeat_interval, 1000);
  EXPECT_EQ(r.output_buffer_size, 100);
  EXPECT_EQ(r.output_buffer_timeout, 50);
  EXPECT_TRUE(r.tls_v1);
  EXPECT_TRUE(r.deflate);
  EXPECT_EQ(r.deflate_level, 3);
  EXPECT_TRUE(r.snappy);
  EXPECT_EQ(r.sample_rate, 5);
  EXPECT_EQ(r.msg_timeout, 2000);
}

TEST(IdentifyDecode, WhatRealClientsSend) {
  // pynsq / go-nsq send extra keys (short_id, long_id, ...): ignored.
  const auto r = decode_ok(
      R"({"client_id":"host","hostname":"host.example","short_id":"host","long_id":"host.example",)"
      R"("feature_negotiation":true,"heartbeat_interval":30000,"user_agent":"pynsq/0.9.1",)"
      R"("output_buffer_size":16384,"output_buffer_timeout":250,"tls_v1":false,"snappy":false,)"
      R"("deflate":false,"deflate_level":6,"sample_rate":0,"msg_timeout":60000})");
  EXPECT_EQ(r.client_id, "host");
  EXPECT_EQ(r.user_agent, "pynsq/0.9.1");
  EXPECT_EQ(r.heartbeat_interval, 30000);
  EXPECT_EQ(r.msg_timeout, 60000);
}

TEST(IdentifyDecode, EmptyObjectAndNullKeepDefaults) {
  for (const char* body : {"{}", "null", " null ", "{\"a\":1} ", " \t\r\n{}\n"}) {
    SCOPED_TRACE(body);
    expect_defaults(decode_ok(body));
  }
  expect_defaults(decode_ok(R"({"heartbeat_interval":null,"client_id":null,"tls_v1":null})"));
}

TEST(IdentifyDecode, KeysMatchCaseInsensitively) {
  const auto r =
      decode_ok(R"({"CLIENT_ID":"a","Heartbeat_Interval":2000,"FeAtUrE_NeGoTiAtIoN":true})");
  EXPECT_EQ(r.client_id, "a");
  EXPECT_EQ(r.heartbeat_interval, 2000);
  EXPECT_TRUE(r.feature_negotiation);
}

TEST(IdentifyDecode, UnknownKeysOfAnyTypeAreIgnored) {
  expect_defaults(decode_ok(
      R"({"short_id":"x","long_id":"y","foo":[1,{"a":null}],"bar":{"b":[true,false,"s",1.5]}})"));
}

TEST(IdentifyDecode, EscapedKeysAndStrings) {
  EXPECT_EQ(decode_ok(R"({"client\u005fid":"esc"})").client_id, "esc");
  EXPECT_EQ(decode_ok(R"({"client_id":"caf\u00e9 \"q\""})").client_id, "caf\xc3\xa9 \"q\"");
  EXPECT_EQ(decode_ok(R"({"client_id":"x\u0000y"})").client_id, std::string("x\0y", 3));
}

TEST(IdentifyDecode, IntegerEdges) {
  EXPECT_EQ(decode_ok(R"({"heartbeat_interval":-1})").heartbeat_interval, -1);
  EXPECT_EQ(decode_ok(R"({"heartbeat_interval":-0})").heartbeat_interval, 0);
  EXPECT_EQ(decode_ok(R"({"deflate_level":-3})").deflate_level, -3);
  EXPECT_EQ(decode_ok(R"({"msg_timeout":9223372036854775807})").msg_timeout, INT64_MAX);
  EXPECT_EQ(decode_ok(R"({"msg_timeout":-9223372036854775808})").msg_timeout, INT64_MIN);
  // sample_rate is an int32 in the reference.
  EXPECT_EQ(decode_ok(R"({"sample_rate":2147483647})").sample_rate, 2147483647);
  EXPECT_EQ(decode_ok(R"({"sample_rate":-2147483648})").sample_rate, -2147483648LL);
}

TEST(IdentifyDecode, LastDuplicateWins) {
  EXPECT_EQ(
      decode_ok(R"({"heartbeat_interval":2000,"heartbeat_interval":3000})").heartbeat_interval,
      3000);
  // Keys differing only in case set the same field, in document order.
  EXPECT_EQ(
      decode_ok(R"({"heartbeat_interval":2000,"HEARTBEAT_INTERVAL":3000})").heartbeat_interval,
      3000);
  EXPECT_EQ(
      decode_ok(R"({"HEARTBEAT_INTERVAL":3000,"heartbeat_interval":2000})").heartbeat_interval,
      2000);
}

TEST(IdentifyDecode, FailsLikeGo) {
  const std::vector<std::string> bad = {
      // not an object
      "[]",
      "\"x\"",
      "1",
      "true",
      // wrong types
      R"({"heartbeat_interval":"1000"})",
      R"({"heartbeat_interval":1000.5})",
      R"({"heartbeat_interval":1e3})",
      R"({"heartbeat_interval":1000.0})",
      R"({"sample_rate":5.0})",
      R"({"msg_timeout":true})",
      R"({"tls_v1":1})",
      R"({"snappy":"true"})",
      R"({"client_id":5})",
      R"({"client_id":["a"]})",
      R"({"deflate":{}})",
      R"({"client_id":"a","heartbeat_interval":"bad","hostname":"h"})",
      // out of range
      R"({"sample_rate":2147483648})",
      R"({"sample_rate":-2147483649})",
      R"({"msg_timeout":9223372036854775808})",
      R"({"msg_timeout":-9223372036854775809})",
      // not JSON
      "{",
      R"({"a":1,})",
      R"({"a":1} x)",
      R"({"heartbeat_interval":01})",
      " ",
      "",
      // Go does not skip a byte order mark
      "\xef\xbb\xbf{}",
  };
  for (const auto& body : bad) {
    EXPECT_FALSE(decode_identify(body).has_value()) << body;
  }
}

// Found by fuzz/identify_fuzz.cpp: nlohmann ends its input at a NUL byte, so a body with
// garbage after a NUL decoded; Go calls the NUL an invalid character after the value.
TEST(IdentifyDecode, BytesAfterANulAreNotIgnored) {
  EXPECT_FALSE(decode_identify(std::string("{}\0junk", 7)).has_value());
  EXPECT_FALSE(decode_identify(std::string("{\"client_id\":\"a\"}\0", 18)).has_value());
  EXPECT_FALSE(decode_identify(std::string("\0", 1)).has_value());
}

TEST(IdentifyDecode, DeepNestingInAnUnknownKeyDoesNotCrash) {
  // Within --max-body-size a client can nest very deeply; the decoder must not recurse.
  const size_t depth = 100000;
  std::string body = "{\"x\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
  (void)decode_identify(body);
  body = "{\"x\":" + std::string(depth, '[');  // unterminated
  EXPECT_FALSE(decode_identify(body).has_value());
}

// Go's unquote replaces each byte that does not start a valid UTF-8 sequence with U+FFFD
// (checked against the reference nsqd's /stats), where nlohmann refused the whole body.
TEST(IdentifyDecode, InvalidUtf8InStringsBecomesReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(decode_ok("{\"client_id\":\"a\xFF"
                      "b\"}")
                .client_id,
            "a" + fffd + "b");
  // a truncated sequence: one replacement per byte
  EXPECT_EQ(decode_ok("{\"hostname\":\"\xE2\x82\"}").hostname, fffd + fffd);
  // an encoded surrogate and an overlong encoding are invalid too
  EXPECT_EQ(decode_ok("{\"user_agent\":\"\xED\xA0\x80\"}").user_agent, fffd + fffd + fffd);
  EXPECT_EQ(decode_ok("{\"client_id\":\"\xC0\xAF\"}").client_id, fffd + fffd);
  EXPECT_EQ(decode_ok("{\"client_id\":\"\xF4\x90\x80\x80\"}").client_id, fffd + fffd + fffd + fffd);
  // valid multi-byte text is kept as sent
  EXPECT_EQ(decode_ok("{\"client_id\":\"\xC3\xA9\xE2\x98\x83\xF0\x9F\x98\x80\"}").client_id,
            "\xC3\xA9\xE2\x98\x83\xF0\x9F\x98\x80");
  // in an unknown key or value it changes nothing
  expect_defaults(decode_ok("{\"x\xFF\":\"\xFF\",\"client_id\xFF\":\"a\"}"));
}

TEST(IdentifyDecode, SurrogateEscapesPairOrBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(decode_ok(R"({"client_id":"\ud83d\ude00"})").client_id, "\xF0\x9F\x98\x80");
  EXPECT_EQ(decode_ok(R"({"client_id":"\ud800"})").client_id, fffd);
  EXPECT_EQ(decode_ok(R"({"client_id":"\udc00x"})").client_id, fffd + "x");
  // an unpaired escape is replaced and the escape after it decoded on its own
  EXPECT_EQ(decode_ok(R"({"client_id":"\ud800\ud800\udc00"})").client_id,
            fffd + "\xF0\x90\x80\x80");
  EXPECT_EQ(decode_ok(R"({"client_id":"\udc00\ud800"})").client_id, fffd + fffd);
  EXPECT_EQ(decode_ok(R"({"client_id":"\ud800\u0041"})").client_id, fffd + "A");
}

TEST(IdentifyDecode, UnknownKeysAreNotConverted) {
  // Go skips an unknown key's value, so a number no double holds is no error there...
  EXPECT_EQ(decode_ok(R"({"x":1e5101,"y":-1e-5101,"client_id":"a"})").client_id, "a");
  // ...but is one for an int field.
  EXPECT_FALSE(decode_identify(R"({"heartbeat_interval":1e5101})").has_value());
  EXPECT_FALSE(decode_identify(R"({"heartbeat_interval":99999999999999999999})").has_value());
}

TEST(IdentifyDecode, EveryDuplicateAppliesInOrder) {
  EXPECT_EQ(decode_ok(R"({"client_id":"a","CLIENT_ID":"b","client_id":"c"})").client_id, "c");
  EXPECT_EQ(decode_ok(R"({"client_id":"a","client_id":"b","CLIENT_ID":"c"})").client_id, "c");
  // a wrong type fails the body even when a later duplicate is right
  EXPECT_FALSE(decode_identify(R"({"heartbeat_interval":"x","heartbeat_interval":5})").has_value());
  EXPECT_FALSE(decode_identify(R"({"tls_v1":1,"TLS_V1":true})").has_value());
}

TEST(IdentifyDecode, KeysFoldLikeGo) {
  // Go folds a key rune by rune to the smallest rune of its case folding orbit: long s is S.
  EXPECT_TRUE(decode_ok("{\"\xC5\xBFnappy\":true}").snappy);
  EXPECT_TRUE(decode_ok(R"({"\u017fnappy":true})").snappy);
  EXPECT_EQ(decode_ok("{\"ho\xC5\xBFtname\":\"h\"}").hostname, "h");
  // dotless i has no fold partner, and a replaced byte matches nothing
  expect_defaults(decode_ok("{\"msg_t\xC4\xB1meout\":5,\"snappy\xFF\":true}"));
}

TEST(IdentifyDecode, NestingLimitIsGos) {
  // Go's scanner allows 10000 levels of arrays and objects, the body's own object included.
  const auto nested = [](size_t levels) {
    return "{\"x\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
  };
  EXPECT_TRUE(decode_identify(nested(10000)).has_value());
  EXPECT_FALSE(decode_identify(nested(10001)).has_value());
}

}  // namespace
}  // namespace nsq::protocol
