// Acceptor: the one listening socket every daemon here uses (nsqd TCP/HTTP/HTTPS, nsqlookupd
// TCP/HTTP, nsqadmin HTTP). It listens on a "host:port" TCP address or, where the daemon allows
// it, on a unix socket path (the reference's util.TypeOfAddr: whatever does not split as
// host:port), accepts on loop 0 of an IoPool and hands each socket, already pinned to the next
// loop, to the daemon's callback. It logs "<NAME>: listening on <ADDR>" and "<NAME>: closing
// <ADDR>" as the reference's listeners do, and removes its unix socket file on stop (Go's
// UnixListener.Close does; a file left behind by a crash makes the next start fail with
// "address already in use", as the reference's does).
//
// Owner: a daemon's server object. listen()/start()/stop() run on the owner's thread; the
// accept handler on loop 0.
#pragma once

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/net/io_pool.hpp"
#include "common/util/result.hpp"

namespace nsq::net {

// A connection over TCP or a unix socket; everything above the acceptor uses this type.
using StreamSocket = boost::asio::generic::stream_protocol::socket;

// Go's util.TypeOfAddr: true when `address` does not split as host:port (a unix socket path).
bool is_unix_address(std::string_view address);

// The peer of a connection as the reference prints it: "ip:port" ("[v6]:port") for TCP, "@"
// for an unnamed unix peer (Go's name for it), "" when the peer is already gone. `host` is
// the address without the port ("" for unix, as net.SplitHostPort fails on "@").
struct PeerAddress {
  std::string address;
  std::string host;
  bool unix_socket = false;
};
PeerAddress peer_address(const StreamSocket& socket);
// This end of a connection, printed the same way ("/path" for a unix socket).
std::string local_address(const StreamSocket& socket);

class Acceptor {
 public:
  using OnAccept = std::function<void(StreamSocket)>;

  // `name` prefixes the log lines ("TCP", "HTTP", "HTTPS").
  Acceptor(IoPool& pool, std::string name);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Binds and listens on `address`; a unix path only when `allow_unix` (otherwise such an
  // address fails as Go's TCP listen does: "missing port in address"). On failure false with
  // the reference's message ("listen (ADDR) failed - listen tcp ADDR: bind: ...").
  util::Status listen(const std::string& address, bool allow_unix);
  bool listening() const { return listening_; }
  // Logs "NAME: listening on ADDR" and starts accepting; every socket goes to `on_accept` on
  // the acceptor's loop (the socket's own executor is the loop it is pinned to).
  void start(OnAccept on_accept);
  // Logs "NAME: closing ADDR", stops accepting, removes a unix socket file (idempotent).
  void stop();

  // The bound address as the reference prints it: "127.0.0.1:4150", "[::1]:4150", "/path".
  const std::string& address() const { return address_; }
  // The bound TCP endpoint; nullopt on a unix socket or before listen().
  std::optional<boost::asio::ip::tcp::endpoint> tcp_endpoint() const { return tcp_endpoint_; }

 private:
  void do_accept();

  LoopRoundRobin loops_;  // the loop of each accepted connection
  std::string name_;
  boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol> acceptor_;
  OnAccept on_accept_;
  std::string address_;
  std::optional<boost::asio::ip::tcp::endpoint> tcp_endpoint_;
  std::string unix_path_;  // the socket file to remove on stop
  bool listening_ = false;
  bool stopped_ = false;
};

// Keeps the live connections of one listener so stop() can close them and /stats can list
// them. Connections remove themselves (by id) when they close. Thread-safe.
template <class Conn, class Id = uint64_t>
class ConnectionRegistry {
 public:
  // false once close_all() ran: the caller drops the new connection.
  bool add(Id id, const std::shared_ptr<Conn>& conn) {
    std::lock_guard lock(mu_);
    if (stopped_) return false;
    conns_.emplace(id, conn);
    return true;
  }
  void remove(Id id) {
    std::lock_guard lock(mu_);
    conns_.erase(id);
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return conns_.size();
  }
  // The live connections, to be used outside the registry's lock.
  std::vector<std::shared_ptr<Conn>> live() const {
    std::lock_guard lock(mu_);
    return live_locked();
  }
  // Refuses further add()s and returns the live connections for the caller to stop.
  std::vector<std::shared_ptr<Conn>> close_all() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    return live_locked();
  }

 private:
  std::vector<std::shared_ptr<Conn>> live_locked() const {
    std::vector<std::shared_ptr<Conn>> out;
    out.reserve(conns_.size());
    for (const auto& [id, weak] : conns_) {
      if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
  }

  mutable std::mutex mu_;
  std::map<Id, std::weak_ptr<Conn>> conns_;
  bool stopped_ = false;
};

}  // namespace nsq::net
