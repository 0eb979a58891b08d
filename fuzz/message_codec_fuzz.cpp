// A disk-queue record / message frame payload: [int64 timestamp][uint16 attempts][16-byte id]
// [body]. Decoding then encoding gives the input back, and the V2 message frame built from the
// decoded fields carries exactly those bytes after its 8-byte frame header.
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "nsq/protocol/message_codec.hpp"
#include "nsq/protocol/wire.hpp"

NSQ_FUZZ_TARGET(message_codec) {
  namespace p = nsq::protocol;
  const std::string_view in = nsq::fuzz::as_view(data, size);
  const auto m = p::decode_message(in);
  FUZZ_CHECK(m.ok() == (size >= p::kMessageHeaderSize));
  if (!m) {
    FUZZ_CHECK(!m.error().empty());
    return 0;
  }
  const std::string encoded = p::encode_message(m->timestamp_ns, m->attempts, m->id, m->body);
  FUZZ_CHECK(encoded == in);

  std::string frame;
  p::append_message_frame(frame, m->timestamp_ns, m->attempts, m->id, m->body);
  FUZZ_CHECK(frame.size() == p::kFrameHeaderSize + size);
  FUZZ_CHECK(p::read_be32(frame.data()) == 4 + size);
  FUZZ_CHECK(p::read_be32s(frame.data() + 4) == static_cast<int32_t>(p::FrameType::kMessage));
  FUZZ_CHECK(std::string_view(frame).substr(p::kFrameHeaderSize) == in);

  std::string plain;
  p::append_frame(plain, p::FrameType::kResponse, in);
  FUZZ_CHECK(p::read_be32(plain.data()) == 4 + size && plain.substr(p::kFrameHeaderSize) == in);
  return 0;
}
