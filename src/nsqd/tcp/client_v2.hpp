// ClientV2: one TCP connection speaking protocol V2. It owns the socket, the read buffer and
// V2Parser, executes commands against Nsqd/Topic/Channel, and implements Consumer so its
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

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nsq/codec/stream_codec.hpp"
#include "nsq/protocol/v2_parser.hpp"
#include "nsqd/nsqd.hpp"
#include "nsqd/queue/consumer.hpp"
#include "nsqd/tcp/auth_state.hpp"
#include "nsqd/tcp/identify_negotiation.hpp"

namespace nsq::nsqd {

// A snapshot of a client for /stats and logs.
struct ClientStats {
  int64_t id = 0;
  std::string client_id;
  std::string hostname;
  std::string user_agent;
  std::string remote_address;
  int32_t state = 0;
  int64_t ready_count = 0;
  int64_t in_flight_count = 0;
  uint64_t message_count = 0;
  uint64_t finish_count = 0;
  uint64_t requeue_count = 0;
  int64_t connect_ts = 0;
  int32_t sample_rate = 0;
  std::map<std::string, uint64_t> pub_counts;
  // Negotiated features, as /stats reports them (false/empty until TLS, compression and
  // auth are negotiated by this connection).
  bool deflate = false;
  bool snappy = false;
  bool tls = false;
  std::string tls_cipher_suite;
  std::string tls_version;
  std::string tls_negotiated_protocol;
  bool tls_negotiated_protocol_is_mutual = false;
  bool authed = false;
  std::string auth_identity;
  std::string auth_identity_url;
};

class ClientV2 final : public Consumer, public std::enable_shared_from_this<ClientV2> {
 public:
  using CloseCallback = std::function<void(int64_t client_id)>;

  ClientV2(Nsqd& nsqd, boost::asio::ip::tcp::socket socket, int64_t id, CloseCallback on_close);
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
  int64_t msg_timeout_ns() const override {
    return msg_timeout_ns_.load(std::memory_order_relaxed);
  }
  int32_t sample_rate() const override { return sample_rate_.load(std::memory_order_relaxed); }
  void deliver(const MessagePtr& msg, uint16_t attempts) override;
  void message_done(Outcome outcome) override;
  void in_flight_reset() override;
  void disconnect() override;

 private:
  void do_read();
  void on_read(const boost::system::error_code& ec, size_t n);
  // Parses and executes buffered commands until more bytes are needed or reading must pause.
  void process_input();
  bool check_magic();
  void execute(const protocol::Command& cmd);
  void exec_identify(const protocol::Command& cmd);
  void exec_sub(const protocol::Command& cmd);
  void exec_rdy(const protocol::Command& cmd);
  void exec_publish(const protocol::Command& cmd);
  void exec_response(const protocol::Command& cmd);  // FIN, REQ, TOUCH
  // Consecutive FINs of one read are collected and finished together (Channel::finish_many);
  // any other command, error or the end of the input finishes them first, so responses keep
  // their order.
  void flush_pending_fins();
  // E_FIN_FAILED / E_REQ_FAILED / E_TOUCH_FAILED: "<name> <id> failed <reason>", not fatal.
  void send_response_failed(std::string_view name, const MessageId& id, std::string_view reason);
  void exec_auth(const protocol::Command& cmd);

  // --auth-http-address: SUB/PUB/MPUB/DPUB need a grant. kRefresh = the grants expired and
  // are being re-queried; the command stays unconsumed and is parsed again afterwards.
  enum class AuthCheck { kAllowed, kDenied, kRefresh };
  AuthCheck check_auth(const protocol::Command& cmd);
  // Queries the auth servers (input paused meanwhile); on success runs `then`, on failure
  // sends the reference's E_AUTH_FAILED and closes.
  void query_auth(std::function<void()> then);

  void send_response(std::string_view data);
  void send_error(const protocol::ProtocolError& err);
  void append_output_locked(std::string_view bytes);
  void schedule_write_locked();
  void do_write();
  void on_write(const boost::system::error_code& ec);
  void close_after_flush();

