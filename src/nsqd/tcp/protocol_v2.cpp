#include "nsqd/tcp/protocol_v2.hpp"

#include <algorithm>
#include <chrono>
#include <span>

#include "common/gocompat/go_quote.hpp"
#include "common/log/logger.hpp"
#include "nsq/protocol/identify.hpp"
#include "nsqd/tcp/tls_config.hpp"

namespace nsq::nsqd {

using protocol::ClientState;
using protocol::CommandType;
using protocol::ProtocolError;

namespace {

ProtocolError fatal(std::string code, std::string message) {
  return ProtocolError{std::move(code), std::move(message), true};
}

}  // namespace

ProtocolV2::ProtocolV2(Nsqd& nsqd, ClientPort& port, int64_t client_id,
                       const std::string& remote_host)
    : nsqd_(nsqd),
      opts_(nsqd.options()),
      port_(port),
      id_(client_id),
      auth_enabled_(!nsqd.options().auth_http_addresses.empty()),
      tls_policy_required_(tls_required_mode(nsqd.options()) != TlsRequired::kNo),
      settings_(ClientSettings::defaults(nsqd.options())),
      client_id_(remote_host),
      hostname_(remote_host) {
  protocol::ParserLimits limits;
  limits.max_msg_size = opts_.max_msg_size;
  limits.max_body_size = opts_.max_body_size;
  limits.max_rdy_count = opts_.max_rdy_count;
  limits.max_req_timeout_ns = opts_.max_req_timeout.count();
  parser_.set_limits(limits);
  msg_timeout_ns_ = settings_.msg_timeout_ns;
}

ProtocolV2::InputResult ProtocolV2::consume(std::string_view input) {
  using Status = protocol::ParseResult::Status;
  InputResult out;
  while (port_.input_open() && !close_queued_ && !input_held_) {
    protocol::ConnContext ctx;
    ctx.state = state();
    ctx.heartbeats_enabled = settings_.heartbeat_interval_ns > 0;
    ctx.tls_required = tls_policy_required_ && !port_.tls_active();
    auto r = parser_.parse(input.substr(out.consumed), ctx);
    // Without auth a FIN needs no per-command check: batch it (see flush_pending_fins).
    if (r.status == Status::kCommand && r.command.type == CommandType::kFin && channel_ &&
        !auth_enabled_) {
      pending_fins_.push_back(r.command.id);
      out.consumed += r.consumed;
      pending_eof_error_.reset();
      port_.command_done();
      continue;
    }
    flush_pending_fins();
    switch (r.status) {
      case Status::kNeedMore:
        pending_eof_error_ = r.eof_error;
        out.need_total = r.need_total;
        return out;
      case Status::kCloseSilently:
        port_.close("failed to read command - line too long");
        return out;
      case Status::kError:
        if (!r.mpub_created_topic.empty()) {
          if (auth_enabled_) {
            // The reference checks MPUB's grant before it reads the body, so an
            // unauthorised client hears about auth, not about its body.
            const AuthCheck verdict = check_auth(CommandType::kMpub, r.mpub_created_topic, "");
            if (verdict == AuthCheck::kRefresh) return out;  // parsed again once refreshed
            if (verdict == AuthCheck::kDenied) {
              out.consumed += r.consumed;
              respond_close_after_flush();
              return out;
            }
          }
          nsqd_.get_topic(std::string(r.mpub_created_topic));
        }
        respond_error(r.error);
        out.consumed += r.consumed;
        pending_eof_error_.reset();
        if (r.error.fatal) {
          respond_close_after_flush();
          return out;
        }
        port_.command_done();
        break;
      case Status::kCommand:
        if (!out_queue_.empty() && needs_answered_queue(r.command.type)) {
          input_held_ = true;  // parsed again once the queue drains (drain_out_queue)
          return out;
        }
        pending_eof_error_.reset();
        if (auth_enabled_) {
          const AuthCheck verdict = check_auth(r.command.type, r.command.topic, r.command.channel);
          if (verdict == AuthCheck::kRefresh) return out;  // parsed again once refreshed
          if (verdict == AuthCheck::kDenied) {
            out.consumed += r.consumed;
            respond_close_after_flush();
            return out;
          }
        }
        execute(r.command);
        out.consumed += r.consumed;
        port_.command_done();
        break;
    }
  }
  flush_pending_fins();
  return out;
}

void ProtocolV2::flush_pending_fins() {
  if (pending_fins_.empty()) return;
  fin_errors_.clear();
  channel_->finish_many(id_, pending_fins_, fin_errors_, fin_release_);
  fin_release_.clear();  // the last references of finished messages, outside the lock
  for (const auto& e : fin_errors_) send_response_failed("FIN", pending_fins_[e.index], e.reason);
  pending_fins_.clear();
}

void ProtocolV2::execute(const protocol::Command& cmd) {
  switch (cmd.type) {
    case CommandType::kIdentify:
      exec_identify(cmd);
      break;
    case CommandType::kSub:
      exec_sub(cmd);
      break;
    case CommandType::kRdy:
      exec_rdy(cmd);
      break;
    case CommandType::kPub:
    case CommandType::kMpub:
    case CommandType::kDpub:
      exec_publish(cmd);
      break;
    case CommandType::kFin:
    case CommandType::kReq:
    case CommandType::kTouch:
      exec_response(cmd);
      break;
    case CommandType::kCls:
      ready_count_ = 0;
      state_ = static_cast<int32_t>(ClientState::kClosing);
      respond("CLOSE_WAIT");
      break;
    case CommandType::kNop:
      break;
    case CommandType::kAuth:
      exec_auth(cmd);
      break;
  }
}

void ProtocolV2::fail(const ProtocolError& err) {
  respond_error(err);
  respond_close_after_flush();
}

void ProtocolV2::exec_identify(const protocol::Command& cmd) {
  auto req = protocol::decode_identify(cmd.body);
  if (!req) {
    fail(fatal("E_BAD_BODY", "IDENTIFY failed to decode JSON body"));
    return;
  }
  // The reference's %+v of its identifyDataV2 struct, fields in its order.
  log::info(
      "[{}] IDENTIFY: {{ClientID:{} Hostname:{} HeartbeatInterval:{} OutputBufferSize:{} "
      "OutputBufferTimeout:{} FeatureNegotiation:{} TLSv1:{} Deflate:{} DeflateLevel:{} "
      "Snappy:{} SampleRate:{} UserAgent:{} MsgTimeout:{}}}",
      port_.remote_address(), req->client_id, req->hostname, req->heartbeat_interval,
      req->output_buffer_size, req->output_buffer_timeout, req->feature_negotiation, req->tls_v1,
      req->deflate, req->deflate_level, req->snappy, req->sample_rate, req->user_agent,
      req->msg_timeout);
  {
    std::lock_guard lock(meta_mu_);
    client_id_ = req->client_id;
    hostname_ = req->hostname;
    user_agent_ = req->user_agent;
  }
  ClientSettings s = settings_;
  if (auto err = apply_identify(*req, opts_, s)) {
    fail(fatal("E_BAD_BODY", "IDENTIFY " + *err));
    return;
  }
  const bool heartbeat_changed = s.heartbeat_interval_ns != settings_.heartbeat_interval_ns;
  settings_ = s;
  msg_timeout_ns_ = s.msg_timeout_ns;
  sample_rate_ = s.sample_rate;
  if (heartbeat_changed) port_.heartbeat_changed();
  if (!req->feature_negotiation) {
    respond("OK");
    return;
  }
  ServerFeatures server;
  server.auth = auth_enabled_;
  server.tls = nsqd_.tls_context() != nullptr;
  server.snappy = true;
  server.deflate = true;
  const NegotiatedFeatures features = negotiate_features(*req, opts_, server);
  // The reference refuses a client asking for both compressions while both are enabled by
  // flag, whatever else it negotiates.
  const bool both_requested = opts_.snappy && req->snappy && opts_.deflate && req->deflate;
  if (both_requested || (features.deflate && features.snappy)) {
    fail(fatal("E_IDENTIFY_FAILED", "cannot enable both deflate and snappy compression"));
    return;
  }
  respond(identify_reply_json(opts_, settings_, features, server.auth));
  // The client's next bytes are already TLS or compressed: the port holds input until the
  // reply is on the wire and the upgrade is done.
  if (features.tls || features.snappy || features.deflate) port_.start_upgrade(features);
}

void ProtocolV2::exec_sub(const protocol::Command& cmd) {
  const std::string topic_name(cmd.topic);
  const std::string channel_name(cmd.channel);
  // An #ephemeral topic/channel may be deleted between lookup and subscription; the
  // registry then hands out a fresh one, so a second attempt succeeds.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto topic = nsqd_.get_topic(topic_name);
    if (!topic) break;
    auto channel = topic->get_channel(channel_name);
    if (!channel) continue;
    switch (channel->add_consumer(port_.consumer())) {
      case Channel::AddResult::kOk:
        channel_ = std::move(channel);
        state_ = static_cast<int32_t>(ClientState::kSubscribed);
        respond("OK");
        return;
      case Channel::AddResult::kTooMany:
        fail(fatal("E_SUB_FAILED", "SUB failed consumers for " + topic_name + ":" + channel_name +
                                       " exceeds limit of " +
                                       std::to_string(opts_.max_channel_consumers)));
        return;
      case Channel::AddResult::kExiting:
        continue;
    }
  }
  fail(fatal("E_SUB_FAILED", "SUB failed to deleted topic/channel"));
}

