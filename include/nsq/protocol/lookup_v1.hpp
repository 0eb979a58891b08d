// nsqlookupd's TCP protocol V1 (NSQ-SPEC.md §5.3), both directions, sans-IO:
//
//   * LookupV1Parser: client -> nsqlookupd. Takes the unconsumed bytes of a connection (after
//     the "  V1" magic, always at a command boundary) and answers need-more, one command (views
//     into the caller's bytes), or the exact fatal error nsqlookupd sends. Lines are '\n'
//     terminated, trimmed like Go's strings.TrimSpace and split on single spaces, so
//     "REGISTER  t" has an empty topic, as in the reference.
//   * decode_lookup_identify(): the IDENTIFY body decoded the way Go's json.Unmarshal fills
//     nsqlookupd's PeerInfo (case-insensitive keys, null ignored, strict types).
//   * LookupResponseReader: nsqlookupd -> client replies, [int32 size][data] (no frame type),
//     for nsqd's lookup peers.
//   * Encoders for both directions.
//
// Nothing here touches a socket, a timer or the registration DB.
// Owner: one parser/reader per connection, used only on that connection's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "nsq/protocol/v2_parser.hpp"  // ProtocolError
#include "nsq/protocol/wire.hpp"

namespace nsq::protocol {

// The reference reads lines and the IDENTIFY body without any limit (a negative IDENTIFY size
// even crashes it). We bound both so one connection cannot take the daemon's memory; the
// defaults are far above anything an nsqd sends (a REGISTER line is < 150 bytes).
struct LookupV1Limits {
  size_t max_line_length = 1 << 20;  // including the '\n'
  int64_t max_identify_body = 1 << 20;
};

enum class MagicCheck { kNeedMore, kV1, kBad };
// The first 4 bytes of a connection: "  V1" or anything else (-> E_BAD_PROTOCOL, close).
MagicCheck check_lookup_magic(std::string_view data);

enum class LookupCommandType { kPing, kIdentify, kRegister, kUnregister };

struct LookupCommand {
  LookupCommandType type = LookupCommandType::kPing;
  std::string_view topic;    // REGISTER / UNREGISTER
  std::string_view channel;  // REGISTER / UNREGISTER; empty = topic only
  std::string_view body;     // IDENTIFY: the JSON body
};

struct LookupParseResult {
  enum class Status {
    kNeedMore,       // feed more bytes; on EOF send `eof_error` if set (else just close)
    kCommand,        // `command` is complete; drop `consumed` bytes after executing it
    kError,          // send `error` and close (every nsqlookupd error is fatal)
    kCloseSilently,  // over-long line: close without a reply
  };
  Status status = Status::kNeedMore;
  size_t consumed = 0;
  LookupCommand command;
  ProtocolError error;
  std::optional<ProtocolError> eof_error;
};

class LookupV1Parser {
 public:
  explicit LookupV1Parser(LookupV1Limits limits = {}) : limits_(limits) {}

  // `data` starts at a command boundary; `identified` = this connection's IDENTIFY succeeded.
  LookupParseResult parse(std::string_view data, bool identified) const;

  const LookupV1Limits& limits() const { return limits_; }

 private:
  LookupV1Limits limits_;
};

// What an nsqd says about itself in IDENTIFY (nsqlookupd's PeerInfo minus the socket fields).
struct LookupPeerIdentity {
  std::string remote_address;  // accepted from the body, then overwritten from the socket
  std::string hostname;
  std::string broadcast_address;
  int64_t tcp_port = 0;
  int64_t http_port = 0;
  std::string version;
};

// Decodes and validates an IDENTIFY body. Returns nullopt and fills `out` on success, else
// the exact error: `E_BAD_BODY IDENTIFY failed to decode JSON body` or
// `E_BAD_BODY IDENTIFY missing fields`.
std::optional<ProtocolError> decode_lookup_identify(std::string_view body, LookupPeerIdentity& out);

// Go's strings.TrimSpace: ASCII and Unicode white space (U+0085, U+00A0, U+2000.. etc.) at
// both ends; invalid UTF-8 is not space.
std::string_view go_trim_space(std::string_view s);

// [int32 size][data]: every nsqlookupd reply, errors included.
inline void append_lookup_response(std::string& out, std::string_view data) {
  append_be32(out, static_cast<uint32_t>(data.size()));
  out.append(data);
}

// Client-side commands, byte for byte what go-nsq's Command.WriteTo produces.
void append_lookup_identify(std::string& out, std::string_view json_body);
// REGISTER/UNREGISTER <topic> [<channel>]; an empty channel sends the topic form.
void append_lookup_register(std::string& out, std::string_view topic, std::string_view channel);
void append_lookup_unregister(std::string& out, std::string_view topic, std::string_view channel);
void append_lookup_ping(std::string& out);

// Reads one nsqlookupd reply as nsqd's readResponseBounded does.
struct LookupResponse {
  enum class Status { kNeedMore, kResponse, kError };
  Status status = Status::kNeedMore;
  size_t consumed = 0;
  std::string_view data;  // kResponse
  std::string error;      // kError: why the stream is unusable
};
LookupResponse read_lookup_response(std::string_view data, int64_t limit);

}  // namespace nsq::protocol
