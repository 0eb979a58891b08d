#include "nsqd/tcp/client_v2.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstring>
#include <utility>

#include "common/gocompat/go_errno.hpp"
#include "common/log/logger.hpp"
#include "common/net/idle_spin.hpp"
#include "nsq/codec/deflate_stream.hpp"
#include "nsq/codec/snappy_stream.hpp"
#include "nsqd/tcp/auth_query.hpp"
#include "nsqd/tcp/tls_config.hpp"

namespace nsq::nsqd {

namespace asio = boost::asio;
using protocol::FrameType;
using protocol::ProtocolError;

namespace {

constexpr size_t kReadChunk = 64 * 1024;
// Plain connections read into a small buffer of their own, then into one buffer per event
// loop, and keep only the bytes of an unfinished frame: a per-connection 64 KiB read buffer
// made an idle connection cost ~66 KiB of RSS (the reference ~26 KiB).
constexpr size_t kLoopReadBuffer = 256 * 1024;
// A plain read at least this large marks a streaming connection (a publisher of big MPUBs):
// it reads straight into a kReadChunk buffer of its own again, one read per burst, instead
// of first_read_ + the loop's buffer + a copy of the frame cut at the end of each read (which
// cost MPUB ~30% more CPU per message). A read shorter than first_read_ ends it.
constexpr size_t kStreamingRead = 8 * 1024;
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

// The read buffer of the calling event loop. Only used between a read and the end of the
// commands it completed (no handler of another connection runs in between): whatever is left
// unparsed is copied into the connection's own buffer before returning to the loop.
std::vector<char>& loop_read_buffer() {
  thread_local std::vector<char> buffer(kLoopReadBuffer);
  return buffer;
}

// The connection whose input this thread is running, if any: its responses are written once
// the input is done (one direct write) instead of through a posted handler, which cost the
// event loop an extra epoll_wait per command.
thread_local const void* t_running_input = nullptr;

bool would_block(const boost::system::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ClientV2::ClientV2(Nsqd& nsqd, net::StreamSocket socket, int64_t id, CloseCallback on_close)
    : ClientV2(nsqd, std::move(socket), net::peer_address(socket), id, std::move(on_close)) {}

// One getpeername per connection: the address and host both come from `peer`. `socket` is a
// reference so that reading the peer above happens before anything moves it.
ClientV2::ClientV2(Nsqd& nsqd, net::StreamSocket&& socket, net::PeerAddress peer, int64_t id,
                   CloseCallback on_close)
    : nsqd_(nsqd),
      opts_(nsqd.options()),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      id_(id),
      on_close_(std::move(on_close)),
      remote_address_(std::move(peer.address)),
      remote_host_(std::move(peer.host)),
      connect_ts_(unix_seconds()),
      protocol_(nsqd, *this, id, remote_host_) {}

ClientV2::~ClientV2() = default;

void ClientV2::start() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    // on_first_read's follow-up read must not block.
    self->socket_.non_blocking(true, ec);
    log::info("TCP: new client({})", self->remote_address_);
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

bool ClientV2::input_blocked() const {
  return reading_ || closed_ || closing_after_flush_ || input_paused_ || upgrading_ ||
         auth_pending_;
}

void ClientV2::do_read() {
  if (input_blocked()) return;
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
  }
  if (!tls_ && !streaming_ && !(in_end_ > in_start_ && !codec_)) {
    // Plain socket, no unfinished frame: read into the small first_read_ (an idle
    // connection lends no more than that to its pending read); on_first_read continues in
    // the loop's buffer when more is waiting. Compressed bytes always come this way: they
    // are decoded into in_buf_.
    reading_ = true;
    socket_.async_read_some(asio::buffer(first_read_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        size_t n) { self->on_first_read(ec, n); });
    return;
  }
  if (codec_) {
    // Compressed: read the wire bytes aside; on_read decodes them into in_buf_.
    if (raw_in_.empty()) raw_in_.resize(kReadChunk);
    reading_ = true;
    async_read_some(asio::buffer(raw_in_),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                      self->on_read(ec, n);
                    });
    return;
  }
  if (tls_) {
    make_input_room(kReadChunk / 4, kReadChunk);
  } else if (streaming_) {
    // Room for a chunk, and for all of an unfinished frame bigger than that.
    const size_t have = in_end_ - in_start_;
    const size_t rest = need_total_ > have ? need_total_ - have : 0;
    make_input_room(std::max(kReadChunk / 4, rest), std::max(kReadChunk, rest));
  } else {
    // The rest of an unfinished frame: room for exactly that (at least a little for a
    // command line), so a client that stops halfway costs its frame, not a 64 KiB chunk.
    const size_t have = in_end_ - in_start_;
    const size_t rest = std::max<size_t>(need_total_ > have ? need_total_ - have : 0, 512);
    make_input_room(rest, rest);
  }
  reading_ = true;
  async_read_some(asio::buffer(in_buf_.data() + in_end_, in_buf_.size() - in_end_),
                  [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
                    self->on_read(ec, n);
                  });
}

void ClientV2::make_input_room(size_t min_free, size_t grow_to_free) {
  if (in_start_ == in_end_) in_start_ = in_end_ = 0;
  if (in_buf_.size() - in_end_ < min_free && in_start_ > 0) {
    std::memmove(in_buf_.data(), in_buf_.data() + in_start_, in_end_ - in_start_);
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  if (in_buf_.size() - in_end_ < min_free) in_buf_.resize(in_end_ + grow_to_free);
}

bool ClientV2::read_completed(const boost::system::error_code& ec) {
  net::note_woken();  // new work woke the loop: IdleSpin measures the wait up to here
  reading_ = false;
  if (closed_ || closing_after_flush_) return false;
  if (ec) {
    on_read_error(ec);
    return false;
  }
  return true;
}

void ClientV2::on_first_read(const boost::system::error_code& ec, size_t n) {
  if (!read_completed(ec)) return;
  std::string_view input(first_read_.data(), n);
  boost::system::error_code read_ec;
  if (n == first_read_.size()) {
    // More may be waiting: read it behind these bytes, in the loop's buffer.
    std::vector<char>& loop_buf = loop_read_buffer();
    std::memcpy(loop_buf.data(), first_read_.data(), n);
    const size_t more =
        socket_.read_some(asio::buffer(loop_buf.data() + n, loop_buf.size() - n), read_ec);
    input = std::string_view(loop_buf.data(), read_ec ? n : n + more);
  }
  if (!run_input([&] { return take_input(input); })) return;
  note_read_size(input.size());
  release_idle_input();
  // EOF or a reset behind the bytes just run: handled once they are.
  if (read_ec && !would_block(read_ec)) {
    if (!closed_ && !closing_after_flush_) on_read_error(read_ec);
    return;
  }
  do_read();
}

bool ClientV2::take_input(std::string_view bytes) {
  if (codec_) {
    if (!decode_input(bytes)) return false;
    process_input();
    return true;
  }
  if (!magic_ok_ || in_end_ > in_start_) {
    append_input(bytes);
    process_input();
    return true;
  }
  // Common case: whole commands, parsed where they were read (first_read_ or the loop's
  // buffer); only an unfinished frame is copied, into room for all of it.
  const auto r = protocol_.consume(bytes);
  need_total_ = r.need_total;
  const std::string_view rest = bytes.substr(r.consumed);
  if (!rest.empty()) {
    in_buf_.reserve(std::max(r.need_total, rest.size()));
    append_input(rest);
  }
  return true;
}

void ClientV2::note_read_size(size_t n) {
  if (tls_ || codec_) {
    streaming_ = false;  // those read through raw_in_ / in_buf_ anyway
  } else if (n >= kStreamingRead) {
    streaming_ = true;
  } else if (n < first_read_.size() && in_start_ == in_end_) {
    streaming_ = false;  // small traffic again: back to first_read_, in_buf_ freed after
  }
}

void ClientV2::release_idle_input() {
  // TLS and streaming connections read into in_buf_ itself: keep it.
  if (in_start_ != in_end_ || tls_ || streaming_) return;
  in_start_ = in_end_ = 0;
  if (in_buf_.capacity() > 0) std::vector<char>().swap(in_buf_);
}

void ClientV2::on_read(const boost::system::error_code& ec, size_t n) {
  if (!read_completed(ec)) return;
  if (codec_) {
    if (!decode_input(std::string_view(raw_in_.data(), n))) return;
  } else {
    in_end_ += n;
  }
  run_input([&] {
    process_input();
    return true;
  });
  note_read_size(n);
  release_idle_input();
  do_read();
}

void ClientV2::on_read_error(const boost::system::error_code& ec) {
  // A TLS peer that closes without close_notify is an ordinary EOF here.
  const bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
  if (!magic_ok_) {
    // Before the 4-byte magic the reference has not started a protocol loop: it logs
    // io.ReadFull's error ("EOF", or "unexpected EOF" after 1-3 bytes) and closes.
    log::error("failed to read protocol version - {}", !eof                  ? ec.message()
                                                       : in_end_ > in_start_ ? "unexpected EOF"
                                                                             : "EOF");
    log_exit_ = false;
    close("");
    return;
  }
  // A command cut short by EOF gets the reference's "failed to read" error first.
  if (protocol_.pending_eof_error() && eof) {
    send_error(*protocol_.pending_eof_error());
    close_after_flush();
    return;
  }
  close(eof ? "EOF" : "failed to read command - " + read_error_text(ec));
}

bool ClientV2::decode_input(std::string_view wire) {
  decoded_in_.clear();
  if (auto decoded = codec_->decode(wire, decoded_in_); !decoded) {
    close("failed to read command - " + decoded.error());
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
  log::info("CLIENT({}): desired protocol magic '{}'", remote_address_, magic);
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
  if (protocol_.settings().heartbeat_interval_ns > 0)
    next_heartbeat_ns_ = now + protocol_.settings().heartbeat_interval_ns;
  reset_read_deadline();
  arm_timer();
  return true;
}

void ClientV2::reset_read_deadline() {
  const int64_t hb = protocol_.settings().heartbeat_interval_ns;
  read_deadline_ns_ = hb > 0 ? coarse_now_ns() + 2 * hb : 0;
}

void ClientV2::process_input() {
  if (!magic_ok_ && !check_magic()) return;
  const auto r =
      protocol_.consume(std::string_view(in_buf_.data() + in_start_, in_end_ - in_start_));
  in_start_ += r.consumed;
  need_total_ = r.need_total;
  if (tls_ && r.need_total > in_buf_.size() - in_start_) {
    // Make room for the whole frame (bounded by the parser's size limits). Plain reads size
    // the buffer for the frame themselves (do_read).
    if (in_start_ > 0) {
      std::memmove(in_buf_.data(), in_buf_.data() + in_start_, in_end_ - in_start_);
      in_end_ -= in_start_;
      in_start_ = 0;
    }
    in_buf_.resize(std::max(in_buf_.size(), r.need_total + kReadChunk / 4));
  }
}

bool ClientV2::input_open() {
  if (closed_ || closing_after_flush_ || input_paused_ || upgrading_ || auth_pending_) {
    return false;
  }
  std::lock_guard lock(out_mu_);
  if (out_pending_.size() > kMaxOutputBacklog) input_paused_ = true;
  return !input_paused_;
}

void ClientV2::heartbeat_changed() {
  const int64_t hb = protocol_.settings().heartbeat_interval_ns;
  next_heartbeat_ns_ = hb > 0 ? steady_now_ns() + hb : 0;
  reset_read_deadline();
  arm_timer();
}

void ClientV2::start_upgrade(const NegotiatedFeatures& features) {
  pending_upgrade_ = features;
  upgrading_ = true;
}

void ClientV2::query_auth(std::string secret, AuthDone done) {
  auth_pending_ = true;
  AuthQuery q;
  q.remote_ip = remote_host_;
  q.tls = tls_ != nullptr;
  q.common_name = tls_common_name_;
  q.secret = std::move(secret);
  query_any_auth_server(socket_.get_executor(), opts_, nsqd_.client_tls_context(), std::move(q),
                        [self = shared_from_this(), done = std::move(done)](
                            std::optional<AuthState> state, std::string error) mutable {
                          // Never inside the caller's consume(), even when the query fails at once.
                          asio::post(self->socket_.get_executor(),
                                     [self, done = std::move(done), state = std::move(state),
                                      error = std::move(error)]() mutable {
                                       self->auth_pending_ = false;
                                       if (self->closed_) return;
                                       done(std::move(state), std::move(error));
                                       if (!self->closed_ && !self->closing_after_flush_) {
                                         self->process_input();
                                         self->do_read();
                                       }
                                     });
                        });
}

ClientPort::LoopPost ClientV2::loop_post() {
  return [weak = weak_from_this(), ex = socket_.get_executor()](std::function<void()> fn) {
    asio::post(ex, [weak, fn = std::move(fn)] {
      auto self = weak.lock();
      if (self && !self->closed_) fn();
    });
  };
}

void ClientV2::resume_input() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->closed_ || self->closing_after_flush_) return;
    self->process_input();
    self->do_read();
  });
}

