#include "nsq/codec/deflate_stream.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

#include "support/result_assertions.hpp"

namespace nsq::codec {

namespace {

std::string sample(size_t n, bool compressible) {
  std::mt19937 rng(7);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = compressible ? "deflate body "[i % 13] : static_cast<char>(rng());
  }
  return s;
}

// A peer's raw inflater, independent of the codec under test.
std::string raw_inflate(std::string_view wire) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -15), Z_OK);
  std::string out(wire.size() * 50 + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(wire.data()));
  z.avail_in = static_cast<uInt>(wire.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  inflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  EXPECT_EQ(z.avail_in, 0u);
  inflateEnd(&z);
  return out;
}

}  // namespace

TEST(DeflateStream, EachBatchEndsWithSyncFlushAndIsDecodableAlone) {
  DeflateStreamCodec enc(6);
  std::string wire;
  enc.encode("OK", wire);
  ASSERT_GE(wire.size(), 4u);
  EXPECT_EQ(wire.substr(wire.size() - 4), std::string("\x00\x00\xff\xff", 4));
  EXPECT_EQ(raw_inflate(wire), "OK");
  const size_t first = wire.size();
  enc.encode("second batch", wire);
  EXPECT_EQ(wire.substr(wire.size() - 4), std::string("\x00\x00\xff\xff", 4));
  EXPECT_EQ(raw_inflate(wire), std::string("OK") + "second batch");
  EXPECT_GT(wire.size(), first);
}

TEST(DeflateStream, RoundTripsAtEveryLevel) {
  for (int level = 1; level <= 9; ++level) {
    for (bool compressible : {true, false}) {
      const std::string data = sample(200000, compressible);
      DeflateStreamCodec a(level), b(level);
      std::string wire, out;
      a.encode(data, wire);
      if (compressible) {
        EXPECT_LT(wire.size(), data.size() / 10);
      }
      ASSERT_TRUE(test_support::succeeded(b.decode(wire, out)));
      EXPECT_EQ(out, data) << level;
    }
  }
}

TEST(DeflateStream, DecodesAtEverySplitOffset) {
  DeflateStreamCodec enc(6);
  std::string wire;
  const std::string a = sample(2000, true), b = sample(300, false);
  enc.encode(a, wire);
  enc.encode(b, wire);
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    DeflateStreamCodec dec(6);
    std::string out;
    ASSERT_TRUE(dec.decode(std::string_view(wire).substr(0, cut), out)) << cut;
    ASSERT_TRUE(dec.decode(std::string_view(wire).substr(cut), out)) << cut;
    ASSERT_EQ(out, a + b) << cut;
  }
}

TEST(DeflateStream, DecodesWhatZlibCompressesWithFlush) {
  // The peer side as pynsq writes it: zlib.compressobj(level, DEFLATED, -15) + Z_SYNC_FLUSH.
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 3, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  const std::string data = "IDENTIFY-less commands: SUB t c\nRDY 1\n";
  std::string wire(256, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(wire.data());
  z.avail_out = static_cast<uInt>(wire.size());
  ASSERT_EQ(deflate(&z, Z_SYNC_FLUSH), Z_OK);
  wire.resize(wire.size() - z.avail_out);
  deflateEnd(&z);
  DeflateStreamCodec dec(6);
  std::string out;
  ASSERT_TRUE(dec.decode(wire, out));
  EXPECT_EQ(out, data);
}

TEST(DeflateStream, RejectsGarbage) {
  DeflateStreamCodec dec(6);
  std::string out;
  const auto decoded = dec.decode(std::string("\xff\xff\xff\xff\xff\xff", 6), out);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().rfind("deflate: ", 0), 0u) << decoded.error();
  EXPECT_EQ(dec.decode("more", out).error(), decoded.error());  // stays failed
}

}  // namespace nsq::codec

namespace nsq::codec {

TEST(DeflateStream, BoundsOutputPerCallAndKeepsTheRest) {
  // 40 MiB of zeros deflate to ~40 KiB: decode hands it out in bounded steps.
  const std::string data(40u << 20, '\0');
  DeflateStreamCodec enc(9), dec(9);
  std::string wire;
  enc.encode(data, wire);
  enc.encode("tail", wire);
  ASSERT_LT(wire.size(), 100u * 1024);
  std::string out, step;
  ASSERT_TRUE(dec.decode(wire, step));
  EXPECT_LE(step.size(), DeflateStreamCodec::kMaxDecodePerCall + 64 * 1024);
  EXPECT_TRUE(dec.has_backlog());
  out += step;
  int calls = 1;
  while (dec.has_backlog()) {
    step.clear();
    ASSERT_TRUE(dec.decode("", step));
    EXPECT_LE(step.size(), DeflateStreamCodec::kMaxDecodePerCall + 64 * 1024);
    out += step;
    ASSERT_LT(++calls, 100);
  }
  EXPECT_EQ(out.size(), data.size() + 4);
  EXPECT_EQ(out.substr(out.size() - 4), "tail");
  // New input while a backlog is held is decoded after it, in order.
  DeflateStreamCodec dec2(9);
  std::string out2;
  ASSERT_TRUE(dec2.decode(std::string_view(wire).substr(0, wire.size() / 2), out2));
  ASSERT_TRUE(dec2.decode(std::string_view(wire).substr(wire.size() / 2), out2));
  while (dec2.has_backlog()) ASSERT_TRUE(dec2.decode("", out2));
  EXPECT_EQ(out2, out);
}

}  // namespace nsq::codec
