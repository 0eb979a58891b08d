#include "nsqd/tcp/client_v2.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstring>

#include "common/gocompat/go_quote.hpp"
#include "common/log/logger.hpp"
#include "common/net/address.hpp"
#include "nsq/codec/deflate_stream.hpp"
#include "nsq/codec/snappy_stream.hpp"
#include "nsq/protocol/identify.hpp"
#include "nsqd/tcp/auth_query.hpp"
#include "nsqd/tcp/tls_config.hpp"

namespace nsq::nsqd {

namespace asio = boost::asio;
using protocol::ClientState;
using protocol::CommandType;
using protocol::FrameType;
using protocol::ProtocolError;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Past this many unsent bytes the connection stops taking commands until the peer reads
// (every buffer is bounded; docs/architecture.md): a publisher that never reads its OKs costs its
// own buffer, bounded.
constexpr size_t kMaxOutputBacklog = 4 * 1024 * 1024;
// Keep at most this much buffer capacity around between bursts.
constexpr size_t kRetainedBufferCapacity = 1024 * 1024;
constexpr int64_t kTlsHandshakeTimeoutNs = 5LL * 1000 * 1000 * 1000;

ProtocolError fatal(std::string code, std::string message) {
  return ProtocolError{std::move(code), std::move(message), true};
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ClientV2::ClientV2(Nsqd& nsqd, asio::ip::tcp::socket socket, int64_t id, CloseCallback on_close)
    : nsqd_(nsqd),
      opts_(nsqd.options()),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      id_(id),
      on_close_(std::move(on_close)),
      connect_ts_(unix_seconds()),
      settings_(ClientSettings::defaults(nsqd.options())) {
  protocol::ParserLimits limits;
  limits.max_msg_size = opts_.max_msg_size;
  limits.max_body_size = opts_.max_body_size;
  limits.max_rdy_count = opts_.max_rdy_count;
  limits.max_req_timeout_ns = opts_.max_req_timeout.count();
  parser_.set_limits(limits);
  msg_timeout_ns_ = settings_.msg_timeout_ns;
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    remote_address_ = net::endpoint_string(ep);
    remote_host_ = ep.address().to_string();
  }
  tls_policy_required_ = tls_required_mode(opts_) != TlsRequired::kNo;
  // Until IDENTIFY, the client is known by its address (as in the reference's /stats).
  client_id_ = remote_host_;
  hostname_ = remote_host_;
}

ClientV2::~ClientV2() = default;

void ClientV2::start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    log::info("TCP: new client({})", self->remote_address_);
    self->in_buf_.resize(kReadChunk);
    // The magic must arrive within the client timeout.
    self->read_deadline_ns_ = steady_now_ns() + self->opts_.client_timeout.count();
    self->arm_timer();
    self->do_read();
  });
}

void ClientV2::stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close("shutdown"); });
}

void ClientV2::disconnect() {
  asio::post(socket_.get_executor(),
             [self = shared_from_this()] { self->close("channel deleted"); });
}

// ---------------------------------------------------------------------------------------
// reading and command dispatch

template <class Handler>
void ClientV2::async_read_some(asio::mutable_buffer buf, Handler&& handler) {
  if (tls_) {
    tls_->async_read_some(buf, std::forward<Handler>(handler));
  } else {
    socket_.async_read_some(buf, std::forward<Handler>(handler));
  }
}

template <class Handler>
void ClientV2::async_write_all(asio::const_buffer buf, Handler&& handler) {
  if (tls_) {
    asio::async_write(*tls_, buf, std::forward<Handler>(handler));
  } else {
    asio::async_write(socket_, buf, std::forward<Handler>(handler));
  }
}

