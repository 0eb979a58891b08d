#include "nsq/codec/snappy_stream.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "nsq/codec/crc32c.hpp"
#include "support/result_assertions.hpp"

namespace nsq::codec {

namespace {

std::string sample(size_t n, bool compressible) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = compressible ? "nsq message body "[i % 17] : static_cast<char>(rng());
  }
  return s;
}

std::string encode_all(std::initializer_list<std::string_view> batches) {
  SnappyStreamCodec enc;
  std::string wire;
  for (auto b : batches) enc.encode(b, wire);
  return wire;
}

std::string chunk(unsigned char type, std::string_view body) {
  std::string c(1, static_cast<char>(type));
  c.push_back(static_cast<char>(body.size() & 0xff));
  c.push_back(static_cast<char>((body.size() >> 8) & 0xff));
  c.push_back(static_cast<char>((body.size() >> 16) & 0xff));
  c.append(body);
  return c;
}

std::string le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

const std::string kIdentifier("\xff\x06\x00\x00sNaPpY", 10);

}  // namespace

TEST(SnappyStream, StartsWithStreamIdentifierOnce) {
  SnappyStreamCodec enc;
  std::string wire;
  enc.encode("OK", wire);
  EXPECT_EQ(wire.substr(0, 10), kIdentifier);
  const size_t first = wire.size();
  enc.encode("OK", wire);
  EXPECT_EQ(wire.find("sNaPpY", first), std::string::npos);
}

TEST(SnappyStream, SmallDataIsSentUncompressedWithMaskedCrc) {
  const std::string wire = encode_all({"OK"});
  EXPECT_EQ(wire, kIdentifier + chunk(0x01, le32(snappy_mask_crc(crc32c("OK"))) + "OK"));
}

TEST(SnappyStream, RoundTripsCompressibleAndRandomData) {
  for (bool compressible : {true, false}) {
    for (size_t n : {size_t(1), size_t(100), size_t(65536), size_t(65537), size_t(300000)}) {
      const std::string data = sample(n, compressible);
      const std::string wire = encode_all({data});
      if (compressible && n > 1000) {
        EXPECT_LT(wire.size(), n / 2);
      }
      SnappyStreamCodec dec;
      std::string out;
      ASSERT_TRUE(test_support::succeeded(dec.decode(wire, out)));
      EXPECT_EQ(out, data);
    }
  }
}

TEST(SnappyStream, DecodesAtEverySplitOffset) {
  const std::string a = sample(3000, true);
  const std::string b = sample(500, false);
  const std::string wire = encode_all({a, b, "tail"});
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    SnappyStreamCodec dec;
    std::string out;
    ASSERT_TRUE(dec.decode(std::string_view(wire).substr(0, cut), out)) << cut;
    ASSERT_TRUE(dec.decode(std::string_view(wire).substr(cut), out)) << cut;
    ASSERT_EQ(out, a + b + "tail") << cut;
  }
}

TEST(SnappyStream, DecodesByteByByte) {
  const std::string data = sample(70000, true);
  const std::string wire = encode_all({data});
  SnappyStreamCodec dec;
  std::string out;
  for (char c : wire) ASSERT_TRUE(dec.decode(std::string_view(&c, 1), out));
  EXPECT_EQ(out, data);
}

TEST(SnappyStream, RejectsBadChecksum) {
  std::string wire = encode_all({sample(2000, true)});
  wire[kIdentifier.size() + 4] ^= 0x01;  // first byte of the first chunk's CRC
  SnappyStreamCodec dec;
  std::string out;
  const auto decoded = dec.decode(wire, out);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error(), "snappy: checksum mismatch");
  EXPECT_TRUE(out.empty());
  const auto again = dec.decode("more", out);  // stays failed
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), "snappy: checksum mismatch");
}

TEST(SnappyStream, RejectsCorruptCompressedData) {
  std::string wire = encode_all({sample(2000, true)});
  ASSERT_EQ(wire[kIdentifier.size()], '\0');  // a compressed chunk
  wire[kIdentifier.size() + 8] = '\xff';      // its varint length now claims too much
  wire[kIdentifier.size() + 9] = '\xff';
  SnappyStreamCodec dec;
  std::string out;
  EXPECT_FALSE(dec.decode(wire, out));
}

TEST(SnappyStream, RequiresStreamIdentifierFirst) {
  SnappyStreamCodec dec;
  std::string out;
  EXPECT_FALSE(dec.decode(chunk(0x01, le32(snappy_mask_crc(crc32c("x"))) + "x"), out));
}

TEST(SnappyStream, SkipsPaddingAndSkippableChunksAndRejectsReserved) {
  const std::string data = chunk(0x01, le32(snappy_mask_crc(crc32c("x"))) + "x");
  {
    SnappyStreamCodec dec;
    std::string out;
    ASSERT_TRUE(dec.decode(
        kIdentifier + chunk(0xfe, "pad") + chunk(0x80, "skip") + data + kIdentifier + data, out));
    EXPECT_EQ(out, "xx");
  }
  {
    SnappyStreamCodec dec;
    std::string out;
    EXPECT_FALSE(dec.decode(kIdentifier + chunk(0x02, "????"), out));
  }
}

}  // namespace nsq::codec
