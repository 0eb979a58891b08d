// LookupdClient: keeps this nsqd registered with every configured nsqlookupd (the
// reference's lookupLoop in nsqd/lookup.go). One background thread owns a LookupPeer per address:
//   * on every (re)connect: IDENTIFY (broadcast address, hostname, ports, version), then
//     REGISTER every topic and channel that exists at that moment;
//   * topic/channel creation and deletion (Nsqd registry events, queued by the observer) are
//     sent as REGISTER/UNREGISTER to every peer, in the order they happened (a disconnected
//     peer is dialled then, as the reference's lazy Command(), and registers everything);
//   * PING every 15 s, as the reference (dialling a disconnected peer first).
// Beyond the reference, a closed connection is noticed as soon as lookupd closes it (the
// thread polls the idle sockets) and is re-established with a 1 s..15 s backoff, instead of
// on the next-but-one ping; a lookupd that is down at start-up is retried the same way while
// nsqd keeps serving. Those extra retries are silent: failures are logged only where the
// reference logs them (adding the peer, a registration, a ping), so the log reads the same.
//
// Threads: set_addresses()/addresses()/http_addresses()/the observer may be called from any
// thread (short mutex); all network I/O happens on the client's own thread. Lifecycle: built
// by NsqdServer before serving, start() after the listeners are bound, stop() before the
// topics are closed.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/util/result.hpp"
#include "nsqd/nsqd.hpp"

namespace nsq::nsqd {

class LookupPeer;

// What IDENTIFY tells each lookupd about this nsqd.
struct LookupdIdentity {
  std::string broadcast_address;
  std::string hostname;
  int64_t tcp_port = 0;
  int64_t http_port = 0;
};

class LookupdClient : public std::enable_shared_from_this<LookupdClient> {
 public:
  static constexpr std::chrono::seconds kPingInterval{15};

  LookupdClient(Nsqd& nsqd, std::vector<std::string> addresses, int64_t max_body_size);
  ~LookupdClient();
  LookupdClient(const LookupdClient&) = delete;
  LookupdClient& operator=(const LookupdClient&) = delete;

  // Subscribes to nsqd's registry events (call before serving; keeps a weak reference).
  void observe(Nsqd& nsqd);
  // Starts the thread; `identity` carries the real (or broadcast) ports.
  void start(LookupdIdentity identity);
  // Closes every connection and joins the thread (idempotent).
  void stop();

  // Replaces the lookupd list: peers not in it are dropped, new ones connected (PUT
  // /config/nsqlookupd_tcp_addresses). Duplicates are ignored.
  void set_addresses(std::vector<std::string> addresses);
  std::vector<std::string> addresses() const;
  // "<broadcast_address>:<http_port>" of every lookupd that answered IDENTIFY.
  std::vector<std::string> http_addresses() const;
  // The channels the connected lookupds know for `topic` (GET /channels on each, union), for
  // pre-creating them on a new topic. Blocks the calling thread for the HTTP round trips
  // (bounded by the timeouts), as the reference's GetTopic does. Empty on failure (logged).
  std::vector<std::string> topic_channels(const std::string& topic,
                                          std::chrono::nanoseconds connect_timeout,
                                          std::chrono::nanoseconds request_timeout) const;

 private:
  struct PeerState;

  void enqueue(const RegistryEvent& event);
  void wake();
  void run();
  void sync_peers(std::vector<std::unique_ptr<PeerState>>& peers);
  // Dials, IDENTIFYs and registers everything: true when all of it worked. A failed dial is
  // the error, for the caller to log at the reference's pace (background retries stay
  // silent); a failure after the dial is logged here and gives false.
  // `announce`: log the reference's "LOOKUP connecting to".
  util::Result<bool> connect_peer(PeerState& peer, bool announce);
  void send_to_all(std::vector<std::unique_ptr<PeerState>>& peers, const std::string& command,
                   const std::string& label);
  void failed(PeerState& peer, const std::string& what, const std::string& error);
  // Closes the peer and schedules the next dial (backoff), without logging.
  void retry_later(PeerState& peer);
  void publish_http_addresses(const std::vector<std::unique_ptr<PeerState>>& peers);

  Nsqd& nsqd_;
  const int64_t max_body_size_;
  LookupdIdentity identity_;
  int wake_fds_[2] = {-1, -1};
  std::thread thread_;

  mutable std::mutex mu_;
  std::vector<std::string> addresses_;
  std::vector<std::string> http_addresses_;
  std::deque<RegistryEvent> events_;
  bool stopping_ = false;
  bool started_ = false;
};

}  // namespace nsq::nsqd
