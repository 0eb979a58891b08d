// ProtocolV2: the commands of one V2 connection, without its socket. The reference splits
// the same way (protocol_v2.go executes, client_v2.go holds the connection), and so does our
// nsqlookupd (lookup_session / lookup_connection). ProtocolV2 parses the buffered input with
// V2Parser, executes each command against Nsqd, Topic and Channel, and keeps the session:
// IDENTIFY settings, the subscription, RDY and the counters channel threads read through
// Consumer, the AUTH grants. Whatever it needs of the connection goes through ClientPort, so
// unit tests drive every command with a fake port and no socket.
//
// Threads: the connection's event loop calls consume() and the session accessors; channel
// threads call only the Consumer-side members (atomics) and stats code fill_stats()
// (meta_mu_).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nsq/protocol/v2_parser.hpp"
#include "nsqd/nsqd.hpp"
#include "nsqd/queue/channel.hpp"
#include "nsqd/queue/consumer.hpp"
#include "nsqd/stats/client_stats.hpp"
#include "nsqd/tcp/auth_state.hpp"
#include "nsqd/tcp/identify_negotiation.hpp"

namespace nsq::nsqd {

// What the command layer needs of its connection. ClientV2 implements it over a socket.
class ClientPort {
 public:
  using AuthDone = std::function<void(std::optional<AuthState> state, std::string error)>;

  virtual ~ClientPort() = default;

  virtual void send_response(std::string_view data) = 0;
  virtual void send_error(const protocol::ProtocolError& err) = 0;  // and logs it
  // After a fatal error: writes what is queued, then closes.
  virtual void close_after_flush() = 0;
  virtual void close(const std::string& reason) = 0;
  // Whether another command may run now: false while closing, while the output backlog is
  // too large, and while an upgrade or an auth query is under way.
  virtual bool input_open() = 0;
  virtual bool tls_active() const = 0;
  // The Consumer that SUB registers with its channel: the connection itself.
  virtual std::shared_ptr<Consumer> consumer() = 0;
  // A command was taken: the read deadline starts again.
  virtual void command_done() = 0;
  // IDENTIFY changed the heartbeat interval: deadlines and heartbeats move.
  virtual void heartbeat_changed() = 0;
  // After the IDENTIFY reply is written, upgrade the transport (TLS, then snappy or deflate);
  // input stays closed until the upgrade is done.
  virtual void start_upgrade(const NegotiatedFeatures& features) = 0;
  // Queries the auth servers with `secret` (input closed meanwhile); `done` runs later on the
  // event loop unless the connection closed, and input resumes after it.
  virtual void query_auth(std::string secret, AuthDone done) = 0;
  virtual const std::string& remote_address() const = 0;  // for log lines
  // Runs a function on the connection's event loop later, unless the connection has closed
  // by then. The poster may be called from any thread, also after the connection is gone
  // (the function is then dropped): durable publishes complete on the commit thread.
  using LoopPost = std::function<void(std::function<void()> fn)>;
  virtual LoopPost loop_post() = 0;
  // Runs consume() again on what is buffered: a command held back until the earlier
  // responses were sent may run now. Posted, never inside the caller.
  virtual void resume_input() = 0;
};

class ProtocolV2 {
 public:
  // `remote_host` names the client in /stats until IDENTIFY, as in the reference.
  ProtocolV2(Nsqd& nsqd, ClientPort& port, int64_t client_id, const std::string& remote_host);

  struct InputResult {
    size_t consumed = 0;    // bytes of `input` taken by complete commands
    size_t need_total = 0;  // > 0: the next frame needs this many bytes from its start
  };
  // Parses and executes the commands in `input` until more bytes are needed or the port's
  // input closes.
  InputResult consume(std::string_view input);

  // The error a command cut short by EOF (or a read timeout) gets, if one is half read.
  const std::optional<protocol::ProtocolError>& pending_eof_error() const {
    return pending_eof_error_;
  }
  const ClientSettings& settings() const { return settings_; }
  protocol::ClientState state() const {
    return static_cast<protocol::ClientState>(state_.load(std::memory_order_relaxed));
  }

  // The connection is gone: leave the channel (idempotent; event loop).
  void detach();

  // --- Consumer side (any thread) ---
  bool ready_for_message() const;
  int64_t ready_capacity() const;
  int64_t msg_timeout_ns() const { return msg_timeout_ns_.load(std::memory_order_relaxed); }
  int32_t sample_rate() const { return sample_rate_.load(std::memory_order_relaxed); }
  void on_delivered();
  void message_done(Consumer::Outcome outcome);
  void in_flight_reset();

  // Fills the session's part of a /stats snapshot (counters, identity, pub counts, auth).
  void fill_stats(ClientStats& s) const;