void ClientV2::do_read() {
  if (reading_ || closed_ || closing_after_flush_ || input_paused_ || upgrading_ || auth_pending_) {
    return;
  }
  if (codec_) {
    if (codec_->has_backlog()) {
      // The codec held back decoded bytes (bounded expansion): drain it before reading.
      reading_ = true;
      asio::post(socket_.get_executor(), [self = shared_from_this()] {
        self->reading_ = false;
        if (self->closed_ || self->closing_after_flush_) return;
        if (!self->decode_input({})) return;
        self->process_input();
        self->do_read();
      });
      return;
    }
    // Compressed: read the wire bytes aside; on_read decodes them into in_buf_.
    if (raw_in_.empty()) raw_in_.resize(kReadChunk);
    reading_ = true;
    async_read_some(asio::buffer(raw_in_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                      self->on_read(ec, n);
                    });
    return;
  }
  if (in_start_ == in_end_) in_start_ = in_end_ = 0;
  if (in_buf_.size() - in_end_ < kReadChunk / 4 && in_start_ > 0) {
    std::memmove(in_buf_.data(), in_buf_.data() + in_start_, in_end_ - in_start_);
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  if (in_buf_.size() - in_end_ < kReadChunk / 4) in_buf_.resize(in_buf_.size() + kReadChunk);
  reading_ = true;
  async_read_some(asio::buffer(in_buf_.data() + in_end_, in_buf_.size() - in_end_),
                  [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                    self->on_read(ec, n);
                  });
}

void ClientV2::on_read(const boost::system::error_code& ec, size_t n) {
  reading_ = false;
  if (closed_ || closing_after_flush_) return;
  if (ec) {
    // A TLS peer that closes without close_notify is an ordinary EOF here.
    const bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    // A command cut short by EOF gets the reference's "failed to read" error first.
    if (pending_eof_error_ && eof) {
      send_error(*pending_eof_error_);
      close_after_flush();
      return;
    }
    close(eof ? "EOF" : "failed to read command - " + ec.message());
    return;
  }
  if (codec_) {
    if (!decode_input(std::string_view(raw_in_.data(), n))) return;
  } else {
    in_end_ += n;
  }
  process_input();
  do_read();
}

bool ClientV2::decode_input(std::string_view wire) {
  decoded_in_.clear();
  if (!codec_->decode(wire, decoded_in_)) {
    close("failed to read command - " + codec_->error());
    return false;
  }
  append_input(decoded_in_);
  return true;
}

void ClientV2::append_input(std::string_view bytes) {
  if (bytes.empty()) return;
  if (in_start_ == in_end_) in_start_ = in_end_ = 0;
  if (in_buf_.size() - in_end_ < bytes.size() && in_start_ > 0) {
    std::memmove(in_buf_.data(), in_buf_.data() + in_start_, in_end_ - in_start_);
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  if (in_buf_.size() - in_end_ < bytes.size()) in_buf_.resize(in_end_ + bytes.size());
  std::memcpy(in_buf_.data() + in_end_, bytes.data(), bytes.size());
  in_end_ += bytes.size();
}

bool ClientV2::check_magic() {
  if (in_end_ - in_start_ < 4) return false;
  std::string_view magic(in_buf_.data() + in_start_, 4);
  in_start_ += 4;
  if (magic != protocol::kMagicV2) {
    log::error("client({}) bad protocol magic '{}'", remote_address_, magic);
    std::lock_guard lock(out_mu_);
    std::string frame;
    protocol::append_frame(frame, FrameType::kError, "E_BAD_PROTOCOL");
    append_output_locked(frame);
    closing_after_flush_ = true;
    return false;
  }
  magic_ok_ = true;
  const int64_t now = steady_now_ns();
  if (settings_.heartbeat_interval_ns > 0)
    next_heartbeat_ns_ = now + settings_.heartbeat_interval_ns;
  reset_read_deadline();
  arm_timer();
  return true;
}

void ClientV2::reset_read_deadline() {
  read_deadline_ns_ = settings_.heartbeat_interval_ns > 0
                          ? coarse_now_ns() + 2 * settings_.heartbeat_interval_ns
                          : 0;
}

void ClientV2::process_input() {
  if (!magic_ok_ && !check_magic()) return;
  while (!closed_ && !closing_after_flush_ && !input_paused_ && !upgrading_ && !auth_pending_) {
    std::string_view data(in_buf_.data() + in_start_, in_end_ - in_start_);
    protocol::ConnContext ctx;
    ctx.state = static_cast<ClientState>(state_.load(std::memory_order_relaxed));
    ctx.heartbeats_enabled = settings_.heartbeat_interval_ns > 0;
    ctx.tls_required = tls_policy_required_ && !tls_;
    auto r = parser_.parse(data, ctx);
    using Status = protocol::ParseResult::Status;
    // Without auth a FIN needs no per-command check: batch it (see flush_pending_fins).
    if (r.status == Status::kCommand && r.command.type == CommandType::kFin && channel_ &&
        opts_.auth_http_addresses.empty()) {
      pending_fins_.push_back(r.command.id);
      in_start_ += r.consumed;
      pending_eof_error_.reset();
      reset_read_deadline();
      continue;
    }
    flush_pending_fins();
    switch (r.status) {
      case Status::kNeedMore:
        pending_eof_error_ = r.eof_error;
        if (r.need_total > in_buf_.size() - in_start_) {
          // Make room for the whole frame (bounded by the parser's size limits).
          if (in_start_ > 0) {
            std::memmove(in_buf_.data(), in_buf_.data() + in_start_, in_end_ - in_start_);
            in_end_ -= in_start_;
            in_start_ = 0;
          }
          in_buf_.resize(std::max(in_buf_.size(), r.need_total + kReadChunk / 4));
        }
        return;
      case Status::kCloseSilently:
        close("failed to read command - line too long");
        return;
      case Status::kError:
        if (!r.mpub_created_topic.empty()) {
          if (!opts_.auth_http_addresses.empty()) {
            // The reference checks MPUB's grant before it reads the body, so an
            // unauthorised client hears about auth, not about its body.
            protocol::Command mpub;
            mpub.type = CommandType::kMpub;
            mpub.topic = r.mpub_created_topic;
            const AuthCheck verdict = check_auth(mpub);
            if (verdict == AuthCheck::kRefresh) return;  // parsed again once refreshed
            if (verdict == AuthCheck::kDenied) {
              in_start_ += r.consumed;
              close_after_flush();
              return;
            }
          }
          nsqd_.get_topic(std::string(r.mpub_created_topic));
        }
        send_error(r.error);
        in_start_ += r.consumed;
        pending_eof_error_.reset();
        if (r.error.fatal) {
          close_after_flush();
          return;
        }
        reset_read_deadline();
        break;
      case Status::kCommand:
        pending_eof_error_.reset();
        if (!opts_.auth_http_addresses.empty()) {
          const AuthCheck verdict = check_auth(r.command);
          if (verdict == AuthCheck::kRefresh) return;  // parsed again once refreshed
          if (verdict == AuthCheck::kDenied) {
            in_start_ += r.consumed;
            close_after_flush();
            return;
          }
        }
        execute(r.command);
        in_start_ += r.consumed;
        reset_read_deadline();
        break;
    }
    std::lock_guard lock(out_mu_);
    if (out_pending_.size() > kMaxOutputBacklog) input_paused_ = true;
  }
  flush_pending_fins();
}

void ClientV2::flush_pending_fins() {
  if (pending_fins_.empty()) return;
  fin_errors_.clear();
  channel_->finish_many(id_, pending_fins_, fin_errors_, fin_release_);
  fin_release_.clear();  // the last references of finished messages, outside the lock
  for (const auto& e : fin_errors_) send_response_failed("FIN", pending_fins_[e.index], e.reason);
  pending_fins_.clear();
}

void ClientV2::execute(const protocol::Command& cmd) {
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
      send_response("CLOSE_WAIT");
      break;
    case CommandType::kNop:
      break;
    case CommandType::kAuth:
      exec_auth(cmd);
      break;
  }
}

void ClientV2::exec_identify(const protocol::Command& cmd) {
  auto req = protocol::decode_identify(cmd.body);
  if (!req) {
    send_error(fatal("E_BAD_BODY", "IDENTIFY failed to decode JSON body"));
    close_after_flush();
    return;
  }
  log::info(
      "[{}] IDENTIFY: client_id={} hostname={} user_agent={} heartbeat_interval={} "
      "msg_timeout={} feature_negotiation={}",
      remote_address_, req->client_id, req->hostname, req->user_agent, req->heartbeat_interval,
      req->msg_timeout, req->feature_negotiation);
  {
    std::lock_guard lock(meta_mu_);
    client_id_ = req->client_id;
    hostname_ = req->hostname;
    user_agent_ = req->user_agent;
  }
  ClientSettings s = settings_;
  if (auto err = apply_identify(*req, opts_, s)) {
    send_error(fatal("E_BAD_BODY", "IDENTIFY " + *err));
    close_after_flush();
    return;
  }
  const bool heartbeat_changed = s.heartbeat_interval_ns != settings_.heartbeat_interval_ns;
  settings_ = s;
  msg_timeout_ns_ = s.msg_timeout_ns;
  sample_rate_ = s.sample_rate;
  if (heartbeat_changed) {
    next_heartbeat_ns_ =
        s.heartbeat_interval_ns > 0 ? steady_now_ns() + s.heartbeat_interval_ns : 0;
    reset_read_deadline();
    arm_timer();
  }
  if (!req->feature_negotiation) {
    send_response("OK");
    return;
  }
  ServerFeatures server;
  server.auth = !opts_.auth_http_addresses.empty();
  server.tls = nsqd_.tls_context() != nullptr;
  server.snappy = true;
  server.deflate = true;
  const NegotiatedFeatures features = negotiate_features(*req, opts_, server);
  // The reference refuses a client asking for both compressions while both are enabled by
  // flag; clients see the same answer from us even before compression is built.
  const bool both_requested = opts_.snappy && req->snappy && opts_.deflate && req->deflate;
  if (both_requested || (features.deflate && features.snappy)) {
    send_error(fatal("E_IDENTIFY_FAILED", "cannot enable both deflate and snappy compression"));
    close_after_flush();
    return;
  }
  send_response(identify_reply_json(opts_, settings_, features, server.auth));
  if (features.tls || features.snappy || features.deflate) {
    // Input stays paused until the reply is on the wire and the upgrade is done: the
    // client's next bytes are already TLS or compressed.
    pending_upgrade_ = features;
    upgrading_ = true;
  }
}

void ClientV2::exec_sub(const protocol::Command& cmd) {
  const std::string topic_name(cmd.topic);
  const std::string channel_name(cmd.channel);
  // An #ephemeral topic/channel may be deleted between lookup and subscription; the
  // registry then hands out a fresh one, so a second attempt succeeds.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto topic = nsqd_.get_topic(topic_name);
    if (!topic) break;
    auto channel = topic->get_channel(channel_name);
    if (!channel) continue;
    switch (channel->add_consumer(shared_from_this())) {
      case Channel::AddResult::kOk:
        channel_ = std::move(channel);
        state_ = static_cast<int32_t>(ClientState::kSubscribed);
        send_response("OK");
        return;
      case Channel::AddResult::kTooMany:
        send_error(fatal("E_SUB_FAILED", "SUB failed consumers for " + topic_name + ":" +
                                             channel_name + " exceeds limit of " +
                                             std::to_string(opts_.max_channel_consumers)));
        close_after_flush();
        return;
      case Channel::AddResult::kExiting:
        continue;
    }
  }
  send_error(fatal("E_SUB_FAILED", "SUB failed to deleted topic/channel"));
  close_after_flush();
}

