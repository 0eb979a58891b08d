// V2Parser: the sans-IO parser of nsqd's TCP protocol V2 (client -> server direction).
//
// It takes the unconsumed bytes of a connection (always starting at a command boundary) and the
// connection's protocol state, and answers: need more bytes, one complete command (with views
// into the caller's bytes), a protocol error (the exact NSQ error text, and whether it is fatal),
// or "close without a frame" (an over-long line, as nsqd's bufio reader does).
//
// The checks run in the reference's order, including the state checks that nsqd makes before
// reading a command's body, so a client that sends a bad header gets its error without having
// to send the body. It never touches a socket, a timer or a topic.
//
// Owner: one per client connection, used only on that connection's event-loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nsq/protocol/wire.hpp"

namespace nsq::protocol {

// Numeric values match nsqd's /stats `state` field.
enum class ClientState : int32_t {
  kInit = 0,
  kDisconnected = 1,
  kConnected = 2,
  kSubscribed = 3,
  kClosing = 4,
};

struct ParserLimits {
  int64_t max_msg_size = 1048576;
  int64_t max_body_size = 5242880;
  int64_t max_rdy_count = 2500;
  int64_t max_req_timeout_ns = 3600LL * 1000 * 1000 * 1000;
  // nsqd reads lines through a 16 KiB bufio.Reader: a line (with its '\n') must fit.
  size_t max_line_length = 16384;
};

// What the parser needs to know about the connection to check commands as nsqd does.
struct ConnContext {
  ClientState state = ClientState::kInit;
  bool heartbeats_enabled = true;
  // TLS is required by policy and this connection has not upgraded yet.
  bool tls_required = false;
};

struct ProtocolError {
  std::string code;     // "E_INVALID", "E_BAD_TOPIC", ...
  std::string message;  // the description after the code
  bool fatal = true;
  // The error frame's data: "<CODE> <description>".
  std::string text() const { return code + " " + message; }
};

enum class CommandType {
  kIdentify,
  kAuth,
  kSub,
  kPub,
  kMpub,
  kDpub,
  kRdy,
  kFin,
  kReq,
  kTouch,
  kCls,
  kNop,
};

// The command's name on the wire ("PUB", "FIN", ...), as errors and logs spell it.
const char* command_name(CommandType type);

struct Command {
  CommandType type = CommandType::kNop;
  std::string_view topic;                    // SUB, PUB, MPUB, DPUB
  std::string_view channel;                  // SUB
  std::string_view body;                     // IDENTIFY, AUTH, PUB, DPUB
  std::span<const std::string_view> bodies;  // MPUB: every message body, in order
  MessageId id{};                            // FIN, REQ, TOUCH
  int64_t count = 0;                         // RDY
  bool ignored = false;                      // RDY while closing: nsqd ignores it silently
  int64_t defer_ns = 0;                      // DPUB deferral; REQ delay after clamping
  bool req_clamped = false;                  // REQ delay was outside 0..max and got clamped
  int64_t req_requested_ns = 0;              // REQ delay as sent (for the log line)
};

struct ParseResult {
  enum class Status {
    kNeedMore,       // feed more bytes; `eof_error` is what to send if the peer stops here
    kCommand,        // `command` is complete and `consumed` bytes can be dropped after use
    kError,          // send `error` (and close if fatal); `consumed` bytes were this command
    kCloseSilently,  // close the connection without sending anything
  };
  Status status = Status::kNeedMore;
  size_t consumed = 0;
  Command command;
  ProtocolError error;
  // kNeedMore: the error nsqd sends when the connection ends (EOF or read deadline) at this
  // point; none while the command line itself is incomplete.
  std::optional<ProtocolError> eof_error;
  // kNeedMore: the least total size (from the command start) worth waiting for, when known.
  size_t need_total = 0;
  // kError for MPUB after its topic name was accepted: nsqd has already created the topic
  // [compat quirk], so the caller creates it too.
  std::string_view mpub_created_topic;
};

class V2Parser {
 public:
  explicit V2Parser(ParserLimits limits = {}) : limits_(limits) {}

  // `data` starts at a command boundary. Between a kNeedMore result and the next call the
  // caller may append bytes but must not drop any: MPUB scanning resumes where it stopped.
  ParseResult parse(std::string_view data, const ConnContext& ctx);

  const ParserLimits& limits() const { return limits_; }
  void set_limits(const ParserLimits& limits) { limits_ = limits; }

 private:
  ParseResult parse_identify_or_auth(std::string_view data, size_t line_end, bool is_auth);
  ParseResult parse_pub(std::string_view data, size_t line_end, std::string_view name,
                        std::string_view topic, int64_t defer_ns);
  ParseResult parse_mpub(std::string_view data, size_t line_end, std::string_view topic);

  void reset_mpub_scan();

  ParserLimits limits_;
  std::vector<std::string_view> params_;
  // MPUB incremental scan state (offsets relative to the command start).
  std::vector<std::pair<size_t, size_t>> mpub_spans_;  // (offset, size) per body scanned
  std::vector<std::string_view> mpub_bodies_;          // the finished command's bodies
  int64_t mpub_count_ = -1;
  size_t mpub_offset_ = 0;
};

// ByteToBase10 of the reference: unsigned decimal, wraps modulo 2^64, any non-digit fails,
// and an empty string parses as 0 [compat quirk].
bool parse_base10(std::string_view text, uint64_t& out);

}  // namespace nsq::protocol
