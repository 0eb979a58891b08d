// Server: an HTTP/1.1 listener on Boost.Beast for the daemons' APIs. It accepts on one loop of
// an IoPool and pins each connection to the next loop (like the TCP servers); a connection
// serves requests one after another (keep-alive, pipelined requests are read in order).
//
// What it guarantees to a Service:
//   * the body is only read after Service::body_limit() saw the head, and never beyond that
//     limit: a Content-Length over it is refused before reading, a chunked body when it
//     crosses it; Service::body_too_big() answers and the connection is closed;
//   * `Expect: 100-continue` is honoured once the body is going to be read;
//   * bytes that are not HTTP get Go's raw `HTTP/1.1 400 Bad Request` (431 for an over-long
//     head) and a close, as net/http answers e.g. a TCP protocol client sending "  V2";
//   * deadlines: idle between requests, reading a body, writing a response;
//   * with ServerOptions::tls, the same over TLS (a failed handshake is logged and closed).
// Handlers run on the connection's loop thread and must not block.
//
// Owner: a daemon's server object, which must keep the Service alive until stop() returned and
// the loops are joined. listen()/start_accepting()/stop() are called from the owner's thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/http/message.hpp"
#include "common/net/acceptor.hpp"
#include "common/net/io_pool.hpp"

namespace nsq::http {

namespace detail {
struct ServerShared;  // state shared by a Server and its connections (server.cpp)
}  // namespace detail

class Service {
 public:
  virtual ~Service() = default;
  // The head is in, the body is not read yet: the most body bytes this request may carry.
  // A service may route here and remember the result in `req.match`.
  virtual uint64_t body_limit(Request& req) = 0;
  // The declared or actual body exceeds body_limit(): the answer (the connection closes).
  virtual void body_too_big(Request& req, Response& resp) = 0;
  virtual void handle(Request& req, Response& resp) = 0;
  // Asynchronous form, for services whose answer waits on other servers (nsqadmin): `done` may
  // be called later from any thread, exactly once; `req` stays valid until then. The default
  // answers synchronously through handle().
  virtual void handle_async(Request& req, std::function<void(Response)> done) {
    Response resp;
    handle(req, resp);
    done(std::move(resp));
  }
  // The body turned out malformed (e.g. a bad chunk) after the head was accepted. true: call
  // handle() anyway with what was read and `req.body_incomplete` set (Go handlers see a read
  // error and answer themselves); false: net/http's raw 400. The connection closes either way.
  virtual bool handles_incomplete_body(const Request&) { return false; }
};

struct ServerOptions {
  std::string name = "HTTP";        // log prefix: "HTTP: listening on ..."
  uint32_t header_limit = 1 << 20;  // Go's DefaultMaxHeaderBytes
  std::chrono::nanoseconds idle_timeout = std::chrono::minutes(5);
  std::chrono::nanoseconds read_timeout = std::chrono::seconds(60);
  std::chrono::nanoseconds write_timeout = std::chrono::seconds(60);
  // Set: every connection is TLS (HTTPS), handshaken with this context before any request
  // is read; requests carry `tls = true`. Shared with the TCP listener's TLS.
  std::shared_ptr<boost::asio::ssl::context> tls;
  // A -http-address that is not host:port is a unix socket path (nsqd's HTTP API, as the
  // reference); elsewhere the reference only listens on TCP.
  bool allow_unix = false;
};

class Server {
 public:
  Server(net::IoPool& pool, Service& service, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; false with a reference-style message on failure.
  util::Status listen(const std::string& address);
  void start_accepting();
  // Stops accepting and closes every connection (idempotent).
  void stop();

  // The bound TCP endpoint (port 0 on a unix socket or when not listening).
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  const net::Acceptor& acceptor() const { return acceptor_; }
  bool listening() const { return acceptor_.listening(); }

 private:
  std::shared_ptr<detail::ServerShared> shared_;
  net::Acceptor acceptor_;
};

}  // namespace nsq::http