// ---------------------------------------------------------------------------------------
// Consumer

bool ClientV2::ready_for_message() const {
  return !closed_.load(std::memory_order_relaxed) && protocol_.ready_for_message();
}

int64_t ClientV2::ready_capacity() const {
  return closed_.load(std::memory_order_relaxed) ? 0 : protocol_.ready_capacity();
}

void ClientV2::deliver(const MessagePtr& msg, uint16_t attempts) {
  protocol_.on_delivered();
  std::lock_guard lock(out_mu_);
  if (closed_) return;  // it stays in flight and times out back into the channel
  protocol::append_message_frame(out_pending_, msg->timestamp_ns(), attempts, msg->id(),
                                 msg->body());
  schedule_write_locked();
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
  if (err.fatal) fatal_error_ = err.text();
  protocol::append_frame(out_pending_, FrameType::kError, err.text());
  schedule_write_locked();
}

void ClientV2::append_output_locked(std::string_view bytes) {
  out_pending_.append(bytes);
  schedule_write_locked();
}

template <class Run>
bool ClientV2::run_input(Run&& run) {
  t_running_input = this;
  const bool open = run();
  t_running_input = nullptr;
  if (write_after_input_) {
    write_after_input_ = false;
    do_write();
  }
  return open;
}

void ClientV2::schedule_write_locked() {
  if (write_active_ || closed_) return;
  write_active_ = true;
  if (t_running_input == this) {
    write_after_input_ = true;  // run_input writes when the input is done
    return;
  }
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
  const int64_t hb = protocol_.settings().heartbeat_interval_ns;
  if (magic_ok_ && hb > 0 && next_heartbeat_ns_ > 0) {
    due = std::min(due, next_heartbeat_ns_);
  }
  {
    std::lock_guard lock(out_mu_);
    if (write_started_ns_ > 0 && hb > 0) {
      due = std::min(due, write_started_ns_ + hb);
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
    if (protocol_.pending_eof_error()) {
      send_error(*protocol_.pending_eof_error());
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
  const int64_t hb = protocol_.settings().heartbeat_interval_ns;
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
    tls_ = std::make_unique<asio::ssl::stream<net::StreamSocket&>>(socket_, *nsqd_.tls_context());
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
      std::lock_guard lock(transport_mu_);
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
      const bool unix_socket = net::peer_address(socket_).unix_socket;
      why = std::string(unix_socket ? "read unix " : "read tcp ") + net::local_address(socket_) +
            "->" + remote_address_ + ": i/o timeout";
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
    std::lock_guard lock(transport_mu_);
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

std::string ClientV2::read_error_text(const boost::system::error_code& ec) const {
  // Go's net.OpError for a failed read: "read tcp LOCAL->REMOTE: read: connection reset by
  // peer"; TLS and other library errors keep their own wording.
  if (ec.category() != boost::system::system_category()) return ec.message();
  const bool unix_socket = net::peer_address(socket_).unix_socket;
  return std::string(unix_socket ? "read unix " : "read tcp ") + net::local_address(socket_) +
         "->" + remote_address_ + ": read: " + gocompat::go_errno_text(ec.value());
}

void ClientV2::log_exit(const std::string& reason) {
  // The reference's lines for the end of a connection: IOLoop's "exiting ioloop", tcp.go's
  // "client(ADDR) - <err>" when the loop ended on an error rather than EOF, and the
  // messagePump goroutine's "exiting messagePump".
  std::string error = reason;
  if (reason == "EOF") {
    error.clear();
  } else if (reason == "shutdown" || reason == "channel deleted") {
    // The reference closes the connection under its read loop.
    const bool unix_socket = net::peer_address(socket_).unix_socket;
    error = std::string("failed to read command - read ") + (unix_socket ? "unix " : "tcp ") +
            net::local_address(socket_) + "->" + remote_address_ +
            ": use of closed network connection";
  } else if (reason == "closing after error") {
    std::lock_guard lock(out_mu_);
    error = fatal_error_;
  }
  log::info("PROTOCOL(V2): [{}] exiting ioloop", remote_address_);
  if (!error.empty()) log::error("client({}) - {}", remote_address_, error);
  log::info("PROTOCOL(V2): [{}] exiting messagePump", remote_address_);
}

void ClientV2::close(const std::string& reason) {
  if (closed_.exchange(true)) return;
  if (log_exit_) log_exit(reason);
  boost::system::error_code ignored;
  timer_.cancel();
  socket_.shutdown(net::StreamSocket::shutdown_both, ignored);
  socket_.close(ignored);
  protocol_.detach();
  {
    std::lock_guard lock(out_mu_);
    out_pending_.clear();
    out_pending_.shrink_to_fit();
  }
  if (on_close_) on_close_(id_);
}

ClientStats ClientV2::stats() const {
  ClientStats s;
  protocol_.fill_stats(s);
  s.remote_address = remote_address_;
  s.connect_ts = connect_ts_;
  std::lock_guard lock(transport_mu_);
  s.snappy = snappy_;
  s.deflate = deflate_;
  s.tls = tls_on_;
  s.tls_version = tls_version_;
  s.tls_cipher_suite = tls_cipher_;
  // Go reports NegotiatedProtocolIsMutual as always true (deprecated field).
  s.tls_negotiated_protocol_is_mutual = tls_on_;
  return s;
}

}  // namespace nsq::nsqd
