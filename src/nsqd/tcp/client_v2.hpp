// ClientV2: one TCP connection speaking protocol V2. It owns the socket, the read and write
// buffers, the timers and the transport upgrades (TLS, snappy, deflate); its ProtocolV2
// executes the commands (the port it uses is this connection). It implements Consumer so its
// channel can hand it messages.
//
// Threads: pinned to one event loop (its socket's executor) for reading, command execution,
// writing and timers. deliver()/message_done() are also called by channel code on other
// threads: they touch only atomics and the output buffer (out_mu_).
// Output: frames are appended to a pending buffer and written with one async_write per batch;
// while a write is in progress more frames accumulate, so a busy connection coalesces many
// frames per syscall and an idle one sends at once (no output-buffer timer latency).
// Lifecycle: created by TcpServer on accept, kept alive by its own pending operations (and
// by its channel while subscribed); close() detaches it from the channel and the socket.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/net/acceptor.hpp"
#include "nsq/codec/stream_codec.hpp"
#include "nsqd/nsqd.hpp"
#include "nsqd/queue/consumer.hpp"
#include "nsqd/stats/client_stats.hpp"
#include "nsqd/tcp/identify_negotiation.hpp"
#include "nsqd/tcp/protocol_v2.hpp"

namespace nsq::nsqd {

class ClientV2 final : public Consumer,
                       private ClientPort,
                       public std::enable_shared_from_this<ClientV2> {
 public:
  using CloseCallback = std::function<void(int64_t client_id)>;

  ClientV2(Nsqd& nsqd, net::StreamSocket socket, int64_t id, CloseCallback on_close);
  ~ClientV2() override;

  // Starts reading; call once, from any thread.
  void start();
  // Closes the connection from any thread (shutdown).
  void stop();

  ClientStats stats() const;

  // Consumer
  int64_t consumer_id() const override { return id_; }
  bool ready_for_message() const override;
  int64_t ready_capacity() const override;
  int64_t msg_timeout_ns() const override { return protocol_.msg_timeout_ns(); }
  int32_t sample_rate() const override { return protocol_.sample_rate(); }
  void deliver(const MessagePtr& msg, uint16_t attempts) override;
  void message_done(Outcome outcome) override { protocol_.message_done(outcome); }
  void in_flight_reset() override { protocol_.in_flight_reset(); }
  void disconnect() override;

 private:
  ClientV2(Nsqd& nsqd, net::StreamSocket&& socket, net::PeerAddress peer, int64_t id,
           CloseCallback on_close);
  // ClientPort (for protocol_)
  void send_response(std::string_view data) override;
  void send_error(const protocol::ProtocolError& err) override;
  void close_after_flush() override;
  void close(const std::string& reason) override;
  bool input_open() override;
  bool tls_active() const override { return tls_ != nullptr; }
  std::shared_ptr<Consumer> consumer() override { return shared_from_this(); }
  void command_done() override { reset_read_deadline(); }
  void heartbeat_changed() override;
  void start_upgrade(const NegotiatedFeatures& features) override;
  void query_auth(std::string secret, AuthDone done) override;
  const std::string& remote_address() const override { return remote_address_; }
  LoopPost loop_post() override;
  void resume_input() override;

  // Whether reading must wait (a read is outstanding, closing, paused, upgrading, auth).
  bool input_blocked() const;
  void do_read();
  // Plain sockets: the bytes are in first_read_; reads more into the loop's buffer if it
  // was filled, runs them all.
  void on_first_read(const boost::system::error_code& ec, size_t n);
  // Runs bytes read into the loop's buffer; whatever they leave unfinished is copied into
  // in_buf_. False when the connection closed (corrupt compressed input).
  bool take_input(std::string_view bytes);
  // After a read of `n` bytes: whether a plain, uncompressed connection is streaming (reads
  // into in_buf_ in kReadChunk pieces) or reads through first_read_ again.
  void note_read_size(size_t n);
  // Frees in_buf_ once it holds nothing (plain connections that are not streaming): an idle
  // connection keeps none.
  void release_idle_input();
  // Ensures min_free bytes after in_end_ (compacting first), else grows to grow_to_free.
  void make_input_room(size_t min_free, size_t grow_to_free);
  // Runs `run` (the commands of one read) and then writes their responses directly.
  template <class Run>
  bool run_input(Run&& run);
  // TLS reads complete here, with the bytes in in_buf_ (or raw_in_ when compressed).
  void on_read(const boost::system::error_code& ec, size_t n);
  void on_read_error(const boost::system::error_code& ec);
  // The start of every read completion (it notes the loop's wake-up for IdleSpin): false when
  // the input ended (closing, or an error, which it handles).
  bool read_completed(const boost::system::error_code& ec);
  // Hands buffered input to protocol_ until more bytes are needed or input closes.
  void process_input();
  bool check_magic();

  void append_output_locked(std::string_view bytes);
  void schedule_write_locked();
  void do_write();
  void on_write(const boost::system::error_code& ec);

  void arm_timer();
  void on_timer(const boost::system::error_code& ec);
  void reset_read_deadline();

  // --- transport (see docs/transport.md) ---
  // After the IDENTIFY reply is written, upgrades the connection one step at a time (TLS,
  // then snappy or deflate), each acknowledged by an OK frame in the new encoding.
  void continue_upgrade();
  void on_tls_handshake(const boost::system::error_code& ec);
  void finish_upgrade();
  // The reference's log lines for the end of the connection (see client_v2.cpp).
  void log_exit(const std::string& reason);
  // A failed socket read in Go's words (for "failed to read command - ...").
  std::string read_error_text(const boost::system::error_code& ec) const;
  // The compressed read path: decodes `wire` into in_buf_; false (connection closed) on
  // corrupt input.
  bool decode_input(std::string_view wire);
  // Appends decoded input to in_buf_.
  void append_input(std::string_view bytes);
  template <class Handler>
  void async_read_some(boost::asio::mutable_buffer buf, Handler&& handler);
  template <class Handler>
  void async_write_all(boost::asio::const_buffer buf, Handler&& handler);

  Nsqd& nsqd_;
  const NsqdOptions& opts_;
  net::StreamSocket socket_;
  boost::asio::steady_timer timer_;
  const int64_t id_;
  CloseCallback on_close_;
  const std::string remote_address_;
  const std::string remote_host_;
  const int64_t connect_ts_;

  // --- event-loop-only state ---
  // A plain connection's pending read lands here: one PUB or a few small commands fit, so
  // the common round trip is one read, and an idle connection holds no larger buffer.
  std::array<char, 512> first_read_;
  // Only the bytes of an unfinished frame (or input held while paused); empty when idle.
  std::vector<char> in_buf_;
  size_t in_start_ = 0;
  size_t in_end_ = 0;
  size_t need_total_ = 0;  // the unfinished frame's full size, when the parser knows it
  bool magic_ok_ = false;
  bool streaming_ = false;     // recent plain reads were big: read into in_buf_ (kStreamingRead)
  bool reading_ = false;       // an async_read_some is outstanding
  bool input_paused_ = false;  // output backlog too large: stop taking commands
  bool closing_after_flush_ = false;
  int64_t read_deadline_ns_ = 0;  // 0 = none
  int64_t next_heartbeat_ns_ = 0;
  int64_t timer_due_ns_ = 0;
  bool timer_armed_ = false;
  bool auth_pending_ = false;  // an auth query is running: input paused
  bool log_exit_ = true;       // false: closed before the protocol started (no ioloop line)
  std::string fatal_error_;    // the last fatal error sent (guarded by out_mu_), for the exit line

  std::atomic<bool> closed_{false};

  // Transport state, event-loop-only. Both are null on a plain connection, which keeps the
  // plain path a direct socket read/write.
  std::unique_ptr<boost::asio::ssl::stream<net::StreamSocket&>> tls_;
  std::unique_ptr<codec::StreamCodec> codec_;
  std::vector<char> raw_in_;  // compressed bytes as read
  std::string decoded_in_;    // scratch: decoded bytes before they join in_buf_
  std::string out_encoded_;   // the write in progress, encoded
  std::optional<NegotiatedFeatures> pending_upgrade_;  // steps left after the IDENTIFY reply
  bool upgrading_ = false;  // input stays paused until the upgrade is done
  bool tls_handshaking_ = false;
  bool tls_handshake_timed_out_ = false;
  std::string tls_common_name_;  // of the client certificate (sent to auth servers)

  mutable std::mutex out_mu_;
  std::string out_pending_;         // frames waiting for the next write
  std::string out_writing_;         // frames of the write in progress
  bool write_active_ = false;       // a write is posted or in progress
  bool write_after_input_ = false;  // the write waits for run_input (event-loop-only)
  int64_t write_started_ns_ = 0;

  mutable std::mutex transport_mu_;  // transport facts read by stats()
  bool snappy_ = false;
  bool deflate_ = false;
  bool tls_on_ = false;
  std::string tls_version_;
  std::string tls_cipher_;

  // The commands; declared last so that it is built after the fields it is given.
  ProtocolV2 protocol_;
};

}  // namespace nsq::nsqd
