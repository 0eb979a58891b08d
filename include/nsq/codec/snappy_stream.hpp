// The snappy framing format (github.com/google/snappy framing_format.txt) that nsq clients
// speak after negotiating "snappy": a stream identifier chunk, then compressed (0x00) or
// uncompressed (0x01) chunks of at most 64 KiB of data, each with the masked CRC-32C of its
// uncompressed bytes. Built over libsnappy's raw block codec; see docs/transport.md for why
// the framing is ours.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "nsq/codec/stream_codec.hpp"

namespace nsq::codec {

class SnappyStreamCodec final : public StreamCodec {
 public:
  // The largest amount of uncompressed data one chunk may carry.
  static constexpr size_t kMaxBlockSize = 65536;

  void encode(std::string_view plain, std::string& out) override;
  util::Status decode(std::string_view wire, std::string& out) override;

 private:
  // Decodes whole chunks from `data`; returns the bytes consumed or sets error_.
  size_t decode_chunks(std::string_view data, std::string& out);
  bool fail(std::string message);

  bool header_sent_ = false;
  bool header_seen_ = false;
  std::string partial_;  // an incomplete chunk from the previous decode()
  std::string error_;    // sticky: the first corruption's reason
};

}  // namespace nsq::codec