void ClientV2::exec_rdy(const protocol::Command& cmd) {
  if (cmd.ignored) {
    log::info("PROTOCOL(V2): [{}] ignoring RDY after CLS in state ClientStateV2Closing",
              remote_address_);
    return;
  }
  const int64_t old = ready_count_.exchange(cmd.count);
  if (old != cmd.count && channel_) channel_->consumer_ready(id_);
}

void ClientV2::exec_publish(const protocol::Command& cmd) {
  const char* name = cmd.type == CommandType::kPub    ? "PUB"
                     : cmd.type == CommandType::kMpub ? "MPUB"
                                                      : "DPUB";
  const std::string topic_name(cmd.topic);
  auto topic = nsqd_.get_topic(topic_name);
  std::string err = "exiting";
  size_t count = 0;
  if (topic) {
    if (cmd.type == CommandType::kMpub) {
      err = topic->publish(cmd.bodies, 0);
      count = cmd.bodies.size();
    } else {
      const std::string_view one[] = {cmd.body};
      err = topic->publish(one, cmd.defer_ns);
      count = 1;
    }
  }
  if (!err.empty()) {
    send_error(fatal(std::string("E_") + name + "_FAILED", std::string(name) + " failed " + err));
    close_after_flush();
    return;
  }
  {
    std::lock_guard lock(meta_mu_);
    pub_counts_[topic_name] += count;
  }
  send_response("OK");
}