void ProtocolV2::exec_rdy(const protocol::Command& cmd) {
  if (cmd.ignored) {
    log::info("PROTOCOL(V2): [{}] ignoring RDY after CLS in state ClientStateV2Closing",
              port_.remote_address());
    return;
  }
  const int64_t old = ready_count_.exchange(cmd.count);
  if (old != cmd.count && channel_) channel_->consumer_ready(id_);
}

void ProtocolV2::exec_publish(const protocol::Command& cmd) {
  const std::string_view name = protocol::command_name(cmd.type);
  const std::string topic_name(cmd.topic);
  auto topic = nsqd_.get_topic(topic_name);
  std::string err = "exiting";
  size_t count = 0;
  if (topic) {
    const std::string_view one[] = {cmd.body};
    const std::span<const std::string_view> bodies =
        cmd.type == CommandType::kMpub ? std::span<const std::string_view>(cmd.bodies) : one;
    const int64_t defer_ns = cmd.type == CommandType::kMpub ? 0 : cmd.defer_ns;
    count = bodies.size();
    if (topic->durable()) {
      // The OK waits for the commit (docs/persistence.md, "Durable mode"); parsing goes on,
      // so a pipelining publisher's next PUBs share the same fsync.
      if (!loop_post_) loop_post_ = port_.loop_post();
      const uint64_t seq = out_front_seq_ + out_queue_.size();
      OutSlot slot;
      slot.kind = OutSlot::Kind::kPublish;
      slot.ready = false;
      slot.topic = topic_name;
      slot.count = count;
      slot.command = cmd.type;
      out_queue_.push_back(std::move(slot));
      err = topic->publish(bodies, defer_ns, [post = loop_post_, this, seq](const std::string& e) {
        // `this` is only touched on the loop, and only while the connection is open.
        post([this, seq, e] { publish_committed(seq, e); });
      });
      if (err.empty()) return;
      out_queue_.pop_back();  // refused before anything was appended: answer in order
    } else {
      err = topic->publish(bodies, defer_ns);
    }
  }
  if (!err.empty()) {
    fail(fatal("E_" + std::string(name) + "_FAILED", std::string(name) + " failed " + err));
    return;
  }
  {
    std::lock_guard lock(meta_mu_);
    pub_counts_[topic_name] += count;
  }
  respond("OK");
}

