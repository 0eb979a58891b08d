#include "nsq/protocol/v2_parser.hpp"

#include <cassert>
#include <cstring>

#include "common/gocompat/go_quote.hpp"
#include "nsq/protocol/names.hpp"

namespace nsq::protocol {

const char* command_name(CommandType type) {
  switch (type) {
    case CommandType::kIdentify:
      return "IDENTIFY";
    case CommandType::kAuth:
      return "AUTH";
    case CommandType::kSub:
      return "SUB";
    case CommandType::kPub:
      return "PUB";
    case CommandType::kMpub:
      return "MPUB";
    case CommandType::kDpub:
      return "DPUB";
    case CommandType::kRdy:
      return "RDY";
    case CommandType::kFin:
      return "FIN";
    case CommandType::kReq:
      return "REQ";
    case CommandType::kTouch:
      return "TOUCH";
    case CommandType::kCls:
      return "CLS";
    case CommandType::kNop:
      return "NOP";
  }
  return "?";
}

namespace {

using Status = ParseResult::Status;

ParseResult error_result(std::string code, std::string message, size_t consumed,
                         bool fatal = true) {
  ParseResult r;
  r.status = Status::kError;
  r.consumed = consumed;
  r.error = ProtocolError{std::move(code), std::move(message), fatal};
  return r;
}

ParseResult need_more(size_t need_total, std::optional<ProtocolError> eof_error) {
  ParseResult r;
  r.status = Status::kNeedMore;
  r.need_total = need_total;
  r.eof_error = std::move(eof_error);
  return r;
}

ProtocolError fatal(std::string code, std::string message) {
  return ProtocolError{std::move(code), std::move(message), true};
}

std::string str(std::string_view v) {
  return std::string(v);
}

// Go's time.Duration(ms) * time.Millisecond with int64 wrap-around.
int64_t ms_to_ns_wrapping(uint64_t ms) {
  return static_cast<int64_t>(ms * 1000000ULL);
}

void split_params(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  size_t start = 0;
  while (true) {
    size_t sp = line.find(' ', start);
    if (sp == std::string_view::npos) {
      out.push_back(line.substr(start));
      return;
    }
    out.push_back(line.substr(start, sp - start));
    start = sp + 1;
  }
}

bool state_is_subscribed_or_closing(ClientState s) {
  return s == ClientState::kSubscribed || s == ClientState::kClosing;
}

ParseResult command_result(Command cmd, size_t consumed) {
  ParseResult r;
  r.status = Status::kCommand;
  r.consumed = consumed;
  r.command = cmd;
  return r;
}

}  // namespace

bool parse_base10(std::string_view text, uint64_t& out) {
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      out = 0;
      return false;
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  out = n;
  return true;
}

void V2Parser::reset_mpub_scan() {
  mpub_count_ = -1;
  mpub_offset_ = 0;
  mpub_spans_.clear();
}

ParseResult V2Parser::parse(std::string_view data, const ConnContext& ctx) {
  const size_t scan = std::min(data.size(), limits_.max_line_length);
  const void* nl = std::memchr(data.data(), '\n', scan);
  if (nl == nullptr) {
    if (data.size() >= limits_.max_line_length) {
      ParseResult r;
      r.status = Status::kCloseSilently;
      return r;
    }
    return need_more(0, std::nullopt);
  }
  const size_t line_end = static_cast<size_t>(static_cast<const char*>(nl) - data.data()) + 1;
  std::string_view line = data.substr(0, line_end - 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  split_params(line, params_);
  const std::string_view name = params_[0];

  if (name == "IDENTIFY") {
    if (ctx.state != ClientState::kInit) {
      return error_result("E_INVALID", "cannot IDENTIFY in current state", line_end);
    }
    return parse_identify_or_auth(data, line_end, false);
  }

  if (ctx.tls_required) {
    return error_result("E_INVALID", "cannot " + str(name) + " in current state (TLS required)",
                        line_end);
  }

  const size_t nparams = params_.size();
  Command cmd;

  if (name == "FIN" || name == "TOUCH" || name == "REQ") {
    if (!state_is_subscribed_or_closing(ctx.state)) {
      return error_result("E_INVALID", "cannot " + str(name) + " in current state", line_end);
    }
    const size_t want = name == "REQ" ? 3 : 2;
    if (nparams < want) {
      return error_result("E_INVALID", str(name) + " insufficient number of params", line_end);
    }
    if (params_[1].size() != kMessageIdSize) {
      return error_result("E_INVALID", "invalid message ID", line_end);
    }
    cmd.id = message_id_from_bytes(params_[1]);
    if (name == "FIN") {
      cmd.type = CommandType::kFin;
    } else if (name == "TOUCH") {
      cmd.type = CommandType::kTouch;
    } else {
      cmd.type = CommandType::kReq;
      uint64_t ms = 0;
      if (!parse_base10(params_[2], ms)) {
        return error_result("E_INVALID", "REQ could not parse timeout " + str(params_[2]),
                            line_end);
      }
      const int64_t requested = ms_to_ns_wrapping(ms);
      int64_t clamped = requested;
      if (clamped < 0) {
        clamped = 0;
      } else if (clamped > limits_.max_req_timeout_ns) {
        clamped = limits_.max_req_timeout_ns;
      }
      cmd.req_requested_ns = requested;
      cmd.req_clamped = clamped != requested;
      cmd.defer_ns = clamped;
    }
    return command_result(cmd, line_end);
  }

  if (name == "RDY") {
    if (ctx.state == ClientState::kClosing) {
      cmd.type = CommandType::kRdy;
      cmd.ignored = true;
      return command_result(cmd, line_end);
    }
    if (ctx.state != ClientState::kSubscribed) {
      return error_result("E_INVALID", "cannot RDY in current state", line_end);
    }
    int64_t count = 1;
    if (nparams > 1) {
      uint64_t v = 0;
      if (!parse_base10(params_[1], v)) {
        return error_result("E_INVALID", "RDY could not parse count " + str(params_[1]), line_end);
      }
      count = static_cast<int64_t>(v);
    }
    if (count < 0 || count > limits_.max_rdy_count) {
      return error_result("E_INVALID",
                          "RDY count " + std::to_string(count) + " out of range 0-" +
                              std::to_string(limits_.max_rdy_count),
                          line_end);
    }
    cmd.type = CommandType::kRdy;
    cmd.count = count;
    return command_result(cmd, line_end);
  }

  if (name == "PUB") {
    if (nparams < 2) {
      return error_result("E_INVALID", "PUB insufficient number of parameters", line_end);
    }
    if (!is_valid_topic_name(params_[1])) {
      return error_result("E_BAD_TOPIC",
                          "PUB topic name " + gocompat::go_quote(params_[1]) + " is not valid",
                          line_end);
    }
    return parse_pub(data, line_end, "PUB", params_[1], 0);
  }

  if (name == "MPUB") {
    if (nparams < 2) {
      return error_result("E_INVALID", "MPUB insufficient number of parameters", line_end);
    }
    if (!is_valid_topic_name(params_[1])) {
      // The reference repeats the code inside the description [compat].
      return error_result(
          "E_BAD_TOPIC",
          "E_BAD_TOPIC MPUB topic name " + gocompat::go_quote(params_[1]) + " is not valid",
          line_end);
    }
    return parse_mpub(data, line_end, params_[1]);
  }

  if (name == "DPUB") {
    if (nparams < 3) {
      return error_result("E_INVALID", "DPUB insufficient number of parameters", line_end);
    }
    if (!is_valid_topic_name(params_[1])) {
      return error_result("E_BAD_TOPIC",
                          "DPUB topic name " + gocompat::go_quote(params_[1]) + " is not valid",
                          line_end);
    }
    uint64_t ms = 0;
    if (!parse_base10(params_[2], ms)) {
      return error_result("E_INVALID", "DPUB could not parse timeout " + str(params_[2]), line_end);
    }
    const int64_t defer_ns = ms_to_ns_wrapping(ms);
    if (defer_ns < 0 || defer_ns > limits_.max_req_timeout_ns) {
      return error_result("E_INVALID",
                          "DPUB timeout " + std::to_string(ms) + " out of range 0-" +
                              std::to_string(limits_.max_req_timeout_ns / 1000000),
                          line_end);
    }
    return parse_pub(data, line_end, "DPUB", params_[1], defer_ns);
  }

  if (name == "NOP") {
    cmd.type = CommandType::kNop;
    return command_result(cmd, line_end);
  }

  if (name == "SUB") {
    if (ctx.state != ClientState::kInit) {
      return error_result("E_INVALID", "cannot SUB in current state", line_end);
    }
    if (!ctx.heartbeats_enabled) {
      return error_result("E_INVALID", "cannot SUB with heartbeats disabled", line_end);
    }
    if (nparams < 3) {
      return error_result("E_INVALID", "SUB insufficient number of parameters", line_end);
    }
    if (!is_valid_topic_name(params_[1])) {
      return error_result("E_BAD_TOPIC",
                          "SUB topic name " + gocompat::go_quote(params_[1]) + " is not valid",
                          line_end);
    }
    if (!is_valid_channel_name(params_[2])) {
      return error_result("E_BAD_CHANNEL",
                          "SUB channel name " + gocompat::go_quote(params_[2]) + " is not valid",
                          line_end);
    }
    cmd.type = CommandType::kSub;
    cmd.topic = params_[1];
    cmd.channel = params_[2];
    return command_result(cmd, line_end);
  }

  if (name == "CLS") {
    if (ctx.state != ClientState::kSubscribed) {
      return error_result("E_INVALID", "cannot CLS in current state", line_end);
    }
    cmd.type = CommandType::kCls;
    return command_result(cmd, line_end);
  }

  if (name == "AUTH") {
    if (ctx.state != ClientState::kInit) {
      return error_result("E_INVALID", "cannot AUTH in current state", line_end);
    }
    if (nparams != 1) {
      return error_result("E_INVALID", "AUTH invalid number of parameters", line_end);
    }
    return parse_identify_or_auth(data, line_end, true);
  }

  return error_result("E_INVALID", "invalid command " + str(name), line_end);
}

ParseResult V2Parser::parse_identify_or_auth(std::string_view data, size_t line_end, bool is_auth) {
  const std::string prefix = is_auth ? "AUTH" : "IDENTIFY";
  if (data.size() < line_end + 4) {
    return need_more(line_end + 4, fatal("E_BAD_BODY", prefix + " failed to read body size"));
  }
  const int32_t size = read_be32s(data.data() + line_end);
  // Both check "too big" before "invalid size", unlike PUB.
  if (static_cast<int64_t>(size) > limits_.max_body_size) {
    return error_result("E_BAD_BODY",
                        prefix + " body too big " + std::to_string(size) + " > " +
                            std::to_string(limits_.max_body_size),
                        line_end + 4);
  }
  if (size <= 0) {
    return error_result("E_BAD_BODY", prefix + " invalid body size " + std::to_string(size),
                        line_end + 4);
  }
  const size_t total = line_end + 4 + static_cast<size_t>(size);
  if (data.size() < total) {
    return need_more(total, fatal("E_BAD_BODY", prefix + " failed to read body"));
  }
  Command cmd;
  cmd.type = is_auth ? CommandType::kAuth : CommandType::kIdentify;
  cmd.body = data.substr(line_end + 4, static_cast<size_t>(size));
  return command_result(cmd, total);
}

ParseResult V2Parser::parse_pub(std::string_view data, size_t line_end, std::string_view name,
                                std::string_view topic, int64_t defer_ns) {
  const std::string prefix(name);
  if (data.size() < line_end + 4) {
    return need_more(line_end + 4,
                     fatal("E_BAD_MESSAGE", prefix + " failed to read message body size"));
  }
  const int32_t size = read_be32s(data.data() + line_end);
  if (size <= 0) {
    return error_result("E_BAD_MESSAGE",
                        prefix + " invalid message body size " + std::to_string(size),
                        line_end + 4);
  }
  if (static_cast<int64_t>(size) > limits_.max_msg_size) {
    return error_result("E_BAD_MESSAGE",
                        prefix + " message too big " + std::to_string(size) + " > " +
                            std::to_string(limits_.max_msg_size),
                        line_end + 4);
  }
  const size_t total = line_end + 4 + static_cast<size_t>(size);
  if (data.size() < total) {
    return need_more(total, fatal("E_BAD_MESSAGE", prefix + " failed to read message body"));
  }
  Command cmd;
  cmd.type = name == "DPUB" ? CommandType::kDpub : CommandType::kPub;
  cmd.topic = topic;
  cmd.body = data.substr(line_end + 4, static_cast<size_t>(size));
  cmd.defer_ns = defer_ns;
  return command_result(cmd, total);
}

ParseResult V2Parser::parse_mpub(std::string_view data, size_t line_end, std::string_view topic) {
  auto fail = [&](std::string code, std::string message, size_t consumed) {
    reset_mpub_scan();
    ParseResult r = error_result(std::move(code), std::move(message), consumed);
    r.mpub_created_topic = topic;
    return r;
  };
  auto wait = [&](size_t need_total, std::string code, std::string message) {
    ParseResult r = need_more(need_total, fatal(std::move(code), std::move(message)));
    return r;
  };

  if (data.size() < line_end + 4) {
    return wait(line_end + 4, "E_BAD_BODY", "MPUB failed to read body size");
  }
  const int32_t body_size = read_be32s(data.data() + line_end);
  if (body_size <= 0) {
    return fail("E_BAD_BODY", "MPUB invalid body size " + std::to_string(body_size), line_end + 4);
  }
  if (static_cast<int64_t>(body_size) > limits_.max_body_size) {
    return fail("E_BAD_BODY",
                "MPUB body too big " + std::to_string(body_size) + " > " +
                    std::to_string(limits_.max_body_size),
                line_end + 4);
  }
  if (data.size() < line_end + 8) {
    return wait(line_end + 8, "E_BAD_BODY", "MPUB failed to read message count");
  }
  const int32_t count = read_be32s(data.data() + line_end + 4);
  const int64_t max_messages = (limits_.max_body_size - 4) / 5;
  if (count <= 0 || static_cast<int64_t>(count) > max_messages) {
    return fail("E_BAD_BODY", "MPUB invalid message count " + std::to_string(count), line_end + 8);
  }

  // Resume the scan where the previous call stopped (the caller keeps the same command start).
  if (mpub_count_ != count || mpub_offset_ < line_end + 8) {
    reset_mpub_scan();
    mpub_count_ = count;
    mpub_offset_ = line_end + 8;
  }
  // The stated contract (v2_parser.hpp): after kNeedMore the caller appends, never drops, so
  // the bodies scanned so far are still in `data`.
  assert(data.size() >= mpub_offset_);
  // Bodies are remembered as offsets: the caller's buffer may move between calls.
  while (static_cast<int64_t>(mpub_spans_.size()) < count) {
    const size_t index = mpub_spans_.size();
    if (data.size() < mpub_offset_ + 4) {
      return wait(mpub_offset_ + 4, "E_BAD_MESSAGE",
                  "MPUB failed to read message(" + std::to_string(index) + ") body size");
    }
    const int32_t size = read_be32s(data.data() + mpub_offset_);
    if (size <= 0) {
      return fail(
          "E_BAD_MESSAGE",
          "MPUB invalid message(" + std::to_string(index) + ") body size " + std::to_string(size),
          mpub_offset_ + 4);
    }
    if (static_cast<int64_t>(size) > limits_.max_msg_size) {
      return fail("E_BAD_MESSAGE",
                  "MPUB message too big " + std::to_string(size) + " > " +
                      std::to_string(limits_.max_msg_size),
                  mpub_offset_ + 4);
    }
    const size_t end = mpub_offset_ + 4 + static_cast<size_t>(size);
    if (data.size() < end) {
      return wait(end, "E_BAD_MESSAGE", "MPUB failed to read message body");
    }
    mpub_spans_.emplace_back(mpub_offset_ + 4, static_cast<size_t>(size));
    mpub_offset_ = end;
  }
  mpub_bodies_.clear();
  for (const auto& [offset, size] : mpub_spans_) mpub_bodies_.push_back(data.substr(offset, size));
  Command cmd;
  cmd.type = CommandType::kMpub;
  cmd.topic = topic;
  cmd.bodies = std::span<const std::string_view>(mpub_bodies_);
  const size_t consumed = mpub_offset_;
  // The next command starts a fresh scan; mpub_bodies_ stays valid for the caller until then.
  mpub_count_ = -1;
  mpub_offset_ = 0;
  mpub_spans_.clear();
  return command_result(cmd, consumed);
}

}  // namespace nsq::protocol