void ClientV2::exec_response(const protocol::Command& cmd) {
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
                remote_address_, cmd.req_requested_ns, opts_.max_req_timeout.count(), cmd.defer_ns);
    }
    err = channel_->requeue(id_, cmd.id, cmd.defer_ns);
  } else {
    name = "TOUCH";
    err = channel_->touch(id_, cmd.id, msg_timeout_ns_.load(std::memory_order_relaxed));
  }
  if (err) send_response_failed(name, cmd.id, *err);
}

void ClientV2::send_response_failed(std::string_view name, const MessageId& id,
                                    std::string_view reason) {
  send_error(ProtocolError{"E_" + std::string(name) + "_FAILED",
                           std::string(name) + " " + std::string(protocol::id_view(id)) +
                               " failed " + std::string(reason),
                           false});
}

// ---------------------------------------------------------------------------------------
// authorization (the reference's AUTH and CheckAuth)

void ClientV2::exec_auth(const protocol::Command& cmd) {
  if (auth_ && !auth_->grants.empty()) {
    send_error(fatal("E_INVALID", "AUTH already set"));
    close_after_flush();
    return;
  }
  if (opts_.auth_http_addresses.empty()) {
    send_error(fatal("E_AUTH_DISABLED", "AUTH disabled"));
    close_after_flush();
    return;
  }
  auth_secret_ = std::string(cmd.body);
  query_auth([this] {
    if (auth_->grants.empty()) {
      send_error(fatal("E_UNAUTHORIZED", "AUTH no authorizations found"));
      close_after_flush();
      return;
    }
    send_response(auth_reply_json(*auth_));
  });
}

