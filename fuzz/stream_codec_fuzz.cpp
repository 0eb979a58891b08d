// The snappy framing and raw DEFLATE stream codecs a connection switches to after IDENTIFY.
// Input: [mode][split hi][split lo][bytes...]. Mode bit 0: snappy or deflate (bits 1-4: the
// level). The bytes are decoded as a peer's stream, whole and in two pushes (same output, same
// verdict), then compressed in two write batches and decompressed: the round trip is exact.
#include <memory>
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "fuzz/stream_feeder.hpp"
#include "nsq/codec/deflate_stream.hpp"
#include "nsq/codec/snappy_stream.hpp"

namespace {

using nsq::codec::StreamCodec;

std::unique_ptr<StreamCodec> make_codec(uint8_t mode) {
  if ((mode & 1) == 0) return std::make_unique<nsq::codec::SnappyStreamCodec>();
  return std::make_unique<nsq::codec::DeflateStreamCodec>(1 + ((mode >> 1) & 0x0f) % 9);
}

// Decodes one push, draining what the codec held back to bound memory.
// A failure always says why.
nsq::util::Status decode_push(StreamCodec& codec, std::string_view wire, std::string& out) {
  if (auto decoded = codec.decode(wire, out); !decoded) {
    FUZZ_CHECK(!decoded.error().empty());
    return decoded;
  }
  while (codec.has_backlog()) {
    const size_t before = out.size();
    if (auto decoded = codec.decode("", out); !decoded) {
      FUZZ_CHECK(!decoded.error().empty());
      return decoded;
    }
    FUZZ_CHECK(out.size() > before || !codec.has_backlog());
  }
  return {};
}

struct Decoded {
  bool ok = true;
  std::string out;
  bool operator==(const Decoded&) const = default;
};

Decoded decode_in_two(uint8_t mode, std::string_view wire, size_t split) {
  auto codec = make_codec(mode);
  Decoded d;
  d.ok = decode_push(*codec, wire.substr(0, split), d.out).ok() &&
         decode_push(*codec, wire.substr(split), d.out).ok();
  return d;
}

}  // namespace

NSQ_FUZZ_TARGET(stream_codec) {
  if (size < 3) return 0;
  const uint8_t mode = data[0];
  const std::string_view bytes = nsq::fuzz::as_view(data + 3, size - 3);
  const size_t split = nsq::fuzz::split_from(data[1], data[2], bytes.size());

  const Decoded whole = decode_in_two(mode, bytes, bytes.size());
  const Decoded parts = decode_in_two(mode, bytes, split);
  FUZZ_CHECK(whole.ok == parts.ok);
  if (whole.ok) FUZZ_CHECK(whole.out == parts.out);

  auto sender = make_codec(mode);
  std::string wire;
  sender->encode(bytes.substr(0, split), wire);
  sender->encode(bytes.substr(split), wire);
  auto receiver = make_codec(mode);
  std::string back;
  FUZZ_CHECK(decode_push(*receiver, wire, back).ok());
  FUZZ_CHECK(back == bytes);
  return 0;
}
