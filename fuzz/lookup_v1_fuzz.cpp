// nsqlookupd's V1 protocol over an arbitrary byte stream, both directions.
// Input: [mode][split hi][split lo][stream...]. Mode bit 0 picks the direction: nsqd ->
// nsqlookupd commands (parsed in two pushes, IDENTIFY bodies decoded, REGISTER/UNREGISTER
// re-encoded and re-parsed), or nsqlookupd -> nsqd replies (read_lookup_response).
#include <string>
#include <vector>

#include "fuzz/fuzz_target.hpp"
#include "fuzz/stream_feeder.hpp"
#include "nsq/protocol/lookup_v1.hpp"

namespace {

using nsq::protocol::LookupCommandType;
using nsq::protocol::LookupParseResult;
using nsq::protocol::LookupResponse;
using nsq::protocol::LookupV1Limits;
using nsq::protocol::LookupV1Parser;
using Status = LookupParseResult::Status;

std::string describe(const LookupParseResult& r) {
  std::string s = std::to_string(static_cast<int>(r.status)) + "|" + std::to_string(r.consumed);
  if (r.status == Status::kCommand) {
    s += "|" + std::to_string(static_cast<int>(r.command.type)) + "|" +
         std::string(r.command.topic) + "|" + std::string(r.command.channel) + "|" +
         std::string(r.command.body);
  }
  if (r.status == Status::kError) s += "|" + r.error.text();
  if (r.eof_error) s += "|eof " + r.eof_error->text();
  return s;
}

// A parsed REGISTER/UNREGISTER, encoded as nsqd would send it, parses back to itself.
void check_reencodes(const LookupV1Parser& parser, const LookupParseResult& r) {
  const auto& c = r.command;
  std::string wire;
  if (c.type == LookupCommandType::kRegister) {
    nsq::protocol::append_lookup_register(wire, c.topic, c.channel);
  } else if (c.type == LookupCommandType::kUnregister) {
    nsq::protocol::append_lookup_unregister(wire, c.topic, c.channel);
  } else {
    return;
  }
  const LookupParseResult again = parser.parse(wire, true);
  FUZZ_CHECK(again.status == Status::kCommand && again.consumed == wire.size());
  FUZZ_CHECK(again.command.type == c.type && again.command.topic == c.topic &&
             again.command.channel == c.channel);
}

std::vector<std::string> run_commands(std::string_view stream, size_t split,
                                      const LookupV1Limits& limits) {
  const LookupV1Parser parser(limits);
  bool identified = false;
  return nsq::fuzz::feed_in_two_pushes(stream, split, [&](std::string_view buf) {
    const LookupParseResult r = parser.parse(buf, identified);
    nsq::fuzz::StepVerdict v{
        .need_more = r.status == Status::kNeedMore,
        .end = r.status == Status::kError || r.status == Status::kCloseSilently,
        .consumed = r.consumed,
        .text = describe(r)};
    if (r.status != Status::kCommand) return v;
    FUZZ_CHECK(r.consumed > 0 && r.consumed <= buf.size());
    check_reencodes(parser, r);
    if (r.command.type == LookupCommandType::kIdentify) {
      nsq::protocol::LookupPeerIdentity peer;
      const auto err = nsq::protocol::decode_lookup_identify(r.command.body, peer);
      if (!err) {
        FUZZ_CHECK(!peer.broadcast_address.empty() && !peer.version.empty());
        identified = true;
      }
      v.text += err ? "|" + err->text() : "|identified";
    }
    return v;
  });
}

std::vector<std::string> run_replies(std::string_view stream, size_t split, int64_t limit) {
  return nsq::fuzz::feed_in_two_pushes(stream, split, [&](std::string_view buf) {
    const LookupResponse r = nsq::protocol::read_lookup_response(buf, limit);
    if (r.status == LookupResponse::Status::kResponse) {
      FUZZ_CHECK(r.consumed == r.data.size() + 4 && static_cast<int64_t>(r.data.size()) <= limit);
    }
    return nsq::fuzz::StepVerdict{.need_more = r.status == LookupResponse::Status::kNeedMore,
                                  .end = r.status == LookupResponse::Status::kError,
                                  .consumed = r.consumed,
                                  .text = std::string(r.data) + "|" + r.error};
  });
}

}  // namespace

NSQ_FUZZ_TARGET(lookup_v1) {
  if (size < 3) return 0;
  const uint8_t mode = data[0];
  const std::string_view stream = nsq::fuzz::as_view(data + 3, size - 3);
  const size_t split = nsq::fuzz::split_from(data[1], data[2], stream.size());
  if ((mode & 1) != 0) {
    const int64_t limit = (mode & 2) != 0 ? 16 : 1 << 20;
    FUZZ_CHECK(run_replies(stream, stream.size(), limit) == run_replies(stream, split, limit));
    return 0;
  }
  LookupV1Limits limits;
  if ((mode & 2) != 0) {  // small limits reach the long-line and big-body branches
    limits.max_line_length = 40;
    limits.max_identify_body = 256;
  }
  FUZZ_CHECK(run_commands(stream, stream.size(), limits) == run_commands(stream, split, limits));
  return 0;
}
