#include "nsq/codec/crc32c.hpp"

#include <gtest/gtest.h>

#include <string>

namespace nsq::codec {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 B.4 and the common check value.
  EXPECT_EQ(crc32c(""), 0u);
  EXPECT_EQ(crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62a8ab43u);
}

TEST(Crc32c, SlicedAndBytewisePathsAgree) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  // Every length exercises a different split between 8-byte steps and the tail.
  for (size_t n = 0; n < 40; ++n) {
    uint32_t slow = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) {
      slow ^= static_cast<unsigned char>(data[i]);
      for (int k = 0; k < 8; ++k) slow = (slow & 1) ? (slow >> 1) ^ 0x82f63b78u : slow >> 1;
    }
    EXPECT_EQ(crc32c(std::string_view(data).substr(0, n)), slow ^ 0xffffffffu) << n;
  }
}

TEST(Crc32c, SnappyMask) {
  // From the framing format: mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8.
  EXPECT_EQ(snappy_mask_crc(0), 0xa282ead8u);
  EXPECT_EQ(snappy_mask_crc(0x00008000u), 0xa282ead9u);
}

}  // namespace nsq::codec