  void arm_timer();
  void on_timer(const boost::system::error_code& ec);
  void reset_read_deadline();

  void close(const std::string& reason);

  // --- transport (see docs/transport.md) ---
  // After the IDENTIFY reply is written, upgrades the connection one step at a time (TLS,
  // then snappy or deflate), each acknowledged by an OK frame in the new encoding.
  void continue_upgrade();
  void on_tls_handshake(const boost::system::error_code& ec);
  void finish_upgrade();
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
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  const int64_t id_;
  CloseCallback on_close_;
  std::string remote_address_;
  std::string remote_host_;
  int64_t connect_ts_;

  // --- event-loop-only state ---
  protocol::V2Parser parser_;
  std::vector<char> in_buf_;
  size_t in_start_ = 0;
  size_t in_end_ = 0;
  bool magic_ok_ = false;
  bool reading_ = false;       // an async_read_some is outstanding
  bool input_paused_ = false;  // output backlog too large: stop taking commands
  bool closing_after_flush_ = false;
  std::optional<protocol::ProtocolError> pending_eof_error_;
  ClientSettings settings_;
  std::shared_ptr<Channel> channel_;
  std::vector<MessageId> pending_fins_;
  std::vector<Channel::FinishError> fin_errors_;  // scratch for flush_pending_fins()
  std::vector<MessagePtr> fin_release_;           // scratch: freed outside the channel lock
  int64_t read_deadline_ns_ = 0;                  // 0 = none
  int64_t next_heartbeat_ns_ = 0;
  int64_t timer_due_ns_ = 0;
  bool timer_armed_ = false;

  // --- shared with channel threads ---
  std::atomic<int32_t> state_{static_cast<int32_t>(protocol::ClientState::kInit)};
  std::atomic<int64_t> ready_count_{0};
  std::atomic<int64_t> in_flight_count_{0};
  std::atomic<uint64_t> message_count_{0};
  std::atomic<uint64_t> finish_count_{0};
  std::atomic<uint64_t> requeue_count_{0};
  std::atomic<int64_t> msg_timeout_ns_{0};
  std::atomic<int32_t> sample_rate_{0};
  std::atomic<bool> closed_{false};

  // Transport state, event-loop-only. Both are null on a plain connection, which keeps the
  // plain path a direct socket read/write.
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  std::unique_ptr<codec::StreamCodec> codec_;
  std::vector<char> raw_in_;  // compressed bytes as read
  std::string decoded_in_;    // scratch: decoded bytes before they join in_buf_
  std::string out_encoded_;   // the write in progress, encoded
  std::optional<NegotiatedFeatures> pending_upgrade_;  // steps left after the IDENTIFY reply
  bool upgrading_ = false;            // input stays paused until the upgrade is done
  bool tls_policy_required_ = false;  // --tls-required: commands need TLS first
  bool tls_handshaking_ = false;
  bool tls_handshake_timed_out_ = false;
  std::string tls_common_name_;  // of the client certificate (sent to auth servers)

  // --- authorization, event-loop-only ---
  std::optional<AuthState> auth_;
  std::string auth_secret_;
  bool auth_pending_ = false;  // an auth query is running: input paused

  mutable std::mutex out_mu_;
  std::string out_pending_;    // frames waiting for the next write
  std::string out_writing_;    // frames of the write in progress
  bool write_active_ = false;  // a write is posted or in progress
  int64_t write_started_ns_ = 0;

  mutable std::mutex meta_mu_;  // identity fields read by stats()
  std::string client_id_;
  std::string hostname_;
  std::string user_agent_;
  std::map<std::string, uint64_t> pub_counts_;
  bool snappy_ = false;
  bool deflate_ = false;
  bool tls_on_ = false;
  std::string tls_version_;
  std::string tls_cipher_;
  bool authed_ = false;
  std::string auth_identity_;
  std::string auth_identity_url_;
};

}  // namespace nsq::nsqd
