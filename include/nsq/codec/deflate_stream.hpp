// Raw DEFLATE (RFC 1951, no zlib header: windowBits -15) in both directions, as nsq clients
// speak after negotiating "deflate". Each encode() ends with a sync flush (the empty stored
// block 00 00 ff ff), as Go's compress/flate Writer.Flush does after every write batch, so
// the peer can decode everything sent so far.
//
// zlib's z_stream lives in the .cpp (ZlibStreams): include/nsq needs no third-party header.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "nsq/codec/stream_codec.hpp"

namespace nsq::codec {

class DeflateStreamCodec final : public StreamCodec {
 public:
  // level: 1 (fastest) .. 9 (smallest), as negotiated in IDENTIFY.
  explicit DeflateStreamCodec(int level);
  ~DeflateStreamCodec() override;
  DeflateStreamCodec(const DeflateStreamCodec&) = delete;
  DeflateStreamCodec& operator=(const DeflateStreamCodec&) = delete;

  void encode(std::string_view plain, std::string& out) override;
  util::Status decode(std::string_view wire, std::string& out) override;
  bool has_backlog() const override { return output_limited_ || !backlog_.empty(); }

  // The most decoded bytes one decode() call appends (plus one inflate step).
  static constexpr size_t kMaxDecodePerCall = size_t{4} * 1024 * 1024;

 private:
  struct ZlibStreams;
  std::unique_ptr<ZlibStreams> z_;  // never null; both streams, each with its init result
  bool output_limited_ = false;     // the last decode() stopped at kMaxDecodePerCall
  std::string backlog_;             // input not yet inflated because of that limit
  std::string error_;               // sticky: the first failure's reason
};

}  // namespace nsq::codec