void ProtocolV2::exec_response(const protocol::Command& cmd) {
  std::optional<std::string> err;
  const char* name = "FIN";
  if (!channel_) {
    err = "ID not in flight";
  } else if (cmd.type == CommandType::kFin) {
    err = channel_->finish(id_, cmd.id);
  } else if (cmd.type == CommandType::kReq) {
    name = "REQ";
    if (cmd.req_clamped) {
      log::info("PROTOCOL(V2): [{}] REQ timeout {} out of range 0-{}. Setting to {}",
                port_.remote_address(), cmd.req_requested_ns, opts_.max_req_timeout.count(),
                cmd.defer_ns);
    }
    err = channel_->requeue(id_, cmd.id, cmd.defer_ns);
  } else {
    name = "TOUCH";
    err = channel_->touch(id_, cmd.id, msg_timeout_ns_.load(std::memory_order_relaxed));
  }
  if (err) send_response_failed(name, cmd.id, *err);
}

void ProtocolV2::send_response_failed(std::string_view name, const MessageId& id,
                                      std::string_view reason) {
  respond_error(ProtocolError{"E_" + std::string(name) + "_FAILED",
                              std::string(name) + " " + std::string(protocol::id_view(id)) +
                                  " failed " + std::string(reason),
                              false});
}

