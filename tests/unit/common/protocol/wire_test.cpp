// Wire building blocks: big-endian integers, frames and message frames byte for byte as nsqd
// writes them (the reference's internal/protocol and nsqd/message.go), and message ids as 16
// lowercase hex characters.
#include "nsq/protocol/wire.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace nsq::protocol {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (int c : b) out.push_back(static_cast<char>(c));
  return out;
}

TEST(Wire, Constants) {
  EXPECT_EQ(kMagicV2, "  V2");
  EXPECT_EQ(kMagicV2, bytes({0x20, 0x20, 0x56, 0x32}));
  EXPECT_EQ(kMagicV1, "  V1");
  EXPECT_EQ(kFrameHeaderSize, 8u);
  EXPECT_EQ(kMessageHeaderSize, 26u);
  EXPECT_EQ(kMessageIdSize, 16u);
  EXPECT_EQ(static_cast<int32_t>(FrameType::kResponse), 0);
  EXPECT_EQ(static_cast<int32_t>(FrameType::kError), 1);
  EXPECT_EQ(static_cast<int32_t>(FrameType::kMessage), 2);
}

TEST(Wire, BigEndianIntegers) {
  char b[8];
  write_be32(b, 0x01020304u);
  EXPECT_EQ(std::string(b, 4), bytes({1, 2, 3, 4}));
  EXPECT_EQ(read_be32(b), 0x01020304u);
  write_be32(b, 0xFFFFFFFFu);
  EXPECT_EQ(read_be32(b), 0xFFFFFFFFu);
  EXPECT_EQ(read_be32s(b), -1);
  write_be32(b, 0x80000000u);
  EXPECT_EQ(read_be32s(b), INT32_MIN);
  write_be32(b, 0x7FFFFFFFu);
  EXPECT_EQ(read_be32s(b), INT32_MAX);

  write_be16(b, 0xABCD);
  EXPECT_EQ(std::string(b, 2), bytes({0xAB, 0xCD}));
  EXPECT_EQ(read_be16(b), 0xABCD);
  write_be16(b, 0xFFFF);
  EXPECT_EQ(read_be16(b), 0xFFFF);

  write_be64(b, 0x0102030405060708ull);
  EXPECT_EQ(std::string(b, 8), bytes({1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(read_be64(b), 0x0102030405060708ull);
  write_be64(b, 0xF0E0D0C0B0A09080ull);
  EXPECT_EQ(read_be64(b), 0xF0E0D0C0B0A09080ull);

  std::string out = "x";
  append_be32(out, 258);
  EXPECT_EQ(out, "x" + bytes({0, 0, 1, 2}));
}

TEST(Wire, MessageIdIsSixteenLowercaseHexDigitsOfTheGuid) {
  EXPECT_EQ(id_view(message_id_from_guid(0)), "0000000000000000");
  EXPECT_EQ(id_view(message_id_from_guid(0x0123456789abcdefULL)), "0123456789abcdef");
  EXPECT_EQ(id_view(message_id_from_guid(~0ULL)), "ffffffffffffffff");
  EXPECT_EQ(id_view(message_id_from_guid(0xa09f10e0b00c9ULL)), "000a09f10e0b00c9");
  // Every nibble value at every position, and a spread of values, against snprintf.
  uint64_t v = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 100000; ++i) {
    const uint64_t guid = i < 256 ? (uint64_t{static_cast<uint64_t>(i) % 16} << (4 * (i / 16))) : v;
    char want[17];
    std::snprintf(want, sizeof want, "%016llx", static_cast<unsigned long long>(guid));
    ASSERT_EQ(id_view(message_id_from_guid(guid)), std::string_view(want, 16)) << guid;
    v = v * 6364136223846793005ULL + 1442695040888963407ULL;
  }
}

TEST(Wire, ResponseFrame) {
  std::string out;
  append_frame(out, FrameType::kResponse, "OK");
  EXPECT_EQ(out, bytes({0, 0, 0, 6, 0, 0, 0, 0}) + "OK");
}

TEST(Wire, BadProtocolFrameMatchesTheSpec) {
  std::string out;
  append_frame(out, FrameType::kError, "E_BAD_PROTOCOL");
  EXPECT_EQ(out, bytes({0, 0, 0, 0x12, 0, 0, 0, 1}) + "E_BAD_PROTOCOL");
}

TEST(Wire, FramesAppendForCoalescing) {
  std::string out;
  append_frame(out, FrameType::kResponse, "_heartbeat_");
  append_frame(out, FrameType::kError, "E_INVALID invalid command ");
  append_frame(out, FrameType::kResponse, "");
  const std::string expected = bytes({0, 0, 0, 15, 0, 0, 0, 0}) + "_heartbeat_" +
                               bytes({0, 0, 0, 30, 0, 0, 0, 1}) + "E_INVALID invalid command " +
                               bytes({0, 0, 0, 4, 0, 0, 0, 0});
  EXPECT_EQ(out, expected);
}

TEST(Wire, MessageFrameLayout) {
  const MessageId id = message_id_from_guid(0x0123456789abcdefull);
  std::string out = "prefix";
  append_message_frame(out, 0x1122334455667788LL, 0x0102, id, "body\n\0x");
  const std::string body("body\n", 5);  // the literal stops at the NUL
  ASSERT_EQ(out.size(), 6 + 8 + 26 + body.size());
  const char* f = out.data() + 6;
  EXPECT_EQ(read_be32(f), 4 + 26 + body.size());
  EXPECT_EQ(read_be32(f + 4), 2u);
  EXPECT_EQ(read_be64(f + 8), 0x1122334455667788ull);
  EXPECT_EQ(read_be16(f + 16), 0x0102);
  EXPECT_EQ(std::string(f + 18, 16), "0123456789abcdef");
  EXPECT_EQ(std::string(f + 34, body.size()), body);
  EXPECT_EQ(out.substr(0, 6), "prefix");
}

TEST(Wire, MessageFrameWithBinaryBodyAndNegativeTimestamp) {
  const std::string body = bytes({0, 0xff, '\n', 0, 0x80});
  MessageId id = message_id_from_bytes("abcdefghijklmnop");
  std::string out;
  append_message_frame(out, -1, 65535, id, body);
  ASSERT_EQ(out.size(), 8 + 26 + body.size());
  EXPECT_EQ(read_be32(out.data()), 4 + 26 + body.size());
  EXPECT_EQ(read_be64(out.data() + 8), UINT64_MAX);
  EXPECT_EQ(read_be16(out.data() + 16), 65535);
  EXPECT_EQ(out.substr(18, 16), "abcdefghijklmnop");
  EXPECT_EQ(out.substr(34), body);
}

TEST(Wire, MessageIdFromGuid) {
  EXPECT_EQ(id_view(message_id_from_guid(0)), "0000000000000000");
  EXPECT_EQ(id_view(message_id_from_guid(1)), "0000000000000001");
  EXPECT_EQ(id_view(message_id_from_guid(0x0123456789abcdefull)), "0123456789abcdef");
  EXPECT_EQ(id_view(message_id_from_guid(UINT64_MAX)), "ffffffffffffffff");
  EXPECT_EQ(id_view(message_id_from_guid(0xA0B0C0D0E0F00000ull)), "a0b0c0d0e0f00000");
}

TEST(Wire, MessageIdFromGuidPreservesOrder) {
  // Fixed-width hex: byte order equals numeric order, so ids sort like their GUIDs.
  uint64_t prev = 0x05ull;
  for (uint64_t g : {0x10ull, 0xffull, 0x100ull, 0xabcdef0123ull, 0x7fffffffffffffffull,
                     0x8000000000000000ull}) {
    EXPECT_LT(id_view(message_id_from_guid(prev)), id_view(message_id_from_guid(g)));
    prev = g;
  }
}

TEST(Wire, MessageIdFromBytes) {
  EXPECT_EQ(id_view(message_id_from_bytes("0123456789abcdef")), "0123456789abcdef");
  // Shorter input leaves zero bytes; longer input is cut to 16.
  EXPECT_EQ(id_view(message_id_from_bytes("abc")), std::string("abc") + std::string(13, '\0'));
  EXPECT_EQ(id_view(message_id_from_bytes("0123456789abcdefXYZ")), "0123456789abcdef");
  const MessageId a = message_id_from_bytes("0123456789abcdef");
  const MessageId b = message_id_from_guid(0x0123456789abcdefull);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace nsq::protocol
