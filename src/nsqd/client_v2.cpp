#include "nsqd/client_v2.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstring>

#include "common/log/logger.hpp"
#include "common/net/address.hpp"
#include "common/protocol/identify.hpp"

namespace nsq::nsqd {

namespace asio = boost::asio;
using protocol::ClientState;
using protocol::CommandType;
using protocol::FrameType;
using protocol::ProtocolError;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Past this many unsent bytes the connection stops taking commands until the peer reads
// (DESIGN.md §2.5): a publisher that never reads its OKs costs its own buffer, bounded.
constexpr size_t kMaxOutputBacklog = 4 * 1024 * 1024;
// Keep at most this much buffer capacity around between bursts.
constexpr size_t kRetainedBufferCapacity = 1024 * 1024;

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

void ClientV2::do_read() {
  if (reading_ || closed_ || closing_after_flush_ || input_paused_) return;
  if (in_start_ == in_end_) in_start_ = in_end_ = 0;
  if (in_buf_.size() - in_end_ < kReadChunk / 4 && in_start_ > 0) {
    std::memmove(in_buf_.data(), in_buf_.data() + in_start_, in_end_ - in_start_);
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  if (in_buf_.size() - in_end_ < kReadChunk / 4) in_buf_.resize(in_buf_.size() + kReadChunk);
  reading_ = true;
  socket_.async_read_some(
      asio::buffer(in_buf_.data() + in_end_, in_buf_.size() - in_end_),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        self->on_read(ec, n);
      });
}

void ClientV2::on_read(const boost::system::error_code& ec, size_t n) {
  reading_ = false;
  if (closed_ || closing_after_flush_) return;
  if (ec) {
    // A command cut short by EOF gets the reference's "failed to read" error first.
    if (pending_eof_error_ && ec == asio::error::eof) {
      send_error(*pending_eof_error_);
      close_after_flush();
      return;
    }
    close(ec == asio::error::eof ? "EOF" : "failed to read command - " + ec.message());
    return;
  }
  in_end_ += n;
  process_input();
  do_read();
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
  if (settings_.heartbeat_interval_ns > 0) next_heartbeat_ns_ = now + settings_.heartbeat_interval_ns;
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
  while (!closed_ && !closing_after_flush_ && !input_paused_) {
    std::string_view data(in_buf_.data() + in_start_, in_end_ - in_start_);
    protocol::ConnContext ctx;
    ctx.state = static_cast<ClientState>(state_.load(std::memory_order_relaxed));
    ctx.heartbeats_enabled = settings_.heartbeat_interval_ns > 0;
    auto r = parser_.parse(data, ctx);
    using Status = protocol::ParseResult::Status;
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
        if (!r.mpub_created_topic.empty()) nsqd_.get_topic(std::string(r.mpub_created_topic));
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
        execute(r.command);
        in_start_ += r.consumed;
        reset_read_deadline();
        break;
    }
    std::lock_guard lock(out_mu_);
    if (out_pending_.size() > kMaxOutputBacklog) input_paused_ = true;
  }
}

void ClientV2::execute(const protocol::Command& cmd) {
  switch (cmd.type) {
    case CommandType::kIdentify: exec_identify(cmd); break;
    case CommandType::kSub: exec_sub(cmd); break;
    case CommandType::kRdy: exec_rdy(cmd); break;
    case CommandType::kPub:
    case CommandType::kMpub:
    case CommandType::kDpub: exec_publish(cmd); break;
    case CommandType::kFin:
    case CommandType::kReq:
    case CommandType::kTouch: exec_response(cmd); break;
    case CommandType::kCls:
      ready_count_ = 0;
      state_ = static_cast<int32_t>(ClientState::kClosing);
      send_response("CLOSE_WAIT");
      break;
    case CommandType::kNop: break;
    case CommandType::kAuth:
      // Authorization servers are not supported yet; main() refuses --auth-http-address, so
      // this is the reference's answer for a server without auth.
      send_error(fatal("E_AUTH_DISABLED", "AUTH disabled"));
      close_after_flush();
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
  log::info("[{}] IDENTIFY: client_id={} hostname={} user_agent={} heartbeat_interval={} "
            "msg_timeout={} feature_negotiation={}",
            remote_address_, req->client_id, req->hostname, req->user_agent,
            req->heartbeat_interval, req->msg_timeout, req->feature_negotiation);
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
    next_heartbeat_ns_ = s.heartbeat_interval_ns > 0 ? steady_now_ns() + s.heartbeat_interval_ns : 0;
    reset_read_deadline();
    arm_timer();
  }
  if (!req->feature_negotiation) {
    send_response("OK");
    return;
  }
  const ServerFeatures server{};  // TLS, snappy, deflate and auth are not built yet
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
      case Channel::AddResult::kExiting: continue;
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
  const std::string id_text(protocol::id_view(cmd.id));
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
                remote_address_, cmd.req_requested_ns, opts_.max_req_timeout.count(),
                cmd.defer_ns);
    }
    err = channel_->requeue(id_, cmd.id, cmd.defer_ns);
  } else {
    name = "TOUCH";
    err = channel_->touch(id_, cmd.id, msg_timeout_ns_.load(std::memory_order_relaxed));
  }
  if (err) {
    send_error(ProtocolError{std::string("E_") + name + "_FAILED",
                             std::string(name) + " " + id_text + " failed " + *err, false});
  }
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

void ClientV2::in_flight_reset() { in_flight_count_.store(0, std::memory_order_relaxed); }

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
  asio::async_write(socket_, asio::buffer(out_writing_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      self->on_write(ec);
                    });
}

void ClientV2::on_write(const boost::system::error_code& ec) {
  if (ec) {
    close("failed to write - " + ec.message());
    return;
  }
  out_writing_.clear();
  if (out_writing_.capacity() > kRetainedBufferCapacity) out_writing_.shrink_to_fit();
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
    send_response("_heartbeat_");
    next_heartbeat_ns_ += hb;
    if (next_heartbeat_ns_ <= now) next_heartbeat_ns_ = now + hb;
  }
  arm_timer();
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
  return s;
}

}  // namespace nsq::nsqd
