// V2Parser against the reference's protocol_v2.go (nsqd/protocol_v2.go), following the
// sans-IO testing rules of docs/architecture.md:
//  * every valid vector is fed whole, split at every byte offset (first part, then the rest)
//    and in chunks of 1, 2, 5, 10, 100 and 1000 bytes, and must always give the same commands;
//  * while a vector is incomplete, the parser's eof_error is exactly what nsqd sends when the
//    peer stops there ("PUB failed to read message body size", ...), or nothing inside a line;
//  * every malformed input maps to its exact NSQ error text (all parser errors are fatal).
#include "nsq/protocol/v2_parser.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "nsq/protocol/wire.hpp"

namespace nsq::protocol {
namespace {

using Status = ParseResult::Status;

constexpr std::string_view kId1 = "0123456789abcdef";
constexpr std::string_view kId2 = "fedcba9876543210";
constexpr std::string_view kId3 = "00000000000000ff";
constexpr int64_t kMs = 1000000;

std::string be32(int32_t v) {
  std::string out;
  append_be32(out, static_cast<uint32_t>(v));
  return out;
}

std::string escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

// An owning copy of a parsed Command (the parser's views die with the caller's buffer).
struct Cmd {
  CommandType type = CommandType::kNop;
  std::string topic;
  std::string channel;
  std::string body;
  std::vector<std::string> bodies;
  std::string id;
  int64_t count = 0;
  bool ignored = false;
  int64_t defer_ns = 0;
  bool req_clamped = false;
  int64_t req_requested_ns = 0;
  bool operator==(const Cmd&) const = default;
};

void PrintTo(const Cmd& c, std::ostream* os) {
  *os << "{" << command_name(c.type);
  if (!c.topic.empty()) *os << " topic=" << escape(c.topic);
  if (!c.channel.empty()) *os << " channel=" << escape(c.channel);
  if (!c.body.empty()) *os << " body=" << escape(c.body);
  for (const auto& b : c.bodies) *os << " body[]=" << escape(b);
  if (!c.id.empty()) *os << " id=" << escape(c.id);
  *os << " count=" << c.count << " ignored=" << c.ignored << " defer_ns=" << c.defer_ns
      << " req_clamped=" << c.req_clamped << " req_requested_ns=" << c.req_requested_ns << "}";
}

Cmd to_cmd(const Command& c) {
  Cmd out;
  out.type = c.type;
  out.topic = std::string(c.topic);
  out.channel = std::string(c.channel);
  out.body = std::string(c.body);
  for (auto b : c.bodies) out.bodies.emplace_back(b);
  if (c.type == CommandType::kFin || c.type == CommandType::kReq || c.type == CommandType::kTouch) {
    out.id = std::string(id_view(c.id));
  }
  out.count = c.count;
  out.ignored = c.ignored;
  out.defer_ns = c.defer_ns;
  out.req_clamped = c.req_clamped;
  out.req_requested_ns = c.req_requested_ns;
  return out;
}

// --- expected commands ---
Cmd nop() {
  return Cmd{};
}
Cmd identify(std::string body) {
  Cmd c;
  c.type = CommandType::kIdentify;
  c.body = std::move(body);
  return c;
}
Cmd auth(std::string body) {
  Cmd c;
  c.type = CommandType::kAuth;
  c.body = std::move(body);
  return c;
}
Cmd sub(std::string topic, std::string channel) {
  Cmd c;
  c.type = CommandType::kSub;
  c.topic = std::move(topic);
  c.channel = std::move(channel);
  return c;
}
Cmd pub(std::string topic, std::string body) {
  Cmd c;
  c.type = CommandType::kPub;
  c.topic = std::move(topic);
  c.body = std::move(body);
  return c;
}
Cmd dpub(std::string topic, std::string body, int64_t defer_ns) {
  Cmd c;
  c.type = CommandType::kDpub;
  c.topic = std::move(topic);
  c.body = std::move(body);
  c.defer_ns = defer_ns;
  return c;
}
Cmd mpub(std::string topic, std::vector<std::string> bodies) {
  Cmd c;
  c.type = CommandType::kMpub;
  c.topic = std::move(topic);
  c.bodies = std::move(bodies);
  return c;
}
Cmd rdy(int64_t count) {
  Cmd c;
  c.type = CommandType::kRdy;
  c.count = count;
  return c;
}
Cmd rdy_ignored() {
  Cmd c;
  c.type = CommandType::kRdy;
  c.ignored = true;
  return c;
}
Cmd fin(std::string_view id) {
  Cmd c;
  c.type = CommandType::kFin;
  c.id = std::string(id);
  return c;
}
Cmd touch(std::string_view id) {
  Cmd c;
  c.type = CommandType::kTouch;
  c.id = std::string(id);
  return c;
}
Cmd req(std::string_view id, int64_t defer_ns, std::optional<int64_t> requested_ns = {}) {
  Cmd c;
  c.type = CommandType::kReq;
  c.id = std::string(id);
  c.defer_ns = defer_ns;
  c.req_requested_ns = requested_ns.value_or(defer_ns);
  c.req_clamped = c.req_requested_ns != defer_ns;
  return c;
}
Cmd cls() {
  Cmd c;
  c.type = CommandType::kCls;
  return c;
}

// --- input vectors, built from segments that know what nsqd says on EOF inside them ---
struct Segment {
  std::string bytes;
  std::optional<std::string> eof;  // error text if the input stops before this segment ends
  bool starts_command = false;
};

struct Vector {
  std::string name;
  std::vector<Segment> segments;
  std::vector<Cmd> commands;               // expected, in order
  std::optional<std::string> error;        // expected final error (all parser errors are fatal)
  ClientState state = ClientState::kInit;  // at the start; SUB/CLS move it as ClientV2 does
  bool heartbeats = true;
  bool tls_required = false;
  ParserLimits limits{};

  std::string bytes() const {
    std::string out;
    for (const auto& s : segments) out += s.bytes;
    return out;
  }

  // What nsqd sends if the peer stops after `k` bytes (k < size).
  std::optional<std::string> eof_at(size_t k) const {
    size_t pos = 0;
    for (const auto& s : segments) {
      if (k < pos + s.bytes.size()) return s.eof;
      pos += s.bytes.size();
    }
    return std::nullopt;
  }

  // How many commands are complete within the first `k` bytes.
  size_t commands_within(size_t k) const {
    size_t pos = 0;
    size_t started = 0;
    size_t complete = 0;
    for (const auto& s : segments) {
      if (s.starts_command) {
        if (started > 0 && pos <= k) complete = started;
        ++started;
      }
      pos += s.bytes.size();
    }
    if (pos <= k) complete = started;
    // An erroring last "command" never completes.
    return std::min(complete, commands.size());
  }
};

class VectorBuilder {
 public:
  explicit VectorBuilder(std::string name) { v_.name = std::move(name); }

  // A command line; "\n" is appended unless the text already ends with it.
  VectorBuilder& line(std::string text) {
    if (text.empty() || text.back() != '\n') text += "\n";
    v_.segments.push_back(Segment{std::move(text), std::nullopt, true});
    return *this;
  }
  VectorBuilder& raw(std::string bytes, std::optional<std::string> eof) {
    v_.segments.push_back(Segment{std::move(bytes), std::move(eof), false});
    return *this;
  }
  VectorBuilder& size(int32_t n, std::string eof) { return raw(be32(n), std::move(eof)); }

