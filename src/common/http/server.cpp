#include "common/http/server.hpp"

#include <sys/socket.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <type_traits>

#include "common/http/request_head.hpp"
#include "common/log/logger.hpp"
#include "common/net/acceptor.hpp"

namespace nsq::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Socket = net::StreamSocket;

namespace {

constexpr std::string_view kHeaderTooLarge =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; "
    "charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large";
constexpr std::string_view kHttpToHttps =
    "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// After the last response of a connection that still has unread input, keep reading (and
// dropping) it for a moment so that closing does not reset the connection before the peer
// has read the answer (net/http does the same).
constexpr auto kLingerTime = std::chrono::milliseconds(500);

}  // namespace

// What the server needs of a session whatever its transport.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
};

// State shared by the server and its sessions, so a session never points at a dead server.
struct detail::ServerShared {
  Service& service;
  ServerOptions options;
  std::mutex mu;
  bool stopped = false;
  uint64_t next_id = 0;
  std::map<uint64_t, std::weak_ptr<SessionBase>> sessions;

  ServerShared(Service& s, ServerOptions o) : service(s), options(std::move(o)) {}
};

using TlsStream = asio::ssl::stream<Socket>;

// One connection over `Stream`: a plain socket (HTTP, TCP or unix) or a TlsStream (HTTPS,
// handshaken before the first read). Lives on its socket's loop; kept alive by its pending
// operations.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(std::shared_ptr<detail::ServerShared> shared, Stream socket, uint64_t id)
      : shared_(std::move(shared)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        id_(id) {}

  ~Session() {
    std::lock_guard lock(shared_->mu);
    shared_->sessions.erase(id_);
  }

  void start() override {
    asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
      self->remote_ = net::peer_address(self->tcp_socket()).address;
      boost::system::error_code ec;  // fails harmlessly on a unix socket
      self->tcp_socket().set_option(asio::ip::tcp::no_delay(true), ec);
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->read_header();
      }
    });
  }

  void stop() override {
    asio::post(socket_.get_executor(), [self = this->shared_from_this()] { self->close(); });
  }

 private:
  const ServerOptions& opts() const { return shared_->options; }

  Socket& tcp_socket() {
    if constexpr (kTls) {
      return socket_.next_layer();
    } else {
      return socket_;
    }
  }

  // HTTPS: the TLS handshake under the read deadline. A failure is logged as net/http's
  // ErrorLog does ("http: TLS handshake error from <addr>: <reason>") and closes the
  // connection; nothing is ever served in plain text on this listener.
  void handshake() {
    set_deadline(opts().read_timeout);
    tcp_socket().async_wait(Socket::wait_read,
                            [self = this->shared_from_this()](beast::error_code ec) {
                              if (self->closed_) return;
                              if (ec) return self->close();
                              if (self->plain_http_on_tls()) return self->refuse_plain_http();
                              self->start_handshake();
                            });
  }

  // net/http's check before its handshake error: a first record that reads like an HTTP
  // request gets a plain-text 400 instead of a TLS alert (and no log line).
  bool plain_http_on_tls() {
    char head[5];
    const ssize_t n = ::recv(tcp_socket().native_handle(), head, sizeof head, MSG_PEEK);
    if (n != static_cast<ssize_t>(sizeof head)) return false;
    const std::string_view h(head, sizeof head);
    return h == "GET /" || h == "HEAD " || h == "POST " || h == "PUT /" || h == "OPTIO";
  }

  // Written on the TCP socket itself (there is no TLS session), then closed like Go's. The
  // request is read first, so that the close does not reset the connection under the answer.
  void refuse_plain_http() {
    boost::system::error_code ec;
    drain_buf_.resize(tcp_socket().available(ec));
    if (!drain_buf_.empty()) tcp_socket().read_some(asio::buffer(drain_buf_), ec);
    out_.assign(kHttpToHttps);
    asio::async_write(
        tcp_socket(), asio::buffer(out_),
        [self = this->shared_from_this()](beast::error_code, size_t) { self->close(); });
  }

  void start_handshake() {
    socket_.async_handshake(
        asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
          if (self->closed_) return;
          if (ec) {
            log::warn("http: TLS handshake error from {}: {}", self->remote_, ec.message());
            return self->close();
          }
          self->read_header();
        });
  }

  void set_deadline(std::chrono::nanoseconds after) {
    deadline_ = std::chrono::steady_clock::now() + after;
    if (!timer_armed_ || deadline_ < timer_due_) arm_timer();
  }

  void arm_timer() {
    timer_armed_ = true;
    timer_due_ = deadline_;
    timer_.expires_at(deadline_);
    timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;  // re-armed or closing
      self->timer_armed_ = false;
      if (self->closed_) return;
      if (std::chrono::steady_clock::now() >= self->deadline_) {
        self->close();  // cancels the pending read/write
      } else {
        self->arm_timer();
      }
    });
  }

  void read_header() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(opts().header_limit);
    // The real limit is set once the service saw the head; until then nothing caps the
    // declared length, so that body_too_big() (not Beast) answers an over-long one.
    parser_->body_limit(boost::none);
    set_deadline(opts().idle_timeout);
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
          ec == asio::ssl::error::stream_truncated) {
        close();
      } else if (ec == bhttp::error::header_limit) {
        write_raw_and_close(kHeaderTooLarge);
      } else {
        write_raw_and_close(kRawBadRequest);
      }
      return;
    }
    const auto& msg = parser_->get();
    req_ = Request{};
    req_.remote_address = remote_;
    req_.tls = kTls;
    std::optional<uint64_t> content_length;
    if (auto len = parser_->content_length()) content_length = *len;
    if (auto refusal = accept_request_head(msg.base(), content_length, req_); !refusal.empty()) {
      write_raw_and_close(refusal);
      return;
    }
    keep_alive_ = msg.keep_alive();
    started_ = std::chrono::steady_clock::now();

    const uint64_t limit = shared_->service.body_limit(req_);
    if (parser_->is_done()) {
      dispatch();
      return;
    }
    if (req_.content_length && *req_.content_length > limit) {
      too_big();
      return;
    }
    parser_->body_limit(limit);
    set_deadline(opts().read_timeout);
    if (req_.version >= 11 && boost::beast::iequals(req_.header("Expect"), "100-continue")) {
      asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = this->shared_from_this()](beast::error_code wec, size_t) {
                          if (wec) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(socket_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (self->closed_) return;
                        if (ec == bhttp::error::body_limit) return self->too_big();
                        if (ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
                            ec == asio::error::operation_aborted ||
                            ec == asio::ssl::error::stream_truncated) {
                          return self->close();
                        }
                        if (ec) {
                          if (!self->shared_->service.handles_incomplete_body(self->req_)) {
                            return self->write_raw_and_close(kRawBadRequest);
                          }
                          self->req_.body_incomplete = true;
                          self->keep_alive_ = false;  // the stream is out of sync
                        }
                        self->dispatch();
                      });
  }

  void too_big() {
    Response resp;
    shared_->service.body_too_big(req_, resp);
    // Unread body bytes remain on the wire: this connection cannot carry another request.
    keep_alive_ = false;
    write_response(resp);
  }

  void dispatch() {
    req_.body = std::move(parser_->get().body());
    // The answer may come from another thread (handle_async): hop back to this loop.
    shared_->service.handle_async(req_, [self = this->shared_from_this()](Response resp) {
      auto ex = self->socket_.get_executor();
      asio::dispatch(ex, [self = std::move(self), resp = std::move(resp)] {
        if (self->closed_) return;
        if (resp.close) self->keep_alive_ = false;
        self->write_response(resp);
      });
    });
  }

  void write_response(const Response& resp) {
    const bool head = req_.method == bhttp::verb::head;
    out_ = serialize_response(resp, !head, !keep_alive_, req_.version);
    set_deadline(opts().write_timeout);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (self->closed_) return;
                        if (ec) return self->close();
                        if (self->keep_alive_) {
                          self->req_ = Request{};
                          self->read_header();
                        } else {
                          self->linger_and_close();
                        }
                      });
  }

  void write_raw_and_close(std::string_view bytes) {
    out_.assign(bytes);
    set_deadline(opts().write_timeout);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = this->shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        self->linger_and_close();
                      });
  }

  void linger_and_close() {
    boost::system::error_code ignored;
    tcp_socket().shutdown(Socket::shutdown_send, ignored);
    set_deadline(std::chrono::duration_cast<std::chrono::nanoseconds>(kLingerTime));
    drain();
  }

  void drain() {
    drain_buf_.resize(16384);
    socket_.async_read_some(asio::buffer(drain_buf_),
                            [self = this->shared_from_this()](beast::error_code ec, size_t) {
                              if (ec || self->closed_) return self->close();
                              self->drain();
                            });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    tcp_socket().shutdown(Socket::shutdown_both, ignored);
    tcp_socket().close(ignored);
    timer_.cancel();
  }

  std::shared_ptr<detail::ServerShared> shared_;
  Stream socket_;
  asio::steady_timer timer_;
  const uint64_t id_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request req_;
  std::string out_;
  std::string drain_buf_;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool timer_armed_ = false;
  std::chrono::steady_clock::time_point deadline_{};
  std::chrono::steady_clock::time_point timer_due_{};
  std::chrono::steady_clock::time_point started_{};
};