 private:
  void execute(const protocol::Command& cmd);
  void exec_identify(const protocol::Command& cmd);
  void exec_sub(const protocol::Command& cmd);
  void exec_rdy(const protocol::Command& cmd);
  void exec_publish(const protocol::Command& cmd);
  void exec_response(const protocol::Command& cmd);  // FIN, REQ, TOUCH
  void exec_auth(const protocol::Command& cmd);
  // Consecutive FINs of one read are collected and finished together (Channel::finish_many);
  // any other command, error or the end of the input finishes them first, so responses keep
  // their order.
  void flush_pending_fins();
  // E_FIN_FAILED / E_REQ_FAILED / E_TOUCH_FAILED: "<name> <id> failed <reason>", not fatal.
  void send_response_failed(std::string_view name, const MessageId& id, std::string_view reason);
  void fail(const protocol::ProtocolError& err);  // send a fatal error, then close

  // Ordered responses (-durable): a durable PUB/MPUB/DPUB answers once its commit completes,
  // so its OK is a slot in out_queue_; every later response, error or close queues behind
  // it and goes out in command order. With the queue empty these call the port at once.
  void respond(std::string_view data);
  void respond_error(const protocol::ProtocolError& err);
  void respond_close_after_flush();
  // Commit thread -> this loop: the durable publish in slot `seq` is durable (error empty) or
  // failed (fatal E_<CMD>_FAILED and close, as a failed non-durable publish).
  void publish_committed(uint64_t seq, const std::string& error);
  void drain_out_queue();
  // IDENTIFY, AUTH and SUB change the connection (upgrade, auth query, deliveries) right
  // away, so they wait until every earlier response is out.
  static bool needs_answered_queue(protocol::CommandType type);

  // --auth-http-address: SUB/PUB/MPUB/DPUB need a grant. kRefresh = the grants expired and
  // are being re-queried; the command stays unconsumed and is parsed again afterwards.
  enum class AuthCheck { kAllowed, kDenied, kRefresh };
  AuthCheck check_auth(protocol::CommandType type, std::string_view topic,
                       std::string_view channel);
  // Queries the auth servers; on success stores the grants and runs `then`, on failure sends
  // the reference's E_AUTH_FAILED and closes.
  void query_auth(std::function<void()> then);

  Nsqd& nsqd_;
  const NsqdOptions& opts_;
  ClientPort& port_;
  const int64_t id_;
  const bool auth_enabled_;
  const bool tls_policy_required_;  // --tls-required: commands need TLS first

  // --- event-loop-only ---
  protocol::V2Parser parser_;
  std::optional<protocol::ProtocolError> pending_eof_error_;
  ClientSettings settings_;
  std::shared_ptr<Channel> channel_;
  std::vector<MessageId> pending_fins_;
  std::vector<Channel::FinishError> fin_errors_;  // scratch for flush_pending_fins()
  std::vector<MessagePtr> fin_release_;           // scratch: freed outside the channel lock
  std::optional<AuthState> auth_;
  std::string auth_secret_;

  struct OutSlot {
    enum class Kind { kResponse, kError, kCloseAfterFlush, kPublish };
    Kind kind = Kind::kResponse;
    bool ready = true;  // false: a publish whose commit has not completed
    std::string data;   // kResponse
    protocol::ProtocolError error;
    std::string topic;  // kPublish: counted in pub_counts_ once durable
    size_t count = 0;
    protocol::CommandType command = protocol::CommandType::kPub;
  };
  std::deque<OutSlot> out_queue_;
  uint64_t out_front_seq_ = 0;  // the sequence number of out_queue_.front()
  bool input_held_ = false;     // a command waits for out_queue_ to drain
  bool close_queued_ = false;   // a fatal error is queued: no further command runs
  ClientPort::LoopPost loop_post_;

  // --- shared with channel threads ---
  std::atomic<int32_t> state_{static_cast<int32_t>(protocol::ClientState::kInit)};
  std::atomic<int64_t> ready_count_{0};
  std::atomic<int64_t> in_flight_count_{0};
  std::atomic<uint64_t> message_count_{0};
  std::atomic<uint64_t> finish_count_{0};
  std::atomic<uint64_t> requeue_count_{0};
  std::atomic<int64_t> msg_timeout_ns_{0};
  std::atomic<int32_t> sample_rate_{0};

  mutable std::mutex meta_mu_;  // identity fields read by fill_stats()
  std::string client_id_;
  std::string hostname_;
  std::string user_agent_;
  std::map<std::string, uint64_t> pub_counts_;
  bool authed_ = false;
  std::string auth_identity_;
  std::string auth_identity_url_;
};

}  // namespace nsq::nsqd
