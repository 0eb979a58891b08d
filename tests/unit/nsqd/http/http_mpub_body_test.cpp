// /mpub body decoding: text lines and the binary format, with the reference's error codes.
#include "nsqd/http/http_mpub_body.hpp"

#include <gtest/gtest.h>

namespace nsq::nsqd {
namespace {

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

TEST(TextMpub, SplitsOnNewlineKeepsCarriageReturnSkipsEmpty) {
  std::vector<std::string_view> out;
  EXPECT_FALSE(split_text_mpub("a\n\nb\r\nc", 100, 1000, out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "a");
  EXPECT_EQ(out[1], "b\r");
  EXPECT_EQ(out[2], "c");
}

TEST(TextMpub, OnlyNewlinesPublishNothing) {
  std::vector<std::string_view> out;
  EXPECT_FALSE(split_text_mpub("\n\n\n", 100, 1000, out));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(split_text_mpub("", 100, 1000, out));
}

TEST(TextMpub, LineOverMaxMsgSize) {
  std::vector<std::string_view> out;
  auto err = split_text_mpub("ok\n12345\n", 4, 1000, out);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, "MSG_TOO_BIG");
  EXPECT_FALSE(split_text_mpub("ok\n1234\n", 4, 1000, out));
}

TEST(TextMpub, BodyOverMaxBodySize) {
  std::vector<std::string_view> out;
  auto err = split_text_mpub("aaaa\nbbbb", 100, 8, out);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, "BODY_TOO_BIG");
}

TEST(BinaryMpub, Decodes) {
  const std::string body = be32(2) + be32(3) + "abc" + be32(1) + "d" + "trailing ignored";
  std::vector<std::string_view> out;
  EXPECT_FALSE(parse_binary_mpub(body, 100, 1000, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "abc");
  EXPECT_EQ(out[1], "d");
}

// The claimed count does not size the allocation: a short body claiming a million messages
// reserves only what it could hold.
TEST(BinaryMpub, AShortBodyClaimingManyMessagesReservesLittle) {
  std::vector<std::string_view> out;
  const auto e = parse_binary_mpub(be32(1'000'000) + be32(1), 100, 5 * 1024 * 1024, out);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "BAD_MESSAGE");
  EXPECT_LE(out.capacity(), 1u);
}

TEST(BinaryMpub, Errors) {
  std::vector<std::string_view> out;
  EXPECT_EQ(parse_binary_mpub("ab", 100, 1000, out)->code, "BAD_BODY");
  EXPECT_EQ(parse_binary_mpub(be32(0), 100, 1000, out)->code, "BAD_BODY");
  // (1000 - 4) / 5 = 199 messages at most
  EXPECT_EQ(parse_binary_mpub(be32(200), 100, 1000, out)->code, "BAD_BODY");
  auto e = parse_binary_mpub(be32(1) + be32(0), 100, 1000, out);
  EXPECT_EQ(e->code, "BAD_MESSAGE");
  EXPECT_EQ(e->detail, "MPUB invalid message(0) body size 0");
  e = parse_binary_mpub(be32(1) + be32(101) + std::string(101, 'x'), 100, 1000, out);
  EXPECT_EQ(e->code, "BAD_MESSAGE");
  EXPECT_EQ(e->detail, "MPUB message too big 101 > 100");
  EXPECT_EQ(parse_binary_mpub(be32(2) + be32(1) + "x", 100, 1000, out)->code, "BAD_MESSAGE");
  EXPECT_EQ(parse_binary_mpub(be32(1) + be32(5) + "abc", 100, 1000, out)->code, "BAD_MESSAGE");
}

TEST(BinaryMode, ReferenceBoolParams) {
  bool dep = false;
  EXPECT_FALSE(mpub_binary_mode(std::nullopt, &dep));
  EXPECT_TRUE(mpub_binary_mode("true", &dep));
  EXPECT_TRUE(mpub_binary_mode("1", &dep));
  EXPECT_FALSE(mpub_binary_mode("0", &dep));
  EXPECT_FALSE(mpub_binary_mode("false", &dep));
  EXPECT_FALSE(dep);
  EXPECT_TRUE(mpub_binary_mode("yes", &dep));
  EXPECT_TRUE(dep);
}

}  // namespace
}  // namespace nsq::nsqd