ClientV2::AuthCheck ClientV2::check_auth(const protocol::Command& cmd) {
  const char* name = nullptr;
  switch (cmd.type) {
    case CommandType::kSub:
      name = "SUB";
      break;
    case CommandType::kPub:
      name = "PUB";
      break;
    case CommandType::kMpub:
      name = "MPUB";
      break;
    case CommandType::kDpub:
      name = "DPUB";
      break;
    default:
      return AuthCheck::kAllowed;
  }
  if (!auth_ || auth_->grants.empty()) {
    send_error(fatal("E_AUTH_FIRST", std::string("AUTH required before ") + name));
    return AuthCheck::kDenied;
  }
  if (auth_->expired(std::chrono::steady_clock::now())) {
    query_auth([] {});
    return AuthCheck::kRefresh;
  }
  const std::string_view channel = cmd.type == CommandType::kSub ? cmd.channel : "";
  if (!auth_->allows(cmd.topic, channel)) {
    send_error(fatal("E_UNAUTHORIZED", std::string("AUTH failed for ") + name + " on " +
                                           gocompat::go_quote(cmd.topic) + " " +
                                           gocompat::go_quote(channel)));
    return AuthCheck::kDenied;
  }
  return AuthCheck::kAllowed;
}

void ClientV2::query_auth(std::function<void()> then) {
  auth_pending_ = true;
  AuthQuery q;
  q.remote_ip = remote_host_;
  q.tls = tls_ != nullptr;
  q.common_name = tls_common_name_;
  q.secret = auth_secret_;
  query_any_auth_server(socket_.get_executor(), opts_, nsqd_.client_tls_context(), std::move(q),
                        [self = shared_from_this(), then = std::move(then)](
                            std::optional<AuthState> state, std::string error) {
                          self->auth_pending_ = false;
                          if (self->closed_) return;
                          if (!state) {
                            // As the reference: the auth server's error is logged, never shown to
                            // the client.
                            log::warn("PROTOCOL(V2): [{}] AUTH failed {}", self->remote_address_,
                                      error);
                            self->send_error(fatal("E_AUTH_FAILED", "AUTH failed"));
                            self->close_after_flush();
                            return;
                          }
                          self->auth_ = std::move(*state);
                          {
                            std::lock_guard lock(self->meta_mu_);
                            self->authed_ = !self->auth_->grants.empty();
                            self->auth_identity_ = self->auth_->identity;
                            self->auth_identity_url_ = self->auth_->identity_url;
                          }
                          then();
                          if (!self->closed_ && !self->closing_after_flush_) {
                            self->process_input();
                            self->do_read();
                          }
                        });
}

