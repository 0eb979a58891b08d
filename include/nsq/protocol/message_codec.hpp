// The message serialisation nsqd writes to disk queues (reference nsqd/message.go WriteTo and
// decodeMessage):
//   [int64 BE timestamp ns][uint16 BE attempts][16-byte id][body]
// It is also exactly the data part of a V2 message frame, so a record read from disk can be
// framed for a client without re-encoding (only attempts may need refreshing in place).
// Pure functions, no allocation except where a std::string is returned.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "nsq/protocol/wire.hpp"
#include "nsq/result.hpp"

namespace nsq::protocol {

// Fills the 26-byte header. Paired with the body as a disk::RecordView{head, body} this writes a
// message to disk without joining header and body into one buffer first.
inline void encode_message_header(char* out, int64_t timestamp_ns, uint16_t attempts,
                                  const MessageId& id) {
  write_be64(out, static_cast<uint64_t>(timestamp_ns));
  write_be16(out + 8, attempts);
  std::memcpy(out + 10, id.data(), id.size());
}

inline std::string encode_message(int64_t timestamp_ns, uint16_t attempts, const MessageId& id,
                                  std::string_view body) {
  std::string out(kMessageHeaderSize + body.size(), '\0');
  encode_message_header(out.data(), timestamp_ns, attempts, id);
  if (!body.empty()) std::memcpy(out.data() + kMessageHeaderSize, body.data(), body.size());
  return out;
}

// Views into the decoded buffer: `body` lives as long as the input does.
struct DecodedMessage {
  int64_t timestamp_ns = 0;
  uint16_t attempts = 0;
  MessageId id{};
  std::string_view body;
};

// Fails, like the reference, only on a buffer shorter than the header:
// "invalid message buffer size (<n>)".
inline util::Result<DecodedMessage> decode_message(std::string_view data) {
  if (data.size() < kMessageHeaderSize) {
    return util::fail("invalid message buffer size (" + std::to_string(data.size()) + ")");
  }
  DecodedMessage m;
  m.timestamp_ns = static_cast<int64_t>(read_be64(data.data()));
  m.attempts = read_be16(data.data() + 8);
  std::memcpy(m.id.data(), data.data() + 10, kMessageIdSize);
  m.body = data.substr(kMessageHeaderSize);
  return m;
}

}  // namespace nsq::protocol