  // Whole commands with their bodies and EOF texts.
  VectorBuilder& identify_cmd(const std::string& json, std::string first_line = "IDENTIFY") {
    line(std::move(first_line));
    size(static_cast<int32_t>(json.size()), "E_BAD_BODY IDENTIFY failed to read body size");
    return raw(json, "E_BAD_BODY IDENTIFY failed to read body");
  }
  VectorBuilder& auth_cmd(const std::string& secret) {
    line("AUTH");
    size(static_cast<int32_t>(secret.size()), "E_BAD_BODY AUTH failed to read body size");
    return raw(secret, "E_BAD_BODY AUTH failed to read body");
  }
  VectorBuilder& pub_cmd(std::string first_line, const std::string& body,
                         std::string_view name = "PUB") {
    line(std::move(first_line));
    size(static_cast<int32_t>(body.size()),
         "E_BAD_MESSAGE " + std::string(name) + " failed to read message body size");
    return raw(body, "E_BAD_MESSAGE " + std::string(name) + " failed to read message body");
  }
  VectorBuilder& dpub_cmd(std::string first_line, const std::string& body) {
    return pub_cmd(std::move(first_line), body, "DPUB");
  }
  VectorBuilder& mpub_cmd(std::string first_line, const std::vector<std::string>& bodies,
                          std::optional<int32_t> body_size = {}) {
    int32_t total = 4;
    for (const auto& b : bodies) total += 4 + static_cast<int32_t>(b.size());
    line(std::move(first_line));
    size(body_size.value_or(total), "E_BAD_BODY MPUB failed to read body size");
    size(static_cast<int32_t>(bodies.size()), "E_BAD_BODY MPUB failed to read message count");
    for (size_t i = 0; i < bodies.size(); ++i) {
      mpub_message(i, bodies[i]);
    }
    return *this;
  }
  VectorBuilder& mpub_message(size_t i, const std::string& body) {
    size(static_cast<int32_t>(body.size()),
         "E_BAD_MESSAGE MPUB failed to read message(" + std::to_string(i) + ") body size");
    return raw(body, "E_BAD_MESSAGE MPUB failed to read message body");
  }

  VectorBuilder& expect(Cmd c) {
    v_.commands.push_back(std::move(c));
    return *this;
  }
  VectorBuilder& error(std::string text) {
    v_.error = std::move(text);
    return *this;
  }
  VectorBuilder& state(ClientState s) {
    v_.state = s;
    return *this;
  }
  VectorBuilder& no_heartbeats() {
    v_.heartbeats = false;
    return *this;
  }
  VectorBuilder& tls_required() {
    v_.tls_required = true;
    return *this;
  }
  VectorBuilder& limits(ParserLimits l) {
    v_.limits = l;
    return *this;
  }
  Vector build() const { return v_; }

 private:
  Vector v_;
};

// --- the feeding harness: what ClientV2 does with its read buffer ---
struct RunResult {
  std::vector<Cmd> commands;
  std::optional<std::string> error;
  bool error_fatal = false;
  bool closed_silently = false;
  std::optional<std::string> eof;  // eof_error of the last kNeedMore
  size_t buffered = 0;             // bytes left unconsumed
};

class Feeder {
 public:
  explicit Feeder(const Vector& v) : parser_(v.limits) {
    ctx_.state = v.state;
    ctx_.heartbeats_enabled = v.heartbeats;
    ctx_.tls_required = v.tls_required;
  }

  void push(std::string_view chunk) {
    if (done_) return;
    buf_.append(chunk);
    while (!done_) {
      ParseResult r = parser_.parse(buf_, ctx_);
      switch (r.status) {
        case Status::kNeedMore:
          result_.eof.reset();
          if (r.eof_error) {
            EXPECT_TRUE(r.eof_error->fatal);
            result_.eof = r.eof_error->text();
          }
          result_.buffered = buf_.size();
          return;
        case Status::kCommand:
          ASSERT_GT(r.consumed, 0u);
          ASSERT_LE(r.consumed, buf_.size());
          result_.commands.push_back(to_cmd(r.command));
          if (r.command.type == CommandType::kSub) ctx_.state = ClientState::kSubscribed;
          if (r.command.type == CommandType::kCls) ctx_.state = ClientState::kClosing;
          buf_.erase(0, r.consumed);
          break;
        case Status::kError:
          result_.error = r.error.text();
          result_.error_fatal = r.error.fatal;
          ASSERT_LE(r.consumed, buf_.size());
          if (r.error.fatal) {
            done_ = true;
          } else {
            buf_.erase(0, r.consumed);
          }
          break;
        case Status::kCloseSilently:
          result_.closed_silently = true;
          done_ = true;
          break;
      }
    }
  }

  const RunResult& result() const { return result_; }