// ---------------------------------------------------------------------------------------
// Consumer

bool ClientV2::ready_for_message() const {
  if (closed_.load(std::memory_order_relaxed)) return false;
  const int64_t rdy = ready_count_.load(std::memory_order_relaxed);
  return rdy > 0 && in_flight_count_.load(std::memory_order_relaxed) < rdy;
}

int64_t ClientV2::ready_capacity() const {
  if (closed_.load(std::memory_order_relaxed)) return 0;
  return std::max<int64_t>(0, ready_count_.load(std::memory_order_relaxed) -
                                  in_flight_count_.load(std::memory_order_relaxed));
}

void ClientV2::deliver(const MessagePtr& msg, uint16_t attempts) {
  in_flight_count_.fetch_add(1, std::memory_order_relaxed);
  message_count_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(out_mu_);
  if (closed_) return;  // it stays in flight and times out back into the channel
  protocol::append_message_frame(out_pending_, msg->timestamp_ns(), attempts, msg->id(),
                                 msg->body());
  schedule_write_locked();
}

void ClientV2::message_done(Outcome outcome) {
  if (outcome == Outcome::kFinished) finish_count_.fetch_add(1, std::memory_order_relaxed);
  if (outcome == Outcome::kRequeued) requeue_count_.fetch_add(1, std::memory_order_relaxed);
  in_flight_count_.fetch_sub(1, std::memory_order_relaxed);
}

