// Byte-level building blocks of NSQ's wire formats: big-endian integers, frame types, and the
// frame encoder. Frames: [int32 size][int32 type][data], size = 4 + len(data).
// The encoder appends into a caller-owned buffer so a connection can coalesce many frames
// into one write.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace nsq::protocol {

enum class FrameType : int32_t { kResponse = 0, kError = 1, kMessage = 2 };

inline constexpr std::string_view kMagicV2 = "  V2";
inline constexpr std::string_view kMagicV1 = "  V1";
inline constexpr size_t kFrameHeaderSize = 8;
// timestamp(8) + attempts(2) + id(16)
inline constexpr size_t kMessageHeaderSize = 26;
inline constexpr size_t kMessageIdSize = 16;

using MessageId = std::array<char, kMessageIdSize>;

inline uint32_t read_be32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}
inline int32_t read_be32s(const char* p) {
  return static_cast<int32_t>(read_be32(p));
}
inline uint16_t read_be16(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
inline uint64_t read_be64(const char* p) {
  return (uint64_t{read_be32(p)} << 32) | uint64_t{read_be32(p + 4)};
}

inline void write_be32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}
inline void write_be16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
}
inline void write_be64(char* p, uint64_t v) {
  write_be32(p, static_cast<uint32_t>(v >> 32));
  write_be32(p + 4, static_cast<uint32_t>(v));
}

inline void append_be32(std::string& out, uint32_t v) {
  char b[4];
  write_be32(b, v);
  out.append(b, 4);
}

// Appends one complete frame of the given type.
inline void append_frame(std::string& out, FrameType type, std::string_view data) {
  char hdr[kFrameHeaderSize];
  write_be32(hdr, static_cast<uint32_t>(4 + data.size()));
  write_be32(hdr + 4, static_cast<uint32_t>(type));
  out.append(hdr, sizeof hdr);
  out.append(data);
}

// Appends a message frame: frame header + timestamp + attempts + id + body.
inline void append_message_frame(std::string& out, int64_t timestamp_ns, uint16_t attempts,
                                 const MessageId& id, std::string_view body) {
  char hdr[kFrameHeaderSize + kMessageHeaderSize];
  write_be32(hdr, static_cast<uint32_t>(4 + kMessageHeaderSize + body.size()));
  write_be32(hdr + 4, static_cast<uint32_t>(FrameType::kMessage));
  write_be64(hdr + 8, static_cast<uint64_t>(timestamp_ns));
  write_be16(hdr + 16, attempts);
  std::memcpy(hdr + 18, id.data(), id.size());
  out.append(hdr, sizeof hdr);
  out.append(body);
}

// The 16 lowercase hex characters of a 64-bit GUID, as nsqd writes message ids. Runs once per
// published message, so it works on 8 nibbles at a time (SWAR) instead of a 16-step loop.
inline MessageId message_id_from_guid(uint64_t guid) {
  const auto eight_hex = [](uint64_t half) {  // the low 32 bits -> 8 ASCII hex digits
    // Spread nibble k (counted from the least significant) into byte k.
    uint64_t x = ((half & 0xFFFF0000ULL) << 16) | (half & 0xFFFFULL);
    x = ((x & 0x0000FF000000FF00ULL) << 8) | (x & 0x000000FF000000FFULL);
    x = ((x & 0x00F000F000F000F0ULL) << 4) | (x & 0x000F000F000F000FULL);
    // Digits 10..15 carry into bit 4 when 6 is added: those bytes get 'a' - '0' - 10 more.
    const uint64_t letters = ((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
    x += 0x3030303030303030ULL + letters * ('a' - '0' - 10);
    return __builtin_bswap64(x);  // the most significant digit first in memory
  };
  static_assert(std::endian::native == std::endian::little);
  MessageId id;
  const uint64_t hi = eight_hex(guid >> 32);
  const uint64_t lo = eight_hex(guid & 0xFFFFFFFFULL);
  std::memcpy(id.data(), &hi, 8);
  std::memcpy(id.data() + 8, &lo, 8);
  return id;
}

inline MessageId message_id_from_bytes(std::string_view s) {
  MessageId id{};
  std::memcpy(id.data(), s.data(), std::min(s.size(), id.size()));
  return id;
}

inline std::string_view id_view(const MessageId& id) {
  return {id.data(), id.size()};
}

}  // namespace nsq::protocol
