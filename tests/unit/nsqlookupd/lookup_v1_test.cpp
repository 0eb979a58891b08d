// The nsqlookupd V1 codec: command parsing with the reference's error strings, IDENTIFY body
// decoding, and the client-side encoders/response reader nsqd uses.
#include <gtest/gtest.h>

#include <string>

#include "nsq/protocol/lookup_v1.hpp"

namespace nsq::protocol {
namespace {

using Status = LookupParseResult::Status;

std::string size_prefixed(const std::string& body) {
  std::string out;
  append_be32(out, static_cast<uint32_t>(body.size()));
  return out + body;
}

TEST(LookupV1Magic, NeedsFourBytes) {
  EXPECT_EQ(check_lookup_magic(" "), MagicCheck::kNeedMore);
  EXPECT_EQ(check_lookup_magic("  V1PING\n"), MagicCheck::kV1);
  EXPECT_EQ(check_lookup_magic("  V2"), MagicCheck::kBad);
  EXPECT_EQ(check_lookup_magic("GET "), MagicCheck::kBad);
}

TEST(LookupV1Parser, PingIsAllowedBeforeIdentifyAndTrimmed) {
  LookupV1Parser p;
  auto r = p.parse("PING\n", false);
  ASSERT_EQ(r.status, Status::kCommand);
  EXPECT_EQ(r.command.type, LookupCommandType::kPing);
  EXPECT_EQ(r.consumed, 5u);
  r = p.parse("  PING \r\nrest", false);
  ASSERT_EQ(r.status, Status::kCommand);
  EXPECT_EQ(r.consumed, 9u);
}

TEST(LookupV1Parser, PartialLineNeedsMore) {
  LookupV1Parser p;
  auto r = p.parse("REGIS", true);
  EXPECT_EQ(r.status, Status::kNeedMore);
  EXPECT_FALSE(r.eof_error.has_value());
}

TEST(LookupV1Parser, RegisterTopicAndChannel) {
  LookupV1Parser p;
  auto r = p.parse("REGISTER t c\n", true);
  ASSERT_EQ(r.status, Status::kCommand);
  EXPECT_EQ(r.command.type, LookupCommandType::kRegister);
  EXPECT_EQ(r.command.topic, "t");
  EXPECT_EQ(r.command.channel, "c");
  r = p.parse("UNREGISTER t\n", true);
  ASSERT_EQ(r.status, Status::kCommand);
  EXPECT_EQ(r.command.type, LookupCommandType::kUnregister);
  EXPECT_EQ(r.command.topic, "t");
  EXPECT_TRUE(r.command.channel.empty());
}

TEST(LookupV1Parser, RegisterBeforeIdentifyIsFatal) {
  LookupV1Parser p;
  auto r = p.parse("REGISTER t\n", false);
  ASSERT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.error.text(), "E_INVALID client must IDENTIFY");
}

TEST(LookupV1Parser, ReferenceErrorStrings) {
  LookupV1Parser p;
  EXPECT_EQ(p.parse("REGISTER\n", true).error.text(),
            "E_INVALID REGISTER insufficient number of params");
  EXPECT_EQ(p.parse("UNREGISTER bad*t\n", true).error.text(),
            "E_BAD_TOPIC UNREGISTER topic name 'bad*t' is not valid");
  EXPECT_EQ(p.parse("REGISTER t bad*c\n", true).error.text(),
            "E_BAD_CHANNEL REGISTER channel name 'bad*c' is not valid");
  // Split on single spaces: two spaces make an empty topic.
  EXPECT_EQ(p.parse("REGISTER  c\n", true).error.text(),
            "E_BAD_TOPIC REGISTER topic name '' is not valid");
  EXPECT_EQ(p.parse("HELLO x\n", true).error.text(), "E_INVALID invalid command HELLO");
  EXPECT_EQ(p.parse("IDENTIFY\n", true).error.text(), "E_INVALID cannot IDENTIFY again");
}

TEST(LookupV1Parser, IdentifyBodyInPieces) {
  LookupV1Parser p;
  const std::string body = R"({"broadcast_address":"h","tcp_port":1,"http_port":2,"version":"v"})";
  const std::string all = "IDENTIFY\n" + size_prefixed(body) + "PING\n";
  auto r = p.parse(all.substr(0, 11), false);
  EXPECT_EQ(r.status, Status::kNeedMore);
  ASSERT_TRUE(r.eof_error.has_value());
  EXPECT_EQ(r.eof_error->text(), "E_BAD_BODY IDENTIFY failed to read body size");
  r = p.parse(all.substr(0, 20), false);
  EXPECT_EQ(r.status, Status::kNeedMore);
  ASSERT_TRUE(r.eof_error.has_value());
  EXPECT_EQ(r.eof_error->text(), "E_BAD_BODY IDENTIFY failed to read body");
  r = p.parse(all, false);
  ASSERT_EQ(r.status, Status::kCommand);
  EXPECT_EQ(r.command.body, body);
  EXPECT_EQ(r.consumed, all.size() - 5);
}

TEST(LookupV1Parser, NegativeOrHugeIdentifySizeIsRefused) {
  LookupV1Parser p(LookupV1Limits{.max_line_length = 1 << 20, .max_identify_body = 100});
  std::string neg = "IDENTIFY\n";
  append_be32(neg, 0xFFFFFFFFu);
  EXPECT_EQ(p.parse(neg, false).status, Status::kError);
  std::string big = "IDENTIFY\n";
  append_be32(big, 101);
  EXPECT_EQ(p.parse(big, false).status, Status::kError);
}

TEST(LookupV1Parser, OverlongLineClosesSilently) {
  LookupV1Parser p(LookupV1Limits{.max_line_length = 16, .max_identify_body = 100});
  EXPECT_EQ(p.parse(std::string(20, 'x'), true).status, Status::kCloseSilently);
}

TEST(LookupIdentify, DecodesLikeGo) {
  LookupPeerIdentity id;
  ASSERT_FALSE(decode_lookup_identify(
      R"({"BROADCAST_ADDRESS":"h","tcp_port":4150,"http_port":4151,"version":"1.3.0","hostname":null,"extra":[1]})",
      id));
  EXPECT_EQ(id.broadcast_address, "h");
  EXPECT_EQ(id.tcp_port, 4150);
  EXPECT_EQ(id.http_port, 4151);
  EXPECT_EQ(id.version, "1.3.0");
  EXPECT_EQ(id.hostname, "");
}

TEST(LookupIdentify, Errors) {
  LookupPeerIdentity id;
  EXPECT_EQ(decode_lookup_identify("{}", id)->text(), "E_BAD_BODY IDENTIFY missing fields");
  EXPECT_EQ(
      decode_lookup_identify(R"({"broadcast_address":"h","tcp_port":1,"version":"v"})", id)->text(),
      "E_BAD_BODY IDENTIFY missing fields");
  EXPECT_EQ(decode_lookup_identify("{x}", id)->text(),
            "E_BAD_BODY IDENTIFY failed to decode JSON body");
  EXPECT_EQ(decode_lookup_identify(R"({"tcp_port":"1"})", id)->text(),
            "E_BAD_BODY IDENTIFY failed to decode JSON body");
  EXPECT_EQ(decode_lookup_identify(R"({"tcp_port":1.5})", id)->text(),
            "E_BAD_BODY IDENTIFY failed to decode JSON body");
}

// nlohmann ends its input at a NUL byte; Go rejects the NUL (found by fuzz/identify_fuzz.cpp
// on nsqd's IDENTIFY decoder, which shares the cause).
TEST(LookupIdentify, BytesAfterANulAreNotIgnored) {
  LookupPeerIdentity id;
  const std::string good =
      R"({"broadcast_address":"h","tcp_port":4150,"http_port":4151,"version":"1.3.0"})";
  EXPECT_FALSE(decode_lookup_identify(good, id));
  EXPECT_EQ(decode_lookup_identify(good + std::string("\0junk", 5), id)->text(),
            "E_BAD_BODY IDENTIFY failed to decode JSON body");
}

TEST(LookupClientCodec, EncodersMatchGoNsq) {
  std::string out;
  append_lookup_identify(out, "{}");
  EXPECT_EQ(out, std::string("IDENTIFY\n\0\0\0\x02{}", 15));
  out.clear();
  append_lookup_register(out, "t", "");
  append_lookup_register(out, "t", "c");
  append_lookup_unregister(out, "t", "c");
  append_lookup_ping(out);
  EXPECT_EQ(out, "REGISTER t\nREGISTER t c\nUNREGISTER t c\nPING\n");
}

TEST(LookupClientCodec, ResponseReader) {
  std::string wire = size_prefixed("OK") + size_prefixed("{}");
  auto r = read_lookup_response(std::string_view(wire).substr(0, 5), 100);
  EXPECT_EQ(r.status, LookupResponse::Status::kNeedMore);
  r = read_lookup_response(wire, 100);
  ASSERT_EQ(r.status, LookupResponse::Status::kResponse);
  EXPECT_EQ(r.data, "OK");
  EXPECT_EQ(r.consumed, 6u);
  r = read_lookup_response(wire, 1);
  EXPECT_EQ(r.status, LookupResponse::Status::kError);
  EXPECT_EQ(r.error, "response body size (2) is greater than limit (1)");
}

TEST(GoTrimSpace, UnicodeSpaces) {
  EXPECT_EQ(go_trim_space("\xC2\xA0 PING\t\xE3\x80\x80"), "PING");
  EXPECT_EQ(go_trim_space("\xFFPING "), "\xFFPING");
}

}  // namespace
}  // namespace nsq::protocol
