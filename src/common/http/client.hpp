// A minimal asynchronous HTTP/1.1 client for the daemons' peer calls (nsqd -> auth server,
// nsqadmin -> nsqd/nsqlookupd): one connection per request, connect and request deadlines
// like the reference's http_api.Client (-http-client-connect-timeout / -request-timeout),
// a cap on the response body, and the `Accept: application/vnd.nsq; version=1.0` header the
// reference's GETV1/POSTV1 send. With ClientRequest::tls the request goes over TLS (https://):
// the server's chain is verified as the context says, and its certificate must name the host
// (DNS name, or IP address for an IP host), as Go's crypto/tls checks.
//
// Threads: the completion handler runs on the given executor; the request object keeps itself
// alive until then. Safe to start from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nsq::http {

struct Url {
  std::string scheme = "http";
  std::string host;
  uint16_t port = 80;
  std::string target = "/";  // path + "?query"
};

// Parses "http://host:port/path?q", "host:port/path" (http assumed) and IPv6 "[::1]:4151".
std::optional<Url> parse_url(std::string_view text);

struct ClientRequest {
  std::string method = "GET";
  std::string host;
  uint16_t port = 80;
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{5000};
  uint64_t body_limit = 64ull << 20;
  bool nsq_v1_accept = true;  // send Accept: application/vnd.nsq; version=1.0
  // Set: HTTPS with this client context (see net::build_client_tls_context).
  std::shared_ptr<boost::asio::ssl::context> tls;
};

struct ClientResponse {
  boost::system::error_code ec;  // transport error (then status is 0)
  std::string error;             // human-readable failure ("connect timeout", ...)
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  bool ok() const { return !ec && status != 0; }
  std::string_view header(std::string_view name) const;
};

using ClientCallback = std::function<void(ClientResponse)>;

void async_request(const boost::asio::any_io_executor& ex, ClientRequest request,
                   ClientCallback done);

}  // namespace nsq::http
