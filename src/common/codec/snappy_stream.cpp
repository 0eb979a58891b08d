#include "nsq/codec/snappy_stream.hpp"

#include <snappy.h>

#include <cstring>

#include "nsq/codec/crc32c.hpp"

namespace nsq::codec {

namespace {

constexpr unsigned char kChunkCompressed = 0x00;
constexpr unsigned char kChunkUncompressed = 0x01;
constexpr unsigned char kChunkPadding = 0xfe;
constexpr unsigned char kChunkStreamIdentifier = 0xff;
constexpr std::string_view kStreamIdentifier{"\xff\x06\x00\x00sNaPpY", 10};
constexpr size_t kChunkHeaderSize = 4;
constexpr size_t kChecksumSize = 4;

void put_u24(char* p, size_t v) {
  p[0] = static_cast<char>(v & 0xff);
  p[1] = static_cast<char>((v >> 8) & 0xff);
  p[2] = static_cast<char>((v >> 16) & 0xff);
}

void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t(u[0]) | uint32_t(u[1]) << 8 | uint32_t(u[2]) << 16 | uint32_t(u[3]) << 24;
}

}  // namespace

void SnappyStreamCodec::encode(std::string_view plain, std::string& out) {
  if (!header_sent_) {
    out.append(kStreamIdentifier);
    header_sent_ = true;
  }
  while (!plain.empty()) {
    const std::string_view block = plain.substr(0, kMaxBlockSize);
    plain.remove_prefix(block.size());
    const size_t start = out.size();
    const size_t body = start + kChunkHeaderSize + kChecksumSize;
    out.resize(body + snappy::MaxCompressedLength(block.size()));
    size_t compressed = 0;
    snappy::RawCompress(block.data(), block.size(), out.data() + body, &compressed);
    unsigned char type = kChunkCompressed;
    // As the Go and Python writers do: data that barely compresses is sent as is.
    if (compressed >= block.size() - block.size() / 8) {
      type = kChunkUncompressed;
      std::memcpy(out.data() + body, block.data(), block.size());
      compressed = block.size();
    }
    out.resize(body + compressed);
    out[start] = static_cast<char>(type);
    put_u24(out.data() + start + 1, kChecksumSize + compressed);
    put_u32(out.data() + start + kChunkHeaderSize, snappy_mask_crc(crc32c(block)));
  }
}

bool SnappyStreamCodec::fail(std::string message) {
  error_ = std::move(message);
  return false;
}

util::Status SnappyStreamCodec::decode(std::string_view wire, std::string& out) {
  if (!error_.empty()) return util::fail(error_);
  if (partial_.empty()) {
    const size_t used = decode_chunks(wire, out);
    if (!error_.empty()) return util::fail(error_);
    partial_.assign(wire.substr(used));
    return {};
  }
  partial_.append(wire);
  const size_t used = decode_chunks(partial_, out);
  if (!error_.empty()) return util::fail(error_);
  partial_.erase(0, used);
  return {};
}

size_t SnappyStreamCodec::decode_chunks(std::string_view data, std::string& out) {
  // A compressed chunk can never be longer than this; anything longer is corrupt, which
  // also bounds what a peer can make us buffer.
  static const size_t kMaxDataChunk = kChecksumSize + snappy::MaxCompressedLength(kMaxBlockSize);
  size_t pos = 0;
  while (data.size() - pos >= kChunkHeaderSize) {
    const auto* h = reinterpret_cast<const unsigned char*>(data.data() + pos);
    const unsigned char type = h[0];
    const size_t len = size_t(h[1]) | size_t(h[2]) << 8 | size_t(h[3]) << 16;
    if (type == kChunkStreamIdentifier) {
      if (len != kStreamIdentifier.size() - kChunkHeaderSize) {
        fail("snappy: bad stream identifier length");
        return pos;
      }
    } else if (!header_seen_) {
      fail("snappy: stream does not start with the stream identifier");
      return pos;
    } else if (type == kChunkCompressed || type == kChunkUncompressed) {
      if (len < kChecksumSize || len > kMaxDataChunk) {
        fail("snappy: bad chunk length");
        return pos;
      }
    } else if (type < 0x80) {
      fail("snappy: unsupported unskippable chunk type " + std::to_string(type));
      return pos;
    }
    if (data.size() - pos - kChunkHeaderSize < len) break;  // incomplete chunk
    const std::string_view chunk = data.substr(pos + kChunkHeaderSize, len);
    if (type == kChunkStreamIdentifier) {
      if (chunk != kStreamIdentifier.substr(kChunkHeaderSize)) {
        fail("snappy: bad stream identifier");
        return pos;
      }
      header_seen_ = true;
    } else if (type == kChunkCompressed || type == kChunkUncompressed) {
      const uint32_t want = get_u32(chunk.data());
      const std::string_view payload = chunk.substr(kChecksumSize);
      const size_t start = out.size();
      if (type == kChunkUncompressed) {
        if (payload.size() > kMaxBlockSize) {
          fail("snappy: uncompressed chunk too large");
          return pos;
        }
        out.append(payload);
      } else {
        size_t n = 0;
        if (!snappy::GetUncompressedLength(payload.data(), payload.size(), &n) ||
            n > kMaxBlockSize) {
          fail("snappy: corrupt compressed chunk");
          return pos;
        }
        out.resize(start + n);
        if (!snappy::RawUncompress(payload.data(), payload.size(), out.data() + start)) {
          out.resize(start);
          fail("snappy: corrupt compressed chunk");
          return pos;
        }
      }
      const std::string_view decoded(out.data() + start, out.size() - start);
      if (snappy_mask_crc(crc32c(decoded)) != want) {
        out.resize(start);
        fail("snappy: checksum mismatch");
        return pos;
      }
    }
    // Padding (0xfe) and reserved skippable chunks (0x80-0xfd) are ignored.
    (void)kChunkPadding;
    pos += kChunkHeaderSize + len;
  }
  return pos;
}

}  // namespace nsq::codec
