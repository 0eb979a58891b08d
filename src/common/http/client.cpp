#include "common/http/client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <charconv>
#include <memory>
#include <type_traits>

namespace nsq::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::optional<Url> parse_url(std::string_view text) {
  Url u;
  const size_t scheme_end = text.find("://");
  if (scheme_end != std::string_view::npos) {
    u.scheme = std::string(text.substr(0, scheme_end));
    for (auto& c : u.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    text.remove_prefix(scheme_end + 3);
  }
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  u.port = u.scheme == "https" ? 443 : 80;
  const size_t path_start = text.find_first_of("/?");
  std::string_view authority = text.substr(0, path_start);
  if (path_start != std::string_view::npos) {
    u.target = std::string(text.substr(path_start));
    if (u.target.front() == '?') u.target.insert(0, "/");
  }
  std::string_view port;
  if (authority.starts_with("[")) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return std::nullopt;
  if (!port.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || p != port.data() + port.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    u.port = static_cast<uint16_t>(value);
  }
  return u;
}

std::string_view ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return v;
  }
  return {};
}

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Go's crypto/x509 words for the verification failures a misconfigured peer causes.
std::string go_verify_error(long result, const std::string& host) {
  switch (result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "tls: failed to verify certificate: x509: certificate is not valid for " + host;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "tls: failed to verify certificate: x509: certificate has expired or is not yet "
             "valid";
    default:
      return std::string("tls: failed to verify certificate: ") +
             X509_verify_cert_error_string(result);
  }
}

// One request over `Stream`: a beast::tcp_stream (http://) or a TlsStream (https://, with
// the handshake, SNI and the host-name check between connect and write).
template <class Stream>
class ClientOp : public std::enable_shared_from_this<ClientOp<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  ClientOp(const asio::any_io_executor& ex, ClientRequest req, ClientCallback done)
      : resolver_(ex),
        stream_(make_stream(ex, req)),
        req_(std::move(req)),
        done_(std::move(done)) {}

  void start() {
    beast::get_lowest_layer(stream_).expires_after(req_.connect_timeout);
    resolver_.async_resolve(req_.host, std::to_string(req_.port),
                            [self = this->shared_from_this()](beast::error_code ec,
                                                              tcp::resolver::results_type results) {
                              if (ec) return self->fail(ec, "resolve");
                              self->connect(results);
                            });
  }

 private:
  static Stream make_stream(const asio::any_io_executor& ex, const ClientRequest& req) {
    if constexpr (kTls) {
      return Stream(ex, *req.tls);
    } else {
      return Stream(ex);
    }
  }

  void connect(const tcp::resolver::results_type& results) {
    beast::get_lowest_layer(stream_).async_connect(
        results, [self = this->shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
          if (ec)
            return self->fail(ec, ec == beast::error::timeout ? "connect timeout" : "connect");
          if constexpr (kTls) {
            self->handshake();
          } else {
            self->write();
          }
        });
  }

  void handshake() {
    SSL* ssl = stream_.native_handle();
    boost::system::error_code not_ip;
    static_cast<void>(asio::ip::make_address(req_.host, not_ip));
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (!not_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, req_.host.c_str());  // Go sends no SNI for IPs
    } else {
      SSL_set_tlsext_host_name(ssl, req_.host.c_str());
      X509_VERIFY_PARAM_set1_host(param, req_.host.c_str(), 0);
    }
    stream_.async_handshake(
        asio::ssl::stream_base::client, [self = this->shared_from_this()](beast::error_code hec) {
          if (!hec) return self->write();
          const long result = SSL_get_verify_result(self->stream_.native_handle());
          if (result != X509_V_OK) {
            return self->fail_with(hec, go_verify_error(result, self->req_.host));
          }
          self->fail(hec, hec == beast::error::timeout ? "connect timeout" : "handshake");
        });
  }

  void write() {
    msg_.method_string(req_.method);
    msg_.target(req_.target);
    msg_.version(11);
    msg_.set(bhttp::field::host, req_.host + ":" + std::to_string(req_.port));
    msg_.set(bhttp::field::user_agent, "nsq-cpp/" NSQ_COMPAT_VERSION);
    if (req_.nsq_v1_accept) msg_.set(bhttp::field::accept, "application/vnd.nsq; version=1.0");
    for (const auto& [k, v] : req_.headers) msg_.set(k, v);
    msg_.set(bhttp::field::connection, "close");
    msg_.body() = std::move(req_.body);
    // POST/PUT always carry a length, as Go's client does for an empty body.
    if (!msg_.body().empty() || req_.method == "POST" || req_.method == "PUT") {
      msg_.prepare_payload();
    }
    beast::get_lowest_layer(stream_).expires_after(req_.request_timeout);
    bhttp::async_write(stream_, msg_,
                       [self = this->shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) return self->fail(ec, "write");
                         self->read();
                       });
  }

  void read() {
    parser_.body_limit(req_.body_limit);
    bhttp::async_read(
        stream_, buffer_, parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
          if (ec) {
            return self->fail(ec, ec == beast::error::timeout ? "request timeout" : "read");
          }
          self->finish();
        });
  }

  void finish() {
    ClientResponse resp;
    auto& m = parser_.get();
    resp.status = m.result_int();
    for (const auto& f : m) resp.headers.emplace_back(f.name_string(), f.value());
    resp.body = std::move(m.body());
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    complete(std::move(resp));
  }

  void fail(beast::error_code ec, const std::string& what) {
    fail_with(ec, what + ": " + ec.message());
  }

  void fail_with(beast::error_code ec, std::string error) {
    ClientResponse resp;
    resp.ec = ec;
    resp.error = std::move(error);
    complete(std::move(resp));
  }

  void complete(ClientResponse resp) {
    if (!done_) return;
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(resp));
  }

  tcp::resolver resolver_;
  Stream stream_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::string_body> msg_;
  bhttp::response_parser<bhttp::string_body> parser_;
  ClientRequest req_;
  ClientCallback done_;
};

}  // namespace

void async_request(const asio::any_io_executor& ex, ClientRequest request, ClientCallback done) {
  if (request.tls) {
    std::make_shared<ClientOp<TlsStream>>(ex, std::move(request), std::move(done))->start();
  } else {
    std::make_shared<ClientOp<beast::tcp_stream>>(ex, std::move(request), std::move(done))->start();
  }
}

}  // namespace nsq::http