// ---------------------------------------------------------------------------------------
// authorization (the reference's AUTH and CheckAuth)

void ProtocolV2::exec_auth(const protocol::Command& cmd) {
  if (auth_ && !auth_->grants.empty()) {
    fail(fatal("E_INVALID", "AUTH already set"));
    return;
  }
  if (!auth_enabled_) {
    fail(fatal("E_AUTH_DISABLED", "AUTH disabled"));
    return;
  }
  auth_secret_ = std::string(cmd.body);
  query_auth([this] {
    if (auth_->grants.empty()) {
      fail(fatal("E_UNAUTHORIZED", "AUTH no authorizations found"));
      return;
    }
    respond(auth_reply_json(*auth_));
  });
}

ProtocolV2::AuthCheck ProtocolV2::check_auth(CommandType type, std::string_view topic,
                                             std::string_view channel) {
  switch (type) {
    case CommandType::kSub:
    case CommandType::kPub:
    case CommandType::kMpub:
    case CommandType::kDpub:
      break;
    default:
      return AuthCheck::kAllowed;
  }
  const char* name = protocol::command_name(type);
  if (!auth_ || auth_->grants.empty()) {
    respond_error(fatal("E_AUTH_FIRST", std::string("AUTH required before ") + name));
    return AuthCheck::kDenied;
  }
  if (auth_->expired(std::chrono::steady_clock::now())) {
    query_auth([] {});
    return AuthCheck::kRefresh;
  }
  if (type != CommandType::kSub) channel = "";
  if (!auth_->allows(topic, channel)) {
    respond_error(fatal("E_UNAUTHORIZED", std::string("AUTH failed for ") + name + " on " +
                                              gocompat::go_quote(topic) + " " +
                                              gocompat::go_quote(channel)));
    return AuthCheck::kDenied;
  }
  return AuthCheck::kAllowed;
}

void ProtocolV2::query_auth(std::function<void()> then) {
  port_.query_auth(auth_secret_, [this, then = std::move(then)](std::optional<AuthState> state,
                                                                std::string error) {
    if (!state) {
      // As the reference: the auth server's error is logged, never shown to the client.
      log::warn("PROTOCOL(V2): [{}] AUTH failed {}", port_.remote_address(), error);
      fail(fatal("E_AUTH_FAILED", "AUTH failed"));
      return;
    }
    auth_ = std::move(*state);
    {
      std::lock_guard lock(meta_mu_);
      authed_ = !auth_->grants.empty();
      auth_identity_ = auth_->identity;
      auth_identity_url_ = auth_->identity_url;
    }
    then();
  });
}

// ---------------------------------------------------------------------------------------
// the session as its channel and /stats see it

void ProtocolV2::respond(std::string_view data) {
  if (out_queue_.empty()) return port_.send_response(data);
  OutSlot slot;
  slot.data = std::string(data);
  out_queue_.push_back(std::move(slot));
}

void ProtocolV2::respond_error(const ProtocolError& err) {
  if (out_queue_.empty()) return port_.send_error(err);
  OutSlot slot;
  slot.kind = OutSlot::Kind::kError;
  slot.error = err;
  out_queue_.push_back(std::move(slot));
}

void ProtocolV2::respond_close_after_flush() {
  if (out_queue_.empty()) return port_.close_after_flush();
  OutSlot slot;
  slot.kind = OutSlot::Kind::kCloseAfterFlush;
  out_queue_.push_back(std::move(slot));
  close_queued_ = true;
}

bool ProtocolV2::needs_answered_queue(CommandType type) {
  return type == CommandType::kIdentify || type == CommandType::kAuth || type == CommandType::kSub;
}