Server::Server(net::IoPool& pool, Service& service, ServerOptions options)
    : shared_(std::make_shared<detail::ServerShared>(service, std::move(options))),
      acceptor_(pool, shared_->options.name) {}

Server::~Server() = default;

util::Status Server::listen(const std::string& address) {
  return acceptor_.listen(address, shared_->options.allow_unix);
}

asio::ip::tcp::endpoint Server::local_endpoint() const {
  return acceptor_.tcp_endpoint().value_or(asio::ip::tcp::endpoint{});
}

void Server::start_accepting() {
  // Logged once serving (nsqd: after nsqd.dat is loaded, in the reference's order).
  acceptor_.start([this](Socket socket) {
    std::shared_ptr<SessionBase> session;
    {
      std::lock_guard lock(shared_->mu);
      if (shared_->stopped) return;
      const uint64_t id = ++shared_->next_id;
      if (const auto& tls = shared_->options.tls) {
        session =
            std::make_shared<Session<TlsStream>>(shared_, TlsStream(std::move(socket), *tls), id);
      } else {
        session = std::make_shared<Session<Socket>>(shared_, std::move(socket), id);
      }
      shared_->sessions.emplace(id, session);
    }
    session->start();
  });
}

void Server::stop() {
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->stopped) return;
    shared_->stopped = true;
    for (auto& [id, weak] : shared_->sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  acceptor_.stop();
  for (auto& s : live) s->stop();
}

}  // namespace nsq::http
