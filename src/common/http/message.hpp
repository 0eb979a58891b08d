// Request and Response: what an HTTP service sees and answers, independent of Beast's types so
// services and their unit tests stay simple. serialize_response() writes the bytes the way Go's
// net/http does for NSQ's daemons (status line, the handler's headers sorted by name, then
// Date, Content-Length and a sniffed Content-Type), so byte-level comparisons with the
// reference only differ in the Date value.
// Plain values; not thread-safe.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/router.hpp"

namespace nsq::http {

struct Request {
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  std::string method_text;  // as sent, e.g. "GET"
  std::string target;       // request-target as sent (Go's RequestURI): "/pub?topic=a"
  std::string path;         // decoded path: "/pub"
  std::string raw_query;    // after '?', not decoded
  unsigned version = 11;    // 10 or 11
  const boost::beast::http::fields* headers = nullptr;
  std::optional<uint64_t> content_length;  // nullopt for chunked / absent
  std::string body;
  bool body_incomplete = false;  // reading the body failed: `body` is what came before
  std::string remote_address;    // "ip:port"
  bool tls = false;              // came over HTTPS (Go's req.TLS != nil)
  RouteMatch match;              // filled by a routing service

  std::string_view header(std::string_view name) const;
  std::string_view param(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  // Header names in Go's canonical form ("Content-Type", "X-Nsq-Content-Type").
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;  // close the connection after this response

  void set_header(std::string name, std::string value);
  bool has_header(std::string_view name) const;
};

// Go's http.StatusText.
std::string_view status_text(unsigned status);

// The response bytes. `with_body` is false for HEAD requests. `request_version` is the
// request's (10 or 11): Go answers an HTTP/1.0 request with an HTTP/1.0 status line, and
// states `Connection: keep-alive` there instead of `Connection: close`.
std::string serialize_response(const Response& r, bool with_body, bool connection_close,
                               unsigned request_version = 11);

// The current time as an HTTP Date header value, cached per second and thread.
const std::string& http_date_now();

}  // namespace nsq::http
