// CRC-32C (Castagnoli), as the snappy framing format checksums each chunk with it.
#pragma once

#include <cstdint>
#include <string_view>

namespace nsq::codec {

// The plain CRC-32C of `data` (initial value and final xor 0xffffffff, as RFC 3720).
uint32_t crc32c(std::string_view data);

// The snappy framing format's masked form of a CRC, so a checksum of data that itself
// contains checksums stays well distributed.
inline uint32_t snappy_mask_crc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

}  // namespace nsq::codec
