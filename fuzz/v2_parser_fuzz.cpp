// nsqd's V2 command parser over an arbitrary client byte stream.
//
// Input: [flags][split hi][split lo][stream...]. The flags pick the connection state and the
// limits; the stream is parsed command by command as a connection does (dropping consumed
// bytes, following SUB and CLS state changes), once as one push and once as two pushes split at
// the chosen offset. The parser is incremental, so both runs must give the same verdicts.
#include <string>
#include <vector>

#include "fuzz/fuzz_target.hpp"
#include "fuzz/stream_feeder.hpp"
#include "nsq/protocol/names.hpp"
#include "nsq/protocol/v2_parser.hpp"

namespace {

using nsq::protocol::ClientState;
using nsq::protocol::CommandType;
using nsq::protocol::ConnContext;
using nsq::protocol::ParseResult;
using nsq::protocol::ParserLimits;
using nsq::protocol::V2Parser;
using Status = ParseResult::Status;

struct Setup {
  ConnContext ctx;
  ParserLimits limits;
};

Setup setup_from(uint8_t flags) {
  Setup s;
  s.ctx.state = static_cast<ClientState>(flags % 5);
  s.ctx.heartbeats_enabled = (flags & 0x08) == 0;
  s.ctx.tls_required = (flags & 0x10) != 0;
  if ((flags & 0x20) != 0) {  // small limits reach the too-big and long-line branches
    s.limits.max_msg_size = 16;
    s.limits.max_body_size = 64;
    s.limits.max_rdy_count = 3;
    s.limits.max_req_timeout_ns = 5'000'000'000;
    s.limits.max_line_length = 32;
  }
  return s;
}

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_command(const ParseResult& r, std::string_view buf, const ParserLimits& limits) {
  const auto& c = r.command;
  FUZZ_CHECK(inside(c.topic, buf) && inside(c.channel, buf) && inside(c.body, buf));
  switch (c.type) {
    case CommandType::kPub:
    case CommandType::kDpub:
      FUZZ_CHECK(nsq::protocol::is_valid_topic_name(c.topic));
      FUZZ_CHECK(!c.body.empty() && static_cast<int64_t>(c.body.size()) <= limits.max_msg_size);
      FUZZ_CHECK(c.defer_ns >= 0 && c.defer_ns <= limits.max_req_timeout_ns);
      break;
    case CommandType::kMpub:
      FUZZ_CHECK(nsq::protocol::is_valid_topic_name(c.topic));
      FUZZ_CHECK(!c.bodies.empty());
      for (auto b : c.bodies) {
        FUZZ_CHECK(inside(b, buf) && !b.empty());
        FUZZ_CHECK(static_cast<int64_t>(b.size()) <= limits.max_msg_size);
      }
      break;
    case CommandType::kSub:
      FUZZ_CHECK(nsq::protocol::is_valid_topic_name(c.topic));
      FUZZ_CHECK(nsq::protocol::is_valid_channel_name(c.channel));
      break;
    case CommandType::kRdy:
      FUZZ_CHECK(c.ignored || (c.count >= 0 && c.count <= limits.max_rdy_count));
      break;
    case CommandType::kReq:
      FUZZ_CHECK(c.defer_ns >= 0 && c.defer_ns <= limits.max_req_timeout_ns);
      break;
    case CommandType::kIdentify:
    case CommandType::kAuth:
      FUZZ_CHECK(!c.body.empty() && static_cast<int64_t>(c.body.size()) <= limits.max_body_size);
      break;
    default:
      break;
  }
}

// Everything a verdict says, as text, so two runs can be compared.
std::string describe(const ParseResult& r) {
  std::string s = std::to_string(static_cast<int>(r.status)) + "|" + std::to_string(r.consumed);
  if (r.status == Status::kCommand) {
    const auto& c = r.command;
    s += "|" + std::to_string(static_cast<int>(c.type)) + "|" + std::string(c.topic) + "|" +
         std::string(c.channel) + "|" + std::string(c.body) + "|" +
         std::string(nsq::protocol::id_view(c.id)) + "|" + std::to_string(c.count) + "|" +
         std::to_string(c.ignored) + "|" + std::to_string(c.defer_ns) + "|" +
         std::to_string(c.req_clamped) + "|" + std::to_string(c.req_requested_ns);
    for (auto b : c.bodies) s += "|" + std::to_string(b.size()) + ":" + std::string(b);
  }
  if (r.status == Status::kError) {
    s += "|" + r.error.text() + "|" + std::to_string(r.error.fatal) + "|" +
         std::string(r.mpub_created_topic);
  }
  if (r.status == Status::kNeedMore) {
    s += "|" + std::to_string(r.need_total);
    if (r.eof_error) s += "|" + r.eof_error->text();
  }
  return s;
}

// Parses `stream` as one connection, handing the parser `split` bytes first.
std::vector<std::string> run(std::string_view stream, size_t split, const Setup& setup) {
  V2Parser parser(setup.limits);
  ConnContext ctx = setup.ctx;
  return nsq::fuzz::feed_in_two_pushes(stream, split, [&](std::string_view buf) {
    const ParseResult r = parser.parse(buf, ctx);
    nsq::fuzz::StepVerdict v{
        .need_more = r.status == Status::kNeedMore,
        .end = r.status == Status::kCloseSilently || (r.status == Status::kError && r.error.fatal),
        .consumed = r.consumed,
        .text = describe(r)};
    if (v.need_more) FUZZ_CHECK(r.need_total == 0 || r.need_total > buf.size());
    if (r.status == Status::kCommand) {
      FUZZ_CHECK(r.consumed > 0 && r.consumed <= buf.size());
      check_command(r, buf, setup.limits);
      // A verdict depends only on the bytes it consumed.
      V2Parser fresh(setup.limits);
      FUZZ_CHECK(describe(fresh.parse(buf.substr(0, r.consumed), ctx)) == v.text);
      if (r.command.type == CommandType::kSub) ctx.state = ClientState::kSubscribed;
      if (r.command.type == CommandType::kCls) ctx.state = ClientState::kClosing;
    }
    return v;
  });
}

}  // namespace

NSQ_FUZZ_TARGET(v2_parser) {
  if (size < 3) return 0;
  const Setup setup = setup_from(data[0]);
  const std::string_view stream = nsq::fuzz::as_view(data + 3, size - 3);
  const size_t split = nsq::fuzz::split_from(data[1], data[2], stream.size());
  FUZZ_CHECK(run(stream, stream.size(), setup) == run(stream, split, setup));
  return 0;
}