void ProtocolV2::publish_committed(uint64_t seq, const std::string& error) {
  if (seq < out_front_seq_ || seq - out_front_seq_ >= out_queue_.size()) return;  // detached
  OutSlot& slot = out_queue_[seq - out_front_seq_];
  slot.ready = true;
  if (!error.empty()) {
    const std::string name(protocol::command_name(slot.command));
    slot.kind = OutSlot::Kind::kError;
    slot.error = fatal("E_" + name + "_FAILED", name + " failed " + error);
    // Nothing after a failed publish runs: the connection closes once it is answered.
    OutSlot close;
    close.kind = OutSlot::Kind::kCloseAfterFlush;
    out_queue_.insert(out_queue_.begin() + static_cast<std::ptrdiff_t>(seq - out_front_seq_ + 1),
                      std::move(close));
    close_queued_ = true;
  }
  drain_out_queue();
}

void ProtocolV2::drain_out_queue() {
  while (!out_queue_.empty() && out_queue_.front().ready) {
    OutSlot slot = std::move(out_queue_.front());
    out_queue_.pop_front();
    ++out_front_seq_;
    switch (slot.kind) {
      case OutSlot::Kind::kResponse:
        port_.send_response(slot.data);
        break;
      case OutSlot::Kind::kError:
        port_.send_error(slot.error);
        break;
      case OutSlot::Kind::kPublish: {
        {
          std::lock_guard lock(meta_mu_);
          pub_counts_[slot.topic] += slot.count;
        }
        port_.send_response("OK");
        break;
      }
      case OutSlot::Kind::kCloseAfterFlush:
        // The rest of the queue is answers to commands after the fatal one: dropped, as
        // the reference never reads them.
        out_front_seq_ += out_queue_.size();
        out_queue_.clear();
        port_.close_after_flush();
        return;
    }
  }
  if (out_queue_.empty() && input_held_) {
    input_held_ = false;
    port_.resume_input();
  }
}

void ProtocolV2::detach() {
  out_front_seq_ += out_queue_.size();
  out_queue_.clear();
  state_ = static_cast<int32_t>(ClientState::kClosing);
  if (channel_) {
    channel_->remove_consumer(id_);
    channel_.reset();
  }
  pending_fins_.clear();
}

bool ProtocolV2::ready_for_message() const {
  const int64_t rdy = ready_count_.load(std::memory_order_relaxed);
  return rdy > 0 && in_flight_count_.load(std::memory_order_relaxed) < rdy;
}

int64_t ProtocolV2::ready_capacity() const {
  return std::max<int64_t>(0, ready_count_.load(std::memory_order_relaxed) -
                                  in_flight_count_.load(std::memory_order_relaxed));
}

void ProtocolV2::on_delivered() {
  in_flight_count_.fetch_add(1, std::memory_order_relaxed);
  message_count_.fetch_add(1, std::memory_order_relaxed);
}

void ProtocolV2::message_done(Consumer::Outcome outcome) {
  if (outcome == Consumer::Outcome::kFinished) {
    finish_count_.fetch_add(1, std::memory_order_relaxed);
  }
  if (outcome == Consumer::Outcome::kRequeued) {
    requeue_count_.fetch_add(1, std::memory_order_relaxed);
  }
  in_flight_count_.fetch_sub(1, std::memory_order_relaxed);
}

void ProtocolV2::in_flight_reset() {
  in_flight_count_.store(0, std::memory_order_relaxed);
}

void ProtocolV2::fill_stats(ClientStats& s) const {
  s.id = id_;
  s.state = state_.load();
  s.ready_count = ready_count_.load();
  s.in_flight_count = in_flight_count_.load();
  s.message_count = message_count_.load();
  s.finish_count = finish_count_.load();
  s.requeue_count = requeue_count_.load();
  s.sample_rate = sample_rate_.load();
  std::lock_guard lock(meta_mu_);
  s.client_id = client_id_;
  s.hostname = hostname_;
  s.user_agent = user_agent_;
  s.pub_counts = pub_counts_;
  s.authed = authed_;
  s.auth_identity = auth_identity_;
  s.auth_identity_url = auth_identity_url_;
}

}  // namespace nsq::nsqd