void ClientV2::in_flight_reset() {
  in_flight_count_.store(0, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------------------
// writing

void ClientV2::send_response(std::string_view data) {
  std::lock_guard lock(out_mu_);
  protocol::append_frame(out_pending_, FrameType::kResponse, data);
  schedule_write_locked();
}

void ClientV2::send_error(const ProtocolError& err) {
  log::error("[{}] - {}", remote_address_, err.text());
  std::lock_guard lock(out_mu_);
  protocol::append_frame(out_pending_, FrameType::kError, err.text());
  schedule_write_locked();
}

void ClientV2::append_output_locked(std::string_view bytes) {
  out_pending_.append(bytes);
  schedule_write_locked();
}

void ClientV2::schedule_write_locked() {
  if (write_active_ || closed_) return;
  write_active_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
}

void ClientV2::do_write() {
  bool writing = false;
  {
    std::lock_guard lock(out_mu_);
    if (closed_ || out_pending_.empty()) {
      write_active_ = false;
      write_started_ns_ = 0;
    } else {
      out_writing_.swap(out_pending_);
      out_pending_.clear();
      write_started_ns_ = coarse_now_ns();
      writing = true;
    }
  }
  if (!writing) {
    if (closing_after_flush_ && !closed_) close("closing after error");
    return;
  }
  auto done = [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
    self->on_write(ec);
  };
  if (codec_) {
    out_encoded_.clear();
    codec_->encode(out_writing_, out_encoded_);
    async_write_all(asio::buffer(out_encoded_), std::move(done));
  } else {
    async_write_all(asio::buffer(out_writing_), std::move(done));
  }
}

void ClientV2::on_write(const boost::system::error_code& ec) {
  if (ec) {
    close("failed to write - " + ec.message());
    return;
  }
  out_writing_.clear();
  if (out_writing_.capacity() > kRetainedBufferCapacity) out_writing_.shrink_to_fit();
  if (codec_) {
    out_encoded_.clear();
    if (out_encoded_.capacity() > kRetainedBufferCapacity) out_encoded_.shrink_to_fit();
  }
  if (pending_upgrade_) {
    // The next upgrade step starts once everything sent in the old encoding is written.
    bool idle = false;
    {
      std::lock_guard lock(out_mu_);
      idle = out_pending_.empty();
      if (idle) {
        write_active_ = false;
        write_started_ns_ = 0;
      }
    }
    if (idle) {
      continue_upgrade();
      return;
    }
  }
  bool resume_input = false;
  {
    std::lock_guard lock(out_mu_);
    if (input_paused_ && out_pending_.size() < kMaxOutputBacklog / 2) {
      input_paused_ = false;
      resume_input = true;
    }
  }
  do_write();  // sends what accumulated meanwhile, or goes idle
  if (resume_input && !closed_) {
    process_input();
    do_read();
  }
}

void ClientV2::close_after_flush() {
  closing_after_flush_ = true;
  std::lock_guard lock(out_mu_);
  if (!write_active_) {
    // Nothing in flight: the pending bytes (if any) are written by a fresh write first.
    write_active_ = true;
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
  }
}

// ---------------------------------------------------------------------------------------
// heartbeats and deadlines

void ClientV2::arm_timer() {
  if (closed_) return;
  int64_t due = INT64_MAX;
  if (read_deadline_ns_ > 0) due = std::min(due, read_deadline_ns_);
  if (magic_ok_ && settings_.heartbeat_interval_ns > 0 && next_heartbeat_ns_ > 0) {
    due = std::min(due, next_heartbeat_ns_);
  }
  {
    std::lock_guard lock(out_mu_);
    if (write_started_ns_ > 0 && settings_.heartbeat_interval_ns > 0) {
      due = std::min(due, write_started_ns_ + settings_.heartbeat_interval_ns);
    }
  }
  if (due == INT64_MAX) return;
  // Deadlines only move later between firings; re-arm only when the new one is earlier.
  if (timer_armed_ && timer_due_ns_ <= due) return;
  timer_armed_ = true;
  timer_due_ns_ = due;
  timer_.expires_at(asio::steady_timer::time_point(std::chrono::nanoseconds(due)));
  timer_.async_wait(
      [self = shared_from_this()](const boost::system::error_code& ec) { self->on_timer(ec); });
}

void ClientV2::on_timer(const boost::system::error_code& ec) {
  if (ec == asio::error::operation_aborted || closed_) return;
  timer_armed_ = false;
  const int64_t now = steady_now_ns();
  if (read_deadline_ns_ > 0 && now >= read_deadline_ns_ && !closing_after_flush_) {
    if (tls_handshaking_) {
      // Abort the handshake; on_tls_handshake reports the timeout to the client.
      tls_handshake_timed_out_ = true;
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      return;
    }
    if (pending_eof_error_) {
      send_error(*pending_eof_error_);
      close_after_flush();
    } else {
      close("failed to read command - i/o timeout");
    }
    return;
  }
  int64_t write_started = 0;
  {
    std::lock_guard lock(out_mu_);
    write_started = write_started_ns_;
  }
  const int64_t hb = settings_.heartbeat_interval_ns;
  if (hb > 0 && write_started > 0 && now - write_started >= hb) {
    close("failed to write - i/o timeout");
    return;
  }
  if (magic_ok_ && hb > 0 && next_heartbeat_ns_ > 0 && now >= next_heartbeat_ns_) {
    // No heartbeat between the IDENTIFY reply and the upgrade's OK: the client reads
    // exactly those frames in that order.
    if (!upgrading_) send_response("_heartbeat_");
    next_heartbeat_ns_ += hb;
    if (next_heartbeat_ns_ <= now) next_heartbeat_ns_ = now + hb;
  }
  arm_timer();
}

// ---------------------------------------------------------------------------------------
// transport upgrade after IDENTIFY (the reference's IDENTIFY: TLS, then snappy or deflate,
// each followed by an OK frame in the new encoding)

void ClientV2::continue_upgrade() {
  if (closed_) return;
  NegotiatedFeatures& step = *pending_upgrade_;
  if (step.tls) {
    step.tls = false;
    log::info("PROTOCOL(V2): [{}] upgrading connection to TLS", remote_address_);
    if (in_start_ != in_end_) {
      // Bytes sent before our reply was read cannot be part of a proper handshake.
      close("IDENTIFY failed - unexpected data before TLS handshake");
      return;
    }
    // The reference gives the handshake 5 s.
    read_deadline_ns_ = steady_now_ns() + kTlsHandshakeTimeoutNs;
    arm_timer();
    tls_ =
        std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, *nsqd_.tls_context());
    tls_handshaking_ = true;
    tls_->async_handshake(asio::ssl::stream_base::server,
                          [self = shared_from_this()](const boost::system::error_code& ec) {
                            self->on_tls_handshake(ec);
                          });
    return;
  }
  if (step.snappy || step.deflate) {
    if (step.snappy) {
      log::info("PROTOCOL(V2): [{}] upgrading connection to snappy", remote_address_);
      codec_ = std::make_unique<codec::SnappyStreamCodec>();
    } else {
      log::info("PROTOCOL(V2): [{}] upgrading connection to deflate (level {})", remote_address_,
                step.deflate_level);
      codec_ = std::make_unique<codec::DeflateStreamCodec>(static_cast<int>(step.deflate_level));
    }
    {
      std::lock_guard lock(meta_mu_);
      snappy_ = step.snappy;
      deflate_ = step.deflate;
    }
    // Whatever the client sent after IDENTIFY is already compressed.
    if (in_end_ > in_start_) {
      const std::string early(in_buf_.data() + in_start_, in_end_ - in_start_);
      in_start_ = in_end_ = 0;
      if (!decode_input(early)) return;
    }
  }
  pending_upgrade_.reset();
  if (codec_) send_response("OK");
  finish_upgrade();
}

void ClientV2::on_tls_handshake(const boost::system::error_code& ec) {
  if (closed_) return;
  tls_handshaking_ = false;
  if (ec) {
    // As the reference: the failure is reported in a plain error frame on the raw socket.
    std::string why = ec.message();
    if (tls_handshake_timed_out_) {
      boost::system::error_code ignored;
      why = "read tcp " + net::endpoint_string(socket_.local_endpoint(ignored)) + "->" +
            remote_address_ + ": i/o timeout";
    }
    tls_.reset();
    pending_upgrade_.reset();
    send_error(fatal("E_IDENTIFY_FAILED", "IDENTIFY failed " + why));
    close_after_flush();
    return;
  }
  reset_read_deadline();
  SSL* ssl = tls_->native_handle();
  {
    std::lock_guard lock(meta_mu_);
    tls_on_ = true;
    tls_version_ = tls_version_name(SSL_version(ssl));
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    tls_cipher_ = tls_cipher_suite_name(cipher ? SSL_CIPHER_get_protocol_id(cipher) : 0);
  }
  if (X509* peer = SSL_get1_peer_certificate(ssl)) {
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn) > 0) {
      tls_common_name_ = cn;
    }
    X509_free(peer);
  }
  send_response("OK");
  // Compression, if any, starts after this OK is written (on_write continues the upgrade).
  if (!pending_upgrade_->snappy && !pending_upgrade_->deflate) {
    pending_upgrade_.reset();
    finish_upgrade();
  }
}