 private:
  V2Parser parser_;
  ConnContext ctx_;
  std::string buf_;
  RunResult result_;
  bool done_ = false;
};

void expect_final(const Vector& v, const RunResult& r, const std::string& how) {
  SCOPED_TRACE(v.name + " fed " + how);
  EXPECT_EQ(r.commands, v.commands);
  EXPECT_EQ(r.error, v.error);
  if (v.error) {
    EXPECT_TRUE(r.error_fatal);
  }
  EXPECT_FALSE(r.closed_silently);
  if (!v.error) {
    EXPECT_EQ(r.eof, std::nullopt);
    EXPECT_EQ(r.buffered, 0u);
  }
}

void run_all_feedings(const Vector& v) {
  const std::string data = v.bytes();
  {
    Feeder f(v);
    f.push(data);
    expect_final(v, f.result(), "whole");
  }
  for (size_t k = 0; k < data.size(); ++k) {
    Feeder f(v);
    f.push(std::string_view(data).substr(0, k));
    {
      SCOPED_TRACE(v.name + " stopped after " + std::to_string(k) + " bytes");
      const RunResult& partial = f.result();
      ASSERT_EQ(partial.error, std::nullopt);
      ASSERT_FALSE(partial.closed_silently);
      EXPECT_EQ(partial.eof, v.eof_at(k));
      const size_t n = v.commands_within(k);
      ASSERT_EQ(partial.commands.size(), n);
      EXPECT_EQ(partial.commands,
                std::vector<Cmd>(v.commands.begin(), v.commands.begin() + static_cast<long>(n)));
    }
    f.push(std::string_view(data).substr(k));
    expect_final(v, f.result(), "split at " + std::to_string(k));
    if (::testing::Test::HasFailure()) return;  // one broken offset is enough to report
  }
  for (size_t chunk : {1, 2, 5, 10, 100, 1000}) {
    Feeder f(v);
    for (size_t pos = 0; pos < data.size(); pos += chunk) {
      f.push(std::string_view(data).substr(pos, chunk));
    }
    expect_final(v, f.result(), "in chunks of " + std::to_string(chunk));
  }
}

std::string binary_body() {
  std::string b = "line1\nline2\r\nNOP\n";
  b.push_back('\0');
  b += "\xff\xfe PUB t\n";
  b += be32(3);
  return b;
}

std::vector<Vector> valid_vectors() {
  const std::string ident = R"({"client_id":"c1","hostname":"h","feature_negotiation":true})";
  const std::string big_body(20000, 'b');
  std::vector<Vector> v;
  v.push_back(VectorBuilder("nop").line("NOP").expect(nop()).build());
  v.push_back(VectorBuilder("nop crlf").line("NOP\r\n").expect(nop()).build());
  v.push_back(VectorBuilder("nop extra params").line("NOP a  b").expect(nop()).build());
  v.push_back(VectorBuilder("identify").identify_cmd(ident).expect(identify(ident)).build());
  v.push_back(VectorBuilder("identify crlf, params ignored")
                  .identify_cmd("{}", "IDENTIFY x y\r\n")
                  .expect(identify("{}"))
                  .build());
  v.push_back(VectorBuilder("identify with tls required")
                  .identify_cmd(ident)
                  .tls_required()
                  .expect(identify(ident))
                  .build());
  {
    ParserLimits l;
    l.max_body_size = 10;
    v.push_back(VectorBuilder("identify body at max-body-size")
                    .identify_cmd("0123456789")
                    .limits(l)
                    .expect(identify("0123456789"))
                    .build());
  }
  v.push_back(VectorBuilder("auth").auth_cmd("s3cret").expect(auth("s3cret")).build());
  v.push_back(VectorBuilder("sub")
                  .line("SUB test-topic test.chan_1")
                  .expect(sub("test-topic", "test.chan_1"))
                  .build());
  v.push_back(VectorBuilder("sub ephemeral crlf")
                  .line("SUB t#ephemeral c#ephemeral\r\n")
                  .expect(sub("t#ephemeral", "c#ephemeral"))
                  .build());
  v.push_back(
      VectorBuilder("sub extra params").line("SUB t c extra").expect(sub("t", "c")).build());
  v.push_back(VectorBuilder("sub 64-byte names")
                  .line("SUB " + std::string(64, 't') + " " + std::string(54, 'c') + "#ephemeral")
                  .expect(sub(std::string(64, 't'), std::string(54, 'c') + "#ephemeral"))
                  .build());
  v.push_back(
      VectorBuilder("pub").pub_cmd("PUB topic", "hello").expect(pub("topic", "hello")).build());
  v.push_back(VectorBuilder("pub 1-byte body").pub_cmd("PUB t", "x").expect(pub("t", "x")).build());
  v.push_back(VectorBuilder("pub binary body")
                  .pub_cmd("PUB t", binary_body())
                  .expect(pub("t", binary_body()))
                  .build());
  v.push_back(VectorBuilder("pub crlf, extra params")
                  .pub_cmd("PUB t x y\r\n", "abc")
                  .expect(pub("t", "abc"))
                  .build());
  v.push_back(VectorBuilder("pub in subscribed state")
                  .pub_cmd("PUB t", "abc")
                  .state(ClientState::kSubscribed)
                  .expect(pub("t", "abc"))
                  .build());
  v.push_back(VectorBuilder("pub body larger than a line")
                  .pub_cmd("PUB t", big_body)
                  .expect(pub("t", big_body))
                  .build());
  {
    ParserLimits l;
    l.max_msg_size = 5;
    v.push_back(VectorBuilder("pub body at max-msg-size")
                    .pub_cmd("PUB t", "12345")
                    .limits(l)
                    .expect(pub("t", "12345"))
                    .build());
  }
  v.push_back(VectorBuilder("dpub")
                  .dpub_cmd("DPUB t 1000", "later")
                  .expect(dpub("t", "later", 1000 * kMs))
                  .build());
  v.push_back(
      VectorBuilder("dpub 0").dpub_cmd("DPUB t 0", "now").expect(dpub("t", "now", 0)).build());
  v.push_back(VectorBuilder("dpub max")
                  .dpub_cmd("DPUB t 3600000", "m")
                  .expect(dpub("t", "m", 3600000 * kMs))
                  .build());
  v.push_back(VectorBuilder("dpub empty timeout parses as 0")
                  .dpub_cmd("DPUB t ", "e")
                  .expect(dpub("t", "e", 0))
                  .build());
  // 2^58 ms * 10^6 = 15625 * 2^64 ns: wraps to exactly 0 like Go's time.Duration [quirk].
  v.push_back(VectorBuilder("dpub wrap-around to 0")
                  .dpub_cmd("DPUB t 288230376151711744", "w")
                  .expect(dpub("t", "w", 0))
                  .build());
  {
    ParserLimits l;
    l.max_req_timeout_ns = 1000 * kMs;
    v.push_back(VectorBuilder("dpub at custom max")
                    .dpub_cmd("DPUB t 1000", "x")
                    .limits(l)
                    .expect(dpub("t", "x", 1000 * kMs))
                    .build());
  }
  v.push_back(VectorBuilder("mpub")
                  .mpub_cmd("MPUB topic", {"one", "two", "three"})
                  .expect(mpub("topic", {"one", "two", "three"}))
                  .build());
  v.push_back(
      VectorBuilder("mpub single").mpub_cmd("MPUB t", {"x"}).expect(mpub("t", {"x"})).build());
  v.push_back(VectorBuilder("mpub binary bodies")
                  .mpub_cmd("MPUB t\r\n", {binary_body(), "\n", "\r\n"})
                  .expect(mpub("t", {binary_body(), "\n", "\r\n"}))
                  .build());
  // The body size is only range-checked, never compared with the messages [quirk].
  v.push_back(VectorBuilder("mpub body size not cross-checked (small)")
                  .mpub_cmd("MPUB t", {"abc", "def"}, 1)
                  .expect(mpub("t", {"abc", "def"}))
                  .build());
  v.push_back(VectorBuilder("mpub body size not cross-checked (max)")
                  .mpub_cmd("MPUB t", {"abc"}, 5242880)
                  .expect(mpub("t", {"abc"}))
                  .build());
  {
    ParserLimits l;
    l.max_body_size = 1000;
    std::vector<std::string> bodies(199, "m");  // (1000 - 4) / 5 = 199 messages allowed
    v.push_back(VectorBuilder("mpub max message count")
                    .mpub_cmd("MPUB t", bodies)
                    .limits(l)
                    .expect(mpub("t", bodies))
                    .build());
  }
  {
    std::vector<std::string> bodies;
    for (int i = 0; i < 50; ++i) bodies.push_back("message-" + std::to_string(i));
    v.push_back(
        VectorBuilder("mpub 50").mpub_cmd("MPUB t", bodies).expect(mpub("t", bodies)).build());
  }
  const auto subscribed = ClientState::kSubscribed;
  const auto closing = ClientState::kClosing;
  v.push_back(VectorBuilder("rdy").line("RDY 10").state(subscribed).expect(rdy(10)).build());
  v.push_back(
      VectorBuilder("rdy without count = 1").line("RDY").state(subscribed).expect(rdy(1)).build());
  v.push_back(VectorBuilder("rdy empty count = 0 [quirk]")
                  .line("RDY ")
                  .state(subscribed)
                  .expect(rdy(0))
                  .build());
  v.push_back(VectorBuilder("rdy double space = empty count")
                  .line("RDY  7")
                  .state(subscribed)
                  .expect(rdy(0))
                  .build());
  v.push_back(VectorBuilder("rdy 0").line("RDY 0").state(subscribed).expect(rdy(0)).build());
  v.push_back(
      VectorBuilder("rdy leading zeros").line("RDY 007").state(subscribed).expect(rdy(7)).build());
  v.push_back(
      VectorBuilder("rdy max").line("RDY 2500\r\n").state(subscribed).expect(rdy(2500)).build());
  v.push_back(VectorBuilder("rdy wraps modulo 2^64")
                  .line("RDY 18446744073709551621")
                  .state(subscribed)
                  .expect(rdy(5))
                  .build());
  v.push_back(VectorBuilder("rdy closing ignored")
                  .line("RDY 5")
                  .state(closing)
                  .expect(rdy_ignored())
                  .build());
  v.push_back(VectorBuilder("rdy closing ignored even if invalid")
                  .line("RDY abc")
                  .line("RDY 99999")
                  .state(closing)
                  .expect(rdy_ignored())
                  .expect(rdy_ignored())
                  .build());
  v.push_back(VectorBuilder("fin")
                  .line("FIN " + std::string(kId1))
                  .state(subscribed)
                  .expect(fin(kId1))
                  .build());
  v.push_back(VectorBuilder("fin closing, crlf, extra params")
                  .line("FIN " + std::string(kId2) + " x\r\n")
                  .state(closing)
                  .expect(fin(kId2))
                  .build());
  v.push_back(VectorBuilder("fin opaque id bytes")
                  .line("FIN abc\rdef\x01ghijklm\xff")
                  .state(subscribed)
                  .expect(fin("abc\rdef\x01ghijklm\xff"))
                  .build());
  v.push_back(VectorBuilder("touch")
                  .line("TOUCH " + std::string(kId1))
                  .state(subscribed)
                  .expect(touch(kId1))
                  .build());
  v.push_back(VectorBuilder("touch closing")
                  .line("TOUCH " + std::string(kId3))
                  .state(closing)
                  .expect(touch(kId3))
                  .build());
  v.push_back(VectorBuilder("req 0")
                  .line("REQ " + std::string(kId1) + " 0")
                  .state(subscribed)
                  .expect(req(kId1, 0))
                  .build());
  v.push_back(VectorBuilder("req delay")
                  .line("REQ " + std::string(kId1) + " 1500")
                  .state(closing)
                  .expect(req(kId1, 1500 * kMs))
                  .build());
  v.push_back(VectorBuilder("req empty timeout = 0")
                  .line("REQ " + std::string(kId1) + " ")
                  .state(subscribed)
                  .expect(req(kId1, 0))
                  .build());
  v.push_back(VectorBuilder("req at max")
                  .line("REQ " + std::string(kId1) + " 3600000")
                  .state(subscribed)
                  .expect(req(kId1, 3600000 * kMs))
                  .build());
  v.push_back(VectorBuilder("req above max is clamped")
                  .line("REQ " + std::string(kId1) + " 3600001")
                  .state(subscribed)
                  .expect(req(kId1, 3600000 * kMs, 3600001 * kMs))
                  .build());
  v.push_back(VectorBuilder("req wraps to 0 (not clamped)")
                  .line("REQ " + std::string(kId1) + " 288230376151711744")
                  .state(subscribed)
                  .expect(req(kId1, 0))
                  .build());
  // (2^64 - 1) ms wraps to -10^6 ns: negative, clamped to 0.
  v.push_back(VectorBuilder("req wraps negative, clamped to 0")
                  .line("REQ " + std::string(kId1) + " 18446744073709551615")
                  .state(subscribed)
                  .expect(req(kId1, 0, -1000000))
                  .build());
  {
    ParserLimits l;
    l.max_req_timeout_ns = 10 * kMs;
    v.push_back(VectorBuilder("req clamped to custom max")
                    .line("REQ " + std::string(kId2) + " 11")
                    .state(subscribed)
                    .limits(l)
                    .expect(req(kId2, 10 * kMs, 11 * kMs))
                    .build());
  }
  v.push_back(VectorBuilder("cls").line("CLS").state(subscribed).expect(cls()).build());
  v.push_back(VectorBuilder("line of exactly 16 KiB")
                  .line("NOP " + std::string(16379, 'x'))
                  .line("NOP")
                  .expect(nop())
                  .expect(nop())
                  .build());
  v.push_back(VectorBuilder("pipelined consumer session")
                  .identify_cmd(ident)
                  .line("SUB t c")
                  .line("RDY 100")
                  .line("FIN " + std::string(kId1))
                  .line("REQ " + std::string(kId2) + " 0\r\n")
                  .line("TOUCH " + std::string(kId3))
                  .line("NOP")
                  .line("CLS")
                  .line("FIN " + std::string(kId3))
                  .line("RDY 3")
                  .expect(identify(ident))
                  .expect(sub("t", "c"))
                  .expect(rdy(100))
                  .expect(fin(kId1))
                  .expect(req(kId2, 0))
                  .expect(touch(kId3))
                  .expect(nop())
                  .expect(cls())
                  .expect(fin(kId3))
                  .expect(rdy_ignored())
                  .build());
  v.push_back(VectorBuilder("pipelined publisher session")
                  .auth_cmd("secret")
                  .identify_cmd("{}")
                  .pub_cmd("PUB t", "a")
                  .mpub_cmd("MPUB t", {"b", "cc"})
                  .dpub_cmd("DPUB t2 5", "ddd")
                  .line("NOP\r\n")
                  .pub_cmd("PUB t", binary_body())
                  .mpub_cmd("MPUB t", {"e"})
                  .expect(auth("secret"))
                  .expect(identify("{}"))
                  .expect(pub("t", "a"))
                  .expect(mpub("t", {"b", "cc"}))
                  .expect(dpub("t2", "ddd", 5 * kMs))
                  .expect(nop())
                  .expect(pub("t", binary_body()))
                  .expect(mpub("t", {"e"}))
                  .build());
  return v;
}

class ValidVectors : public ::testing::TestWithParam<Vector> {};

TEST_P(ValidVectors, SameCommandsHoweverSplit) {
  run_all_feedings(GetParam());
}

std::string test_name(const ::testing::TestParamInfo<Vector>& info) {
  std::string out;
  for (char c : info.param.name) {
    out.push_back((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c
                                                                                             : '_');
  }
  return out + "_" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(V2Parser, ValidVectors, ::testing::ValuesIn(valid_vectors()), test_name);

// --- malformed input: the exact NSQ error text ---

std::vector<Vector> error_vectors() {
  const auto subscribed = ClientState::kSubscribed;
  const auto closing = ClientState::kClosing;
  const std::string id(kId1);
  const std::string pub_size_eof = "E_BAD_MESSAGE PUB failed to read message body size";
  const std::string dpub_size_eof = "E_BAD_MESSAGE DPUB failed to read message body size";
  const std::string ident_size_eof = "E_BAD_BODY IDENTIFY failed to read body size";
  const std::string auth_size_eof = "E_BAD_BODY AUTH failed to read body size";
  const std::string mpub_size_eof = "E_BAD_BODY MPUB failed to read body size";
  const std::string mpub_count_eof = "E_BAD_BODY MPUB failed to read message count";
  ParserLimits small;
  small.max_msg_size = 100;
  small.max_body_size = 1000;
  small.max_rdy_count = 50;
  small.max_req_timeout_ns = 1000 * kMs;

  std::vector<Vector> v;
  auto line_error = [&](std::string name, std::string line, std::string text,
                        ClientState state = ClientState::kInit) {
    v.push_back(VectorBuilder(std::move(name))
                    .line(std::move(line))
                    .state(state)
                    .error(std::move(text))
                    .build());
  };

  // Command words.
  line_error("unknown command", "ASDF", "E_INVALID invalid command ASDF");
  line_error("unknown command with params", "ASDF x y", "E_INVALID invalid command ASDF");
  line_error("empty line", "\n", "E_INVALID invalid command ");
  line_error("empty line crlf", "\r\n", "E_INVALID invalid command ");
  line_error("command names are case-sensitive", "nop", "E_INVALID invalid command nop");
  line_error("only one \\r is stripped", "NOP\r\r\n", "E_INVALID invalid command NOP\r");
  line_error("leading space gives an empty command", " NOP", "E_INVALID invalid command ");
  line_error("\\r inside the line is kept", "NOP\rX", "E_INVALID invalid command NOP\rX");
  line_error("unknown command in subscribed state", "PING", "E_INVALID invalid command PING",
             subscribed);
  v.push_back(VectorBuilder("error after a good command")
                  .line("NOP")
                  .line("BOGUS")
                  .expect(nop())
                  .error("E_INVALID invalid command BOGUS")
                  .build());
  v.push_back(VectorBuilder("error after a good body command")
                  .pub_cmd("PUB t", "x")
                  .line("\n")
                  .expect(pub("t", "x"))
                  .error("E_INVALID invalid command ")
                  .build());

  // Parameter counts.
  line_error("sub no params", "SUB", "E_INVALID SUB insufficient number of parameters");
  line_error("sub one param", "SUB t", "E_INVALID SUB insufficient number of parameters");
  line_error("pub no params", "PUB", "E_INVALID PUB insufficient number of parameters");
  line_error("pub no params subscribed", "PUB", "E_INVALID PUB insufficient number of parameters",
             subscribed);
  line_error("mpub no params", "MPUB\r\n", "E_INVALID MPUB insufficient number of parameters");
  line_error("dpub no params", "DPUB", "E_INVALID DPUB insufficient number of parameters");
  line_error("dpub one param", "DPUB t", "E_INVALID DPUB insufficient number of parameters");
  line_error("fin no params", "FIN", "E_INVALID FIN insufficient number of params", subscribed);
  line_error("req no params", "REQ", "E_INVALID REQ insufficient number of params", subscribed);
  line_error("req one param", "REQ " + id, "E_INVALID REQ insufficient number of params", closing);
  line_error("touch no params", "TOUCH", "E_INVALID TOUCH insufficient number of params",
             subscribed);
  line_error("auth with a param", "AUTH x", "E_INVALID AUTH invalid number of parameters");
  line_error("auth with an empty param", "AUTH ", "E_INVALID AUTH invalid number of parameters");
  line_error("auth with two params", "AUTH a b", "E_INVALID AUTH invalid number of parameters");

  // Message ids.
  line_error("fin short id", "FIN 0123", "E_INVALID invalid message ID", subscribed);
  line_error("fin 17-byte id", "FIN " + id + "0", "E_INVALID invalid message ID", subscribed);
  line_error("fin 15-byte id", "FIN " + id.substr(1), "E_INVALID invalid message ID", closing);
  line_error("fin empty id", "FIN ", "E_INVALID invalid message ID", subscribed);
  line_error("fin double space", "FIN  " + id, "E_INVALID invalid message ID", subscribed);
  line_error("req bad id before bad timeout", "REQ short x", "E_INVALID invalid message ID",
             subscribed);
  line_error("touch bad id", "TOUCH " + id.substr(0, 15), "E_INVALID invalid message ID",
             subscribed);

  // Topic and channel names, with Go %q quoting.
  line_error("sub bad topic", "SUB bad:topic ch",
             R"(E_BAD_TOPIC SUB topic name "bad:topic" is not valid)");
  line_error("sub empty topic", "SUB  ch", R"(E_BAD_TOPIC SUB topic name "" is not valid)");
  line_error("sub topic checked before channel", "SUB bad! bad!",
             R"(E_BAD_TOPIC SUB topic name "bad!" is not valid)");
  line_error("sub topic too long", "SUB " + std::string(65, 'x') + " c",
             "E_BAD_TOPIC SUB topic name \"" + std::string(65, 'x') + "\" is not valid");
  line_error("sub bad channel", "SUB t bad/ch",
             R"(E_BAD_CHANNEL SUB channel name "bad/ch" is not valid)");
  line_error("sub empty channel", "SUB t ", R"(E_BAD_CHANNEL SUB channel name "" is not valid)");
  line_error("sub double ephemeral channel", "SUB t c#ephemeral#ephemeral",
             R"(E_BAD_CHANNEL SUB channel name "c#ephemeral#ephemeral" is not valid)");
  line_error(
      "sub channel too long", "SUB t " + std::string(55, 'c') + "#ephemeral",
      "E_BAD_CHANNEL SUB channel name \"" + std::string(55, 'c') + "#ephemeral\" is not valid");
  line_error("pub test:ephemeral", "PUB test:ephemeral",
             R"(E_BAD_TOPIC PUB topic name "test:ephemeral" is not valid)");
  line_error("pub empty topic", "PUB ", R"(E_BAD_TOPIC PUB topic name "" is not valid)");
  line_error("pub quote and backslash", "PUB a\"b\\c",
             R"(E_BAD_TOPIC PUB topic name "a\"b\\c" is not valid)");
  line_error("pub control chars", std::string("PUB a\tb\x01\x7f\x1b") + '\0' + "z",
             R"(E_BAD_TOPIC PUB topic name "a\tb\x01\x7f\x1b\x00z" is not valid)");
  line_error("pub named escapes", "PUB \a\b\f\v",
             R"(E_BAD_TOPIC PUB topic name "\a\b\f\v" is not valid)");
  line_error("pub trailing \\r kept", "PUB a\r\r\n",
             R"(E_BAD_TOPIC PUB topic name "a\r" is not valid)");
  line_error("pub utf-8 copied", "PUB caf\xc3\xa9",
             "E_BAD_TOPIC PUB topic name \"caf\xc3\xa9\" is not valid");
  line_error("pub emoji copied", "PUB \xf0\x9f\x98\x80",
             "E_BAD_TOPIC PUB topic name \"\xf0\x9f\x98\x80\" is not valid");
  line_error("pub invalid utf-8", "PUB \xff\xfe",
             R"(E_BAD_TOPIC PUB topic name "\xff\xfe" is not valid)");
  line_error("pub truncated utf-8", "PUB \xe2\x82",
             R"(E_BAD_TOPIC PUB topic name "\xe2\x82" is not valid)");
  line_error("pub overlong utf-8", "PUB \xc0\x80",
             R"(E_BAD_TOPIC PUB topic name "\xc0\x80" is not valid)");
  line_error("pub surrogate utf-8", "PUB \xed\xa0\x80",
             R"(E_BAD_TOPIC PUB topic name "\xed\xa0\x80" is not valid)");
  line_error("pub above U+10FFFF", "PUB \xf4\x90\x80\x80",
             R"(E_BAD_TOPIC PUB topic name "\xf4\x90\x80\x80" is not valid)");
  line_error("pub C1 control", "PUB \xc2\x80",
             R"(E_BAD_TOPIC PUB topic name "\u0080" is not valid)");
  line_error("pub soft hyphen", "PUB \xc2\xad",
             R"(E_BAD_TOPIC PUB topic name "\u00ad" is not valid)");
  line_error("pub line separator", "PUB \xe2\x80\xa8",
             R"(E_BAD_TOPIC PUB topic name "\u2028" is not valid)");
  line_error("pub byte order mark", "PUB \xef\xbb\xbf",
             R"(E_BAD_TOPIC PUB topic name "\ufeff" is not valid)");
  line_error("mpub bad topic repeats the code", "MPUB bad!",
             R"(E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "bad!" is not valid)");
  line_error("mpub empty topic", "MPUB ",
             R"(E_BAD_TOPIC E_BAD_TOPIC MPUB topic name "" is not valid)");
  line_error("dpub bad topic", "DPUB bad! 10",
             R"(E_BAD_TOPIC DPUB topic name "bad!" is not valid)");
  line_error("dpub topic checked before timeout", "DPUB a/b x",
             R"(E_BAD_TOPIC DPUB topic name "a/b" is not valid)");

  // Numbers.
  line_error("dpub unparsable timeout", "DPUB t abc", "E_INVALID DPUB could not parse timeout abc");
  line_error("dpub negative timeout", "DPUB t -1", "E_INVALID DPUB could not parse timeout -1");
  line_error("dpub plus sign", "DPUB t +1", "E_INVALID DPUB could not parse timeout +1");
  line_error("dpub fraction", "DPUB t 1.5", "E_INVALID DPUB could not parse timeout 1.5");
  line_error("dpub hex", "DPUB t 0x10", "E_INVALID DPUB could not parse timeout 0x10");
  line_error("dpub timeout out of range", "DPUB t 3600001",
             "E_INVALID DPUB timeout 3600001 out of range 0-3600000");
  line_error("dpub timeout wraps negative", "DPUB t 18446744073709551615",
             "E_INVALID DPUB timeout 18446744073709551615 out of range 0-3600000");
  line_error("dpub timeout wraps past int64", "DPUB t 9223372036855",
             "E_INVALID DPUB timeout 9223372036855 out of range 0-3600000");
  v.push_back(VectorBuilder("dpub out of custom range")
                  .line("DPUB t 1001")
                  .limits(small)
                  .error("E_INVALID DPUB timeout 1001 out of range 0-1000")
                  .build());
  line_error("rdy unparsable", "RDY abc", "E_INVALID RDY could not parse count abc", subscribed);
  line_error("rdy negative", "RDY -1", "E_INVALID RDY could not parse count -1", subscribed);
  line_error("rdy trailing junk", "RDY 5x", "E_INVALID RDY could not parse count 5x", subscribed);
  line_error("rdy too big", "RDY 2501", "E_INVALID RDY count 2501 out of range 0-2500", subscribed);
  line_error("rdy wraps to -1", "RDY 18446744073709551615",
             "E_INVALID RDY count -1 out of range 0-2500", subscribed);
  line_error("rdy wraps to int64 min", "RDY 9223372036854775808",
             "E_INVALID RDY count -9223372036854775808 out of range 0-2500", subscribed);
  v.push_back(VectorBuilder("rdy above custom max")
                  .line("RDY 51")
                  .state(subscribed)
                  .limits(small)
                  .error("E_INVALID RDY count 51 out of range 0-50")
                  .build());
  line_error("req unparsable timeout", "REQ " + id + " abc",
             "E_INVALID REQ could not parse timeout abc", subscribed);
  line_error("req negative timeout", "REQ " + id + " -5",
             "E_INVALID REQ could not parse timeout -5", closing);

  // Body sizes.
  v.push_back(VectorBuilder("pub size 0")
                  .line("PUB t")
                  .size(0, pub_size_eof)
                  .error("E_BAD_MESSAGE PUB invalid message body size 0")
                  .build());
  v.push_back(VectorBuilder("pub size -1")
                  .line("PUB t")
                  .size(-1, pub_size_eof)
                  .error("E_BAD_MESSAGE PUB invalid message body size -1")
                  .build());
  v.push_back(VectorBuilder("pub size int32 min")
                  .line("PUB t")
                  .size(INT32_MIN, pub_size_eof)
                  .error("E_BAD_MESSAGE PUB invalid message body size -2147483648")
                  .build());
  v.push_back(VectorBuilder("pub too big")
                  .line("PUB t")
                  .size(105, pub_size_eof)
                  .limits(small)
                  .error("E_BAD_MESSAGE PUB message too big 105 > 100")
                  .build());
  v.push_back(VectorBuilder("pub too big default")
                  .line("PUB t")
                  .size(1048577, pub_size_eof)
                  .error("E_BAD_MESSAGE PUB message too big 1048577 > 1048576")
                  .build());
  v.push_back(VectorBuilder("dpub size 0")
                  .line("DPUB t 0")
                  .size(0, dpub_size_eof)
                  .error("E_BAD_MESSAGE DPUB invalid message body size 0")
                  .build());
  v.push_back(VectorBuilder("dpub too big")
                  .line("DPUB t 0")
                  .size(101, dpub_size_eof)
                  .limits(small)
                  .error("E_BAD_MESSAGE DPUB message too big 101 > 100")
                  .build());
  v.push_back(VectorBuilder("identify size 0")
                  .line("IDENTIFY")
                  .size(0, ident_size_eof)
                  .error("E_BAD_BODY IDENTIFY invalid body size 0")
                  .build());
  v.push_back(VectorBuilder("identify size -5")
                  .line("IDENTIFY")
                  .size(-5, ident_size_eof)
                  .error("E_BAD_BODY IDENTIFY invalid body size -5")
                  .build());
  v.push_back(VectorBuilder("identify too big")
                  .line("IDENTIFY")
                  .size(1001, ident_size_eof)
                  .limits(small)
                  .error("E_BAD_BODY IDENTIFY body too big 1001 > 1000")
                  .build());
  v.push_back(VectorBuilder("identify too big default")
                  .line("IDENTIFY")
                  .size(5242881, ident_size_eof)
                  .error("E_BAD_BODY IDENTIFY body too big 5242881 > 5242880")
                  .build());
  v.push_back(VectorBuilder("auth size 0")
                  .line("AUTH")
                  .size(0, auth_size_eof)
                  .error("E_BAD_BODY AUTH invalid body size 0")
                  .build());
  v.push_back(VectorBuilder("auth too big")
                  .line("AUTH")
                  .size(1001, auth_size_eof)
                  .limits(small)
                  .error("E_BAD_BODY AUTH body too big 1001 > 1000")
                  .build());
  v.push_back(VectorBuilder("mpub body size 0")
                  .line("MPUB t")
                  .size(0, mpub_size_eof)
                  .error("E_BAD_BODY MPUB invalid body size 0")
                  .build());
  v.push_back(VectorBuilder("mpub body size -1")
                  .line("MPUB t")
                  .size(-1, mpub_size_eof)
                  .error("E_BAD_BODY MPUB invalid body size -1")
                  .build());
  v.push_back(VectorBuilder("mpub body too big")
                  .line("MPUB t")
                  .size(1148, mpub_size_eof)
                  .limits(small)
                  .error("E_BAD_BODY MPUB body too big 1148 > 1000")
                  .build());
  v.push_back(VectorBuilder("mpub count 0")
                  .line("MPUB t")
                  .size(10, mpub_size_eof)
                  .size(0, mpub_count_eof)
                  .error("E_BAD_BODY MPUB invalid message count 0")
                  .build());
  v.push_back(VectorBuilder("mpub count -1")
                  .line("MPUB t")
                  .size(10, mpub_size_eof)
                  .size(-1, mpub_count_eof)
                  .error("E_BAD_BODY MPUB invalid message count -1")
                  .build());
  v.push_back(VectorBuilder("mpub count above (max_body-4)/5")
                  .line("MPUB t")
                  .size(999, mpub_size_eof)
                  .size(200, mpub_count_eof)
                  .limits(small)
                  .error("E_BAD_BODY MPUB invalid message count 200")
                  .build());
  v.push_back(VectorBuilder("mpub count above default max")
                  .line("MPUB t")
                  .size(100, mpub_size_eof)
                  .size(1048576, mpub_count_eof)
                  .error("E_BAD_BODY MPUB invalid message count 1048576")
                  .build());
  {
    VectorBuilder b("mpub invalid message(5) size");
    b.line("MPUB t").size(100, mpub_size_eof).size(6, mpub_count_eof);
    for (size_t i = 0; i < 5; ++i) b.mpub_message(i, "m" + std::to_string(i));
    b.size(0, "E_BAD_MESSAGE MPUB failed to read message(5) body size");
    v.push_back(b.error("E_BAD_MESSAGE MPUB invalid message(5) body size 0").build());
  }
  v.push_back(VectorBuilder("mpub negative message(0) size")
                  .line("MPUB t")
                  .size(100, mpub_size_eof)
                  .size(2, mpub_count_eof)
                  .size(-7, "E_BAD_MESSAGE MPUB failed to read message(0) body size")
                  .error("E_BAD_MESSAGE MPUB invalid message(0) body size -7")
                  .build());
  v.push_back(VectorBuilder("mpub message too big")
                  .line("MPUB t")
                  .size(500, mpub_size_eof)
                  .size(3, mpub_count_eof)
                  .mpub_message(0, "a")
                  .mpub_message(1, "b")
                  .size(101, "E_BAD_MESSAGE MPUB failed to read message(2) body size")
                  .limits(small)
                  .error("E_BAD_MESSAGE MPUB message too big 101 > 100")
                  .build());
  v.push_back(VectorBuilder("mpub error after pipelined pub")
                  .pub_cmd("PUB t", "ok")
                  .line("MPUB t")
                  .size(100, mpub_size_eof)
                  .size(1, mpub_count_eof)
                  .size(0, "E_BAD_MESSAGE MPUB failed to read message(0) body size")
                  .expect(pub("t", "ok"))
                  .error("E_BAD_MESSAGE MPUB invalid message(0) body size 0")
                  .build());

  // Heartbeats disabled: SUB refused after the state check, before the parameters.
  v.push_back(VectorBuilder("sub with heartbeats disabled")
                  .line("SUB t c")
                  .no_heartbeats()
                  .error("E_INVALID cannot SUB with heartbeats disabled")
                  .build());
  v.push_back(VectorBuilder("sub heartbeats checked before params")
                  .line("SUB")
                  .no_heartbeats()
                  .error("E_INVALID cannot SUB with heartbeats disabled")
                  .build());
  v.push_back(VectorBuilder("sub heartbeats checked before names")
                  .line("SUB bad! c")
                  .no_heartbeats()
                  .error("E_INVALID cannot SUB with heartbeats disabled")
                  .build());
  v.push_back(VectorBuilder("sub state checked before heartbeats")
                  .line("SUB t c")
                  .no_heartbeats()
                  .state(subscribed)
                  .error("E_INVALID cannot SUB in current state")
                  .build());

  // TLS required: everything but IDENTIFY, with the raw command word.
  for (const char* line : {"SUB t c", "PUB t", "MPUB t", "DPUB t 0", "NOP", "AUTH", "CLS"}) {
    const std::string word = std::string(line).substr(0, std::string(line).find(' '));
    v.push_back(VectorBuilder(std::string("tls required ") + line)
                    .line(line)
                    .tls_required()
                    .error("E_INVALID cannot " + word + " in current state (TLS required)")
                    .build());
  }
  v.push_back(VectorBuilder("tls required unknown command")
                  .line("ASDF")
                  .tls_required()
                  .error("E_INVALID cannot ASDF in current state (TLS required)")
                  .build());
  v.push_back(VectorBuilder("tls required empty line")
                  .line("\n")
                  .tls_required()
                  .error("E_INVALID cannot  in current state (TLS required)")
                  .build());
  v.push_back(VectorBuilder("tls required before state")
                  .line("RDY 1")
                  .tls_required()
                  .error("E_INVALID cannot RDY in current state (TLS required)")
                  .build());
  v.push_back(VectorBuilder("tls required, identify then sub")
                  .identify_cmd("{}")
                  .line("SUB t c")
                  .tls_required()
                  .expect(identify("{}"))
                  .error("E_INVALID cannot SUB in current state (TLS required)")
                  .build());
  v.push_back(VectorBuilder("tls required does not skip the IDENTIFY state check")
                  .line("IDENTIFY")
                  .tls_required()
                  .state(subscribed)
                  .error("E_INVALID cannot IDENTIFY in current state")
                  .build());

  // State errors after a state change within one pipeline.
  v.push_back(VectorBuilder("second SUB")
                  .line("SUB t c")
                  .line("SUB t c")
                  .expect(sub("t", "c"))
                  .error("E_INVALID cannot SUB in current state")
                  .build());
  v.push_back(VectorBuilder("CLS twice")
                  .line("CLS")
                  .line("CLS")
                  .state(subscribed)
                  .expect(cls())
                  .error("E_INVALID cannot CLS in current state")
                  .build());
  return v;
}

class ErrorVectors : public ::testing::TestWithParam<Vector> {};

TEST_P(ErrorVectors, ExactErrorHoweverSplit) {
  run_all_feedings(GetParam());
}

INSTANTIATE_TEST_SUITE_P(V2Parser, ErrorVectors, ::testing::ValuesIn(error_vectors()), test_name);

// --- which command is legal in which state (protocol_v2.go Exec) ---

struct StateCase {
  std::string input;
  CommandType type;
  // Expected per state: "" = accepted; otherwise the error text.
  std::string init, subscribed, closing;
};

TEST(V2ParserStates, CommandStateMatrix) {
  const std::string id(kId1);
  auto with_body = [](std::string line, std::string body) {
    return line + be32(static_cast<int32_t>(body.size())) + body;
  };
  auto bad = [](const char* cmd) {
    return "E_INVALID cannot " + std::string(cmd) + " in current state";
  };
  const std::vector<StateCase> cases = {
      {with_body("IDENTIFY\n", "{}"), CommandType::kIdentify, "", bad("IDENTIFY"), bad("IDENTIFY")},
      {with_body("AUTH\n", "s"), CommandType::kAuth, "", bad("AUTH"), bad("AUTH")},
      {"SUB t c\n", CommandType::kSub, "", bad("SUB"), bad("SUB")},
      {with_body("PUB t\n", "b"), CommandType::kPub, "", "", ""},
      {"MPUB t\n" + be32(9) + be32(1) + be32(1) + "b", CommandType::kMpub, "", "", ""},
      {with_body("DPUB t 0\n", "b"), CommandType::kDpub, "", "", ""},
      {"RDY 1\n", CommandType::kRdy, bad("RDY"), "", ""},
      {"FIN " + id + "\n", CommandType::kFin, bad("FIN"), "", ""},
      {"REQ " + id + " 0\n", CommandType::kReq, bad("REQ"), "", ""},
      {"TOUCH " + id + "\n", CommandType::kTouch, bad("TOUCH"), "", ""},
      {"CLS\n", CommandType::kCls, bad("CLS"), "", bad("CLS")},
      {"NOP\n", CommandType::kNop, "", "", ""},
  };
  for (const auto& c : cases) {
    const std::pair<ClientState, const std::string*> states[] = {
        {ClientState::kInit, &c.init},
        {ClientState::kSubscribed, &c.subscribed},
        {ClientState::kClosing, &c.closing},
    };
    for (const auto& [state, expected] : states) {
      SCOPED_TRACE(escape(c.input) + " in state " + std::to_string(static_cast<int>(state)));
      V2Parser parser;
      ConnContext ctx;
      ctx.state = state;
      ParseResult r = parser.parse(c.input, ctx);
      if (expected->empty()) {
        ASSERT_EQ(r.status, Status::kCommand) << r.error.text();
        EXPECT_EQ(r.command.type, c.type);
        EXPECT_EQ(r.consumed, c.input.size());
        EXPECT_EQ(r.command.ignored, c.type == CommandType::kRdy && state == ClientState::kClosing);
      } else {
        ASSERT_EQ(r.status, Status::kError);
        EXPECT_EQ(r.error.text(), *expected);
        EXPECT_TRUE(r.error.fatal);
        EXPECT_EQ(r.error.code, "E_INVALID");
        // State errors come from the line alone: nsqd never reads the body.
        EXPECT_EQ(r.consumed, c.input.find('\n') + 1);
      }
    }
  }
}

// The state errors come before any parameter check.
TEST(V2ParserStates, StateCheckedBeforeParameters) {
  V2Parser parser;
  ConnContext init;
  ConnContext subscribed;
  subscribed.state = ClientState::kSubscribed;
  EXPECT_EQ(parser.parse("FIN\n", init).error.text(), "E_INVALID cannot FIN in current state");
  EXPECT_EQ(parser.parse("REQ x y\n", init).error.text(), "E_INVALID cannot REQ in current state");
  EXPECT_EQ(parser.parse("TOUCH\n", init).error.text(), "E_INVALID cannot TOUCH in current state");
  EXPECT_EQ(parser.parse("RDY abc\n", init).error.text(), "E_INVALID cannot RDY in current state");
  EXPECT_EQ(parser.parse("AUTH x\n", subscribed).error.text(),
            "E_INVALID cannot AUTH in current state");
  EXPECT_EQ(parser.parse("SUB\n", subscribed).error.text(),
            "E_INVALID cannot SUB in current state");
  EXPECT_EQ(parser.parse("CLS extra\n", init).error.text(),
            "E_INVALID cannot CLS in current state");
}

// --- over-long lines: nsqd's 16 KiB bufio.Reader fails and the connection closes silently ---

RunResult feed_in_chunks(std::string_view data, size_t chunk,
                         ClientState state = ClientState::kInit) {
  Vector v;
  v.state = state;
  Feeder f(v);
  for (size_t pos = 0; pos < data.size(); pos += chunk) f.push(data.substr(pos, chunk));
  return f.result();
}

TEST(V2ParserLongLines, SixteenKiBWithoutNewlineClosesSilently) {
  const std::string line(16384, 'x');
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{1000}, size_t{16384}}) {
    SCOPED_TRACE(chunk);
    RunResult r = feed_in_chunks(line, chunk);
    EXPECT_TRUE(r.closed_silently);
    EXPECT_EQ(r.error, std::nullopt);
    EXPECT_TRUE(r.commands.empty());
  }
}

TEST(V2ParserLongLines, NewlineJustPastTheBufferClosesSilently) {
  const std::string line = "NOP " + std::string(16380, 'x') + "\n";  // 16385 bytes with '\n'
  ASSERT_EQ(line.size(), 16385u);
  for (size_t chunk : {size_t{1}, size_t{100}, line.size()}) {
    RunResult r = feed_in_chunks(line, chunk);
    EXPECT_TRUE(r.closed_silently);
    EXPECT_TRUE(r.commands.empty());
  }
}

TEST(V2ParserLongLines, LineThatFitsIsParsed) {
  // 16383 bytes plus '\n' fill the reader exactly: an ordinary (unknown) command.
  const std::string line = std::string(16383, 'x') + "\n";
  for (size_t chunk : {size_t{1}, size_t{1000}, line.size()}) {
    RunResult r = feed_in_chunks(line, chunk);
    EXPECT_FALSE(r.closed_silently);
    EXPECT_EQ(r.error, "E_INVALID invalid command " + std::string(16383, 'x'));
  }
}

TEST(V2ParserLongLines, IncompleteLineBelowTheLimitWaits) {
  V2Parser parser;
  ParseResult r = parser.parse(std::string(16383, 'x'), ConnContext{});
  EXPECT_EQ(r.status, Status::kNeedMore);
  EXPECT_EQ(r.eof_error, std::nullopt);  // EOF mid-line: closed without a frame
}

TEST(V2ParserLongLines, GoodCommandsBeforeTheLongLineStillCount) {
  const std::string data = "NOP\nPUB t\n" + be32(2) + "ab" + std::string(16384, 'y');
  for (size_t chunk : {size_t{1}, size_t{5}, data.size()}) {
    RunResult r = feed_in_chunks(data, chunk);
    EXPECT_TRUE(r.closed_silently);
    EXPECT_EQ(r.commands, (std::vector<Cmd>{nop(), pub("t", "ab")}));
  }
}

TEST(V2ParserLongLines, CustomMaxLineLength) {
  ParserLimits l;
  l.max_line_length = 8;
  V2Parser parser(l);
  EXPECT_EQ(parser.parse("NOP 123\n", ConnContext{}).status, Status::kCommand);  // 8 with '\n'
  EXPECT_EQ(parser.parse("NOP 1234\n", ConnContext{}).status, Status::kCloseSilently);
  EXPECT_EQ(parser.parse("NOP 123", ConnContext{}).status, Status::kNeedMore);
}

// --- details of the results ---

TEST(V2ParserResults, NeedTotalAndConsumed) {
  V2Parser parser;
  ConnContext ctx;
  std::string data = "PUB t\n";
  ParseResult r = parser.parse(data, ctx);
  EXPECT_EQ(r.status, Status::kNeedMore);
  EXPECT_EQ(r.need_total, 10u);
  data += be32(5);
  r = parser.parse(data, ctx);
  EXPECT_EQ(r.status, Status::kNeedMore);
  EXPECT_EQ(r.need_total, 15u);
  data += "hello" + std::string("NOP\n");
  r = parser.parse(data, ctx);
  ASSERT_EQ(r.status, Status::kCommand);
  EXPECT_EQ(r.consumed, 15u);
  EXPECT_EQ(r.command.body, "hello");
  // The views point into the caller's buffer: no copy.
  EXPECT_EQ(r.command.body.data(), data.data() + 10);
  EXPECT_EQ(r.command.topic.data(), data.data() + 4);

  r = parser.parse("IDENTIFY\n" + be32(100), ctx);
  EXPECT_EQ(r.status, Status::kNeedMore);
  EXPECT_EQ(r.need_total, 113u);

  const std::string mpub_head = "MPUB t\n" + be32(100) + be32(2) + be32(3) + "abc";
  V2Parser mp;
  r = mp.parse(mpub_head, ctx);
  EXPECT_EQ(r.status, Status::kNeedMore);
  EXPECT_EQ(r.need_total, mpub_head.size() + 4);
  r = mp.parse(mpub_head + be32(6), ctx);
  EXPECT_EQ(r.need_total, mpub_head.size() + 10);
}

TEST(V2ParserResults, ErrorConsumesTheBadCommandOnly) {
  V2Parser parser;
  ConnContext ctx;
  ParseResult r = parser.parse("ASDF\nNOP\n", ctx);
  ASSERT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.consumed, 5u);
  r = parser.parse("PUB t\n" + be32(0) + "junk", ctx);
  ASSERT_EQ(r.status, Status::kError);
  EXPECT_EQ(r.consumed, 10u);
  EXPECT_EQ(r.error.code, "E_BAD_MESSAGE");
  EXPECT_EQ(r.error.message, "PUB invalid message body size 0");
  EXPECT_TRUE(r.error.fatal);
}

// nsqd creates an MPUB's topic before reading its body [compat quirk]; the parser reports
// the topic with every error that comes after the name was accepted.
TEST(V2ParserResults, MpubCreatedTopicOnBodyErrors) {
  ParserLimits l;
  l.max_msg_size = 10;
  V2Parser parser(l);
  ConnContext ctx;
  const std::vector<std::string> after_name = {
      "MPUB orders\n" + be32(0),
      "MPUB orders\n" + be32(10) + be32(0),
      "MPUB orders\n" + be32(10) + be32(1) + be32(-1),
      "MPUB orders\n" + be32(10) + be32(2) + be32(1) + "x" + be32(11),
  };
  for (const auto& in : after_name) {
    ParseResult r = parser.parse(in, ctx);
    ASSERT_EQ(r.status, Status::kError) << escape(in);
    EXPECT_EQ(r.mpub_created_topic, "orders");
  }
  for (const char* in : {"MPUB\n", "MPUB bad!\n"}) {
    ParseResult r = parser.parse(in, ctx);
    ASSERT_EQ(r.status, Status::kError);
    EXPECT_TRUE(r.mpub_created_topic.empty());
  }
  ParseResult r = parser.parse("PUB orders\n" + be32(0), ctx);
  ASSERT_EQ(r.status, Status::kError);
  EXPECT_TRUE(r.mpub_created_topic.empty());
}

// MPUB remembers its scan as offsets, so the caller's buffer may move between calls.
TEST(V2ParserResults, MpubResumesAfterTheBufferMoves) {
  V2Parser parser;
  ConnContext ctx;
  const std::string full = "MPUB t\n" + be32(30) + be32(3) + be32(3) + "one" + be32(3) + "two" +
                           be32(5) + "three" + "NOP\n";
  auto first = std::make_unique<std::string>(full.substr(0, 27));  // inside message 1
  ParseResult r = parser.parse(*first, ctx);
  ASSERT_EQ(r.status, Status::kNeedMore);
  EXPECT_EQ(r.eof_error->text(), "E_BAD_MESSAGE MPUB failed to read message body");
  first.reset();
  const std::string second = full;  // a different allocation
  r = parser.parse(second, ctx);
  ASSERT_EQ(r.status, Status::kCommand);
  ASSERT_EQ(r.command.bodies.size(), 3u);
  EXPECT_EQ(r.command.bodies[0], "one");
  EXPECT_EQ(r.command.bodies[1], "two");
  EXPECT_EQ(r.command.bodies[2], "three");
  EXPECT_EQ(r.command.bodies[2].data(), second.data() + full.size() - 9);
  EXPECT_EQ(r.consumed, full.size() - 4);
  r = parser.parse(std::string_view(second).substr(full.size() - 4), ctx);
  EXPECT_EQ(r.status, Status::kCommand);
  EXPECT_EQ(r.command.type, CommandType::kNop);
}

// After an MPUB error the next MPUB (with the same count) starts a fresh scan.
TEST(V2ParserResults, MpubScanResetsAfterErrorAndSuccess) {
  V2Parser parser;
  ConnContext ctx;
  ParseResult r = parser.parse("MPUB t\n" + be32(20) + be32(2) + be32(1) + "a" + be32(0), ctx);
  ASSERT_EQ(r.status, Status::kError);
  const std::string good = "MPUB u\n" + be32(20) + be32(2) + be32(2) + "bb" + be32(2) + "cc";
  r = parser.parse(good, ctx);
  ASSERT_EQ(r.status, Status::kCommand);
  ASSERT_EQ(r.command.bodies.size(), 2u);
  EXPECT_EQ(r.command.bodies[0], "bb");
  EXPECT_EQ(r.command.bodies[1], "cc");
  const std::string again = "MPUB v\n" + be32(20) + be32(2) + be32(1) + "d" + be32(3) + "eee";
  r = parser.parse(again, ctx);
  ASSERT_EQ(r.status, Status::kCommand);
  ASSERT_EQ(r.command.bodies.size(), 2u);
  EXPECT_EQ(r.command.topic, "v");
  EXPECT_EQ(r.command.bodies[0], "d");
  EXPECT_EQ(r.command.bodies[1], "eee");
}

TEST(V2ParserResults, ParseBase10) {
  uint64_t n = 99;
  EXPECT_TRUE(parse_base10("", n));
  EXPECT_EQ(n, 0u);
  EXPECT_TRUE(parse_base10("0", n));
  EXPECT_EQ(n, 0u);
  EXPECT_TRUE(parse_base10("123", n));
  EXPECT_EQ(n, 123u);
  EXPECT_TRUE(parse_base10("18446744073709551615", n));
  EXPECT_EQ(n, UINT64_MAX);
  EXPECT_TRUE(parse_base10("18446744073709551616", n));  // wraps silently
  EXPECT_EQ(n, 0u);
  for (const char* bad : {"-1", "+1", " 1", "1 ", "1a", "0x1", "1.0"}) {
    n = 7;
    EXPECT_FALSE(parse_base10(bad, n)) << bad;
    EXPECT_EQ(n, 0u);
  }
}

}  // namespace
}  // namespace nsq::protocol
