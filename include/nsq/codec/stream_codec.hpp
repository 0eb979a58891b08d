// A byte-stream transform applied to a whole connection once it is negotiated (snappy
// framing or raw DEFLATE after IDENTIFY). Sans-IO: the connection feeds it what it read and
// what it is about to write, so codecs are unit-testable without sockets.
//
// A connection without compression holds no codec at all: the plain path pays one null
// pointer test per read and per write batch, never a virtual call per message.
#pragma once

#include <string>
#include <string_view>

#include "nsq/result.hpp"

namespace nsq::codec {

class StreamCodec {
 public:
  virtual ~StreamCodec() = default;

  // Appends the encoded form of one write batch to `out`. Everything passed so far must be
  // decodable by the peer once `out` is sent (deflate flushes; snappy emits whole chunks).
  virtual void encode(std::string_view plain, std::string& out) = 0;

  // Consumes `wire` (any split of the peer's stream), appending the decoded bytes to `out`;
  // an incomplete chunk is kept for the next call. Fails on corrupt input with the reason
  // ("snappy: checksum mismatch"); the stream cannot resync, so every later call fails too.
  virtual util::Status decode(std::string_view wire, std::string& out) = 0;

  // True when decode() held back output to bound memory (a decompression bomb): call
  // decode("") again before reading more from the peer.
  virtual bool has_backlog() const { return false; }
};

}  // namespace nsq::codec
