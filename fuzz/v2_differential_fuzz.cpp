// Differential: V2Parser's verdict on the first command of a stream against a second, simple
// reading of the V2 grammar (NSQ-SPEC / nsqd's protocol_v2.go) written here from scratch:
//
//   IDENTIFY\n <int32 size><json>        AUTH\n <int32 size><secret>
//   PUB <topic>\n <int32 size><body>     DPUB <topic> <ms>\n <int32 size><body>
//   MPUB <topic>\n <int32 size><int32 n>(<int32 size><body>){n}
//   SUB <topic> <channel>\n  RDY [<n>]\n  FIN <id>\n  REQ <id> <ms>\n  TOUCH <id>\n  CLS\n  NOP\n
//
// with nsqd's default limits. Input: [state][stream...] (state bit 0: subscribed, else init).
// Both readers must agree on incomplete / closed / command / error, and on every parsed field
// and the bytes consumed (error texts are compared by the unit tests, not here).
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.hpp"
#include "nsq/protocol/v2_parser.hpp"

namespace {

using nsq::protocol::CommandType;

constexpr int64_t kMaxMsg = 1048576;
constexpr int64_t kMaxBody = 5242880;
constexpr int64_t kMaxRdy = 2500;
constexpr int64_t kMaxTimeoutMs = 3600 * 1000;
constexpr size_t kMaxLine = 16384;

enum class Kind { kIncomplete, kClosed, kCommand, kError };

struct Reading {
  Kind kind = Kind::kIncomplete;
  CommandType type = CommandType::kNop;
  std::string topic, channel, body, id;
  std::vector<std::string> bodies;
  int64_t count = 0;
  int64_t defer_ns = 0;
  size_t consumed = 0;
  bool operator==(const Reading&) const = default;
};

Reading of(Kind k) {
  Reading r;
  r.kind = k;
  return r;
}

// [.a-zA-Z0-9_-]{1,64}, or such a name ending in "#ephemeral", 64 characters at most.
bool good_name(std::string_view n) {
  constexpr std::string_view kEph = "#ephemeral";
  if (n.empty() || n.size() > 64) return false;
  std::string_view stem = n;
  if (stem.size() > kEph.size() && stem.substr(stem.size() - kEph.size()) == kEph) {
    stem = stem.substr(0, stem.size() - kEph.size());
  }
  for (unsigned char c : stem) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// nsqd's ByteToBase10: digits only (none at all reads as 0), wrapping at 2^64.
std::optional<uint64_t> base10(std::string_view s) {
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

// Reads int32s and byte runs from after the command line; nullopt = not there yet.
struct Cursor {
  std::string_view data;
  size_t pos;
  std::optional<int32_t> int32() {
    if (data.size() - pos < 4) return std::nullopt;
    const auto* u = reinterpret_cast<const unsigned char*>(data.data() + pos);
    pos += 4;
    return static_cast<int32_t>((uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) |
                                (uint32_t{u[2]} << 8) | u[3]);
  }
  std::optional<std::string> bytes(size_t n) {
    if (data.size() - pos < n) return std::nullopt;
    pos += n;
    return std::string(data.substr(pos - n, n));
  }
};

Reading read_sized(Cursor& cur, int64_t max, Reading r) {
  const auto size = cur.int32();
  if (!size) return of(Kind::kIncomplete);
  if (*size <= 0 || *size > max) return of(Kind::kError);
  auto body = cur.bytes(static_cast<size_t>(*size));
  if (!body) return of(Kind::kIncomplete);
  r.kind = Kind::kCommand;
  r.body = std::move(*body);
  r.consumed = cur.pos;
  return r;
}

Reading read_mpub(Cursor& cur, Reading r) {
  const auto body_size = cur.int32();
  if (!body_size) return of(Kind::kIncomplete);
  if (*body_size <= 0 || *body_size > kMaxBody) return of(Kind::kError);
  const auto n = cur.int32();
  if (!n) return of(Kind::kIncomplete);
  if (*n <= 0 || *n > (kMaxBody - 4) / 5) return of(Kind::kError);
  for (int32_t i = 0; i < *n; ++i) {
    const auto size = cur.int32();
    if (!size) return of(Kind::kIncomplete);
    if (*size <= 0 || *size > kMaxMsg) return of(Kind::kError);
    auto body = cur.bytes(static_cast<size_t>(*size));
    if (!body) return of(Kind::kIncomplete);
    r.bodies.push_back(std::move(*body));
  }
  r.kind = Kind::kCommand;
  r.consumed = cur.pos;
  return r;
}

Reading simple_reading(std::string_view data, bool subscribed) {
  const size_t nl = data.substr(0, kMaxLine).find('\n');
  if (nl == std::string_view::npos) {
    return of(data.size() >= kMaxLine ? Kind::kClosed : Kind::kIncomplete);
  }
  std::string_view line = data.substr(0, nl);
  if (line.ends_with('\r')) line.remove_suffix(1);
  std::vector<std::string_view> w;
  for (size_t start = 0;;) {
    const size_t sp = line.find(' ', start);
    w.push_back(line.substr(start, sp - start));
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  Cursor cur{data, nl + 1};
  Reading r;
  r.consumed = nl + 1;
  r.kind = Kind::kCommand;
  const std::string_view cmd = w[0];
  const bool init = !subscribed;

  if (cmd == "NOP") return r;  // r.type is kNop
  if (cmd == "IDENTIFY" || cmd == "AUTH") {
    if (!init || (cmd == "AUTH" && w.size() != 1)) return of(Kind::kError);
    r.type = cmd == "AUTH" ? CommandType::kAuth : CommandType::kIdentify;
    return read_sized(cur, kMaxBody, r);
  }
  if (cmd == "PUB" || cmd == "DPUB" || cmd == "MPUB") {
    const size_t want = cmd == "DPUB" ? 3 : 2;
    if (w.size() < want || !good_name(w[1])) return of(Kind::kError);
    r.topic = w[1];
    if (cmd == "MPUB") {
      r.type = CommandType::kMpub;
      return read_mpub(cur, r);
    }
    r.type = CommandType::kPub;
    if (cmd == "DPUB") {
      const auto ms = base10(w[2]);
      if (!ms) return of(Kind::kError);
      r.defer_ns = static_cast<int64_t>(*ms * 1000000ULL);
      if (r.defer_ns < 0 || r.defer_ns > kMaxTimeoutMs * 1000000) return of(Kind::kError);
      r.type = CommandType::kDpub;
    }
    return read_sized(cur, kMaxMsg, r);
  }
  if (cmd == "SUB") {
    if (!init || w.size() < 3 || !good_name(w[1]) || !good_name(w[2])) return of(Kind::kError);
    r.type = CommandType::kSub;
    r.topic = w[1];
    r.channel = w[2];
    return r;
  }
  if (!subscribed) return of(Kind::kError);  // the rest need a subscription
  if (cmd == "CLS") {
    r.type = CommandType::kCls;
    return r;
  }
  if (cmd == "RDY") {
    const auto n = w.size() > 1 ? base10(w[1]) : std::optional<uint64_t>(1);
    if (!n) return of(Kind::kError);
    r.count = static_cast<int64_t>(*n);
    if (r.count < 0 || r.count > kMaxRdy) return of(Kind::kError);
    r.type = CommandType::kRdy;
    return r;
  }
  if (cmd == "FIN" || cmd == "TOUCH" || cmd == "REQ") {
    const size_t want = cmd == "REQ" ? 3 : 2;
    if (w.size() < want || w[1].size() != 16) return of(Kind::kError);
    r.id = w[1];
    r.type = cmd == "FIN" ? CommandType::kFin : CommandType::kTouch;
    if (cmd == "REQ") {
      const auto ms = base10(w[2]);
      if (!ms) return of(Kind::kError);
      // Out-of-range delays are clamped, not refused.
      r.defer_ns =
          std::clamp<int64_t>(static_cast<int64_t>(*ms * 1000000ULL), 0, kMaxTimeoutMs * 1000000);
      r.type = CommandType::kReq;
    }
    return r;
  }
  return of(Kind::kError);
}

Reading parser_reading(std::string_view data, bool subscribed) {
  nsq::protocol::V2Parser parser;
  nsq::protocol::ConnContext ctx;
  ctx.state =
      subscribed ? nsq::protocol::ClientState::kSubscribed : nsq::protocol::ClientState::kInit;
  const auto p = parser.parse(data, ctx);
  using Status = nsq::protocol::ParseResult::Status;
  switch (p.status) {
    case Status::kNeedMore:
      return of(Kind::kIncomplete);
    case Status::kCloseSilently:
      return of(Kind::kClosed);
    case Status::kError:
      return of(Kind::kError);
    case Status::kCommand:
      break;
  }
  Reading r;
  r.kind = Kind::kCommand;
  const auto& c = p.command;
  r.type = c.type;
  r.topic = c.topic;
  r.channel = c.channel;
  r.body = c.body;
  r.bodies.assign(c.bodies.begin(), c.bodies.end());
  const bool has_id =
      c.type == CommandType::kFin || c.type == CommandType::kTouch || c.type == CommandType::kReq;
  if (has_id) r.id = nsq::protocol::id_view(c.id);
  r.count = c.type == CommandType::kRdy ? c.count : 0;
  r.defer_ns = c.defer_ns;
  r.consumed = p.consumed;
  return r;
}

}  // namespace

NSQ_FUZZ_TARGET(v2_differential) {
  if (size < 1) return 0;
  const bool subscribed = (data[0] & 1) != 0;
  const std::string_view stream = nsq::fuzz::as_view(data + 1, size - 1);
  FUZZ_CHECK(parser_reading(stream, subscribed) == simple_reading(stream, subscribed));
  return 0;
}