void ClientV2::finish_upgrade() {
  upgrading_ = false;
  if (closed_) return;
  process_input();
  do_read();
}

// ---------------------------------------------------------------------------------------

void ClientV2::close(const std::string& reason) {
  if (closed_.exchange(true)) return;
  log::info("PROTOCOL(V2): [{}] exiting ioloop ({})", remote_address_, reason);
  boost::system::error_code ignored;
  timer_.cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  state_ = static_cast<int32_t>(ClientState::kClosing);
  if (channel_) {
    channel_->remove_consumer(id_);
    channel_.reset();
  }
  {
    std::lock_guard lock(out_mu_);
    out_pending_.clear();
    out_pending_.shrink_to_fit();
  }
  if (on_close_) on_close_(id_);
}

ClientStats ClientV2::stats() const {
  ClientStats s;
  s.id = id_;
  s.remote_address = remote_address_;
  s.state = state_.load();
  s.ready_count = ready_count_.load();
  s.in_flight_count = in_flight_count_.load();
  s.message_count = message_count_.load();
  s.finish_count = finish_count_.load();
  s.requeue_count = requeue_count_.load();
  s.connect_ts = connect_ts_;
  s.sample_rate = sample_rate_.load();
  std::lock_guard lock(meta_mu_);
  s.client_id = client_id_;
  s.hostname = hostname_;
  s.user_agent = user_agent_;
  s.pub_counts = pub_counts_;
  s.snappy = snappy_;
  s.deflate = deflate_;
  s.tls = tls_on_;
  s.tls_version = tls_version_;
  s.tls_cipher_suite = tls_cipher_;
  // Go reports NegotiatedProtocolIsMutual as always true (deprecated field).
  s.tls_negotiated_protocol_is_mutual = tls_on_;
  s.authed = authed_;
  s.auth_identity = auth_identity_;
  s.auth_identity_url = auth_identity_url_;
  return s;
}

}  // namespace nsq::nsqd
