// Drives a daemon's real HTTP service (its RoutedService: router, handlers, body limits) with
// requests decoded from fuzz input, through the same steps http::Server takes for a request
// read from a socket: Beast's parser on the head, accept_request_head() (net/http's checks),
// Service::body_limit() before the body is read, body_too_big() / handles_incomplete_body(),
// then handle_async(). Only the socket is left out. Used by fuzz/*_http_fuzz.cpp.
//
// Input: one or more requests separated by a line "===". Each is written like an HTTP request
// without the ceremony, LF or CRLF line ends:
//
//   POST /pub?topic=t            request line; " HTTP/1.1" is added unless a version is given
//   Content-Type: text/plain     header lines, up to an empty line (a Host header is added when
//                                none is given, a Content-Length when the body is not empty and
//   hello                        neither it nor Transfer-Encoding is given); the rest is the body
//
// The harness writes the wire bytes and parses them with Beast as the server would; a head
// Beast or net/http refuses gets the raw 400/431/501 answer, as on a socket.
#pragma once

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdio>
#include <exception>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/message.hpp"
#include "common/http/request_head.hpp"
#include "common/http/server.hpp"
#include "common/log/logger.hpp"
#include "fuzz/fuzz_target.hpp"

namespace nsq::fuzz {

// One request's outcome: the service's response, or the raw bytes the server writes itself.
struct HttpOutcome {
  bool answered = false;  // false: the client closed before the request was complete
  std::string raw;        // set when the server answered without the service
  http::Response response;
  bool head_request = false;
  bool body_incomplete = false;  // the body failed to parse; the service answered anyway
  bool router_redirect = false;  // the router (not a handler) redirected
  unsigned version = 11;
  std::string method;
  std::string path;
};

namespace harness_detail {

inline std::string_view next_line(std::string_view& in) {
  const size_t nl = in.find('\n');
  std::string_view line = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

inline bool has_header(const std::vector<std::string_view>& headers, std::string_view name) {
  for (auto h : headers) {
    const size_t colon = h.find(':');
    if (colon != std::string_view::npos && boost::beast::iequals(h.substr(0, colon), name))
      return true;
  }
  return false;
}

}  // namespace harness_detail

// The requests of one input (at most `max_requests`), each as the wire bytes a client sends.
inline std::vector<std::string> wire_requests(std::string_view input, size_t max_requests) {
  using namespace harness_detail;
  std::vector<std::string> out;
  while (!input.empty() && out.size() < max_requests) {
    size_t sep = input.find("\n===\n");
    std::string_view one = input.substr(0, sep);
    input.remove_prefix(sep == std::string_view::npos ? input.size() : sep + 5);

    std::string_view request_line = next_line(one);
    std::vector<std::string_view> headers;
    while (!one.empty()) {
      std::string_view line = next_line(one);
      if (line.empty()) break;
      headers.push_back(line);
    }
    const std::string_view body = one;
    std::string wire(request_line);
    if (std::count(request_line.begin(), request_line.end(), ' ') < 2) wire += " HTTP/1.1";
    wire += "\r\n";
    if (!has_header(headers, "Host")) wire += "Host: 127.0.0.1\r\n";
    if (!body.empty() && !has_header(headers, "Content-Length") &&
        !has_header(headers, "Transfer-Encoding")) {
      wire += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    for (auto h : headers) wire.append(h).append("\r\n");
    wire += "\r\n";
    wire += body;
    out.push_back(std::move(wire));
  }
  return out;
}

// One request through `service` as http::Server serves it (see server.cpp's on_header,
// read_body and dispatch), from the peer `remote`.
inline HttpOutcome serve_wire(http::Service& service, const std::string& wire,
                              const std::string& remote) {
  namespace bhttp = boost::beast::http;
  HttpOutcome out;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(1 << 20);
  parser.body_limit(boost::none);
  boost::beast::error_code ec;
  size_t used = parser.put(boost::asio::buffer(wire), ec);
  if (ec == bhttp::error::need_more) {
    parser.put_eof(ec);  // the client closed with the head incomplete: nothing is answered
    return out;
  }
  out.answered = true;
  if (ec) {
    out.raw = ec == bhttp::error::header_limit ? "HTTP/1.1 431 Request Header Fields Too Large"
                                               : std::string(http::kRawBadRequest);
    return out;
  }
  http::Request req;
  req.remote_address = remote;
  std::optional<uint64_t> content_length;
  if (auto len = parser.content_length()) content_length = *len;
  if (auto refusal = http::accept_request_head(parser.get().base(), content_length, req);
      !refusal.empty()) {
    out.raw = std::string(refusal);
    return out;
  }
  out.head_request = req.method == bhttp::verb::head;
  out.version = req.version;
  out.method = req.method_text;
  out.path = req.path;

  const uint64_t limit = service.body_limit(req);  // routes: fills req.match
  out.router_redirect = req.match.kind == http::RouteMatch::Kind::kRedirect;
  bool too_big = false;
  if (!parser.is_done()) {
    if (content_length && *content_length > limit) {
      too_big = true;
    } else {
      parser.body_limit(limit);
      parser.eager(true);
      std::string_view rest = std::string_view(wire).substr(used);
      while (!ec && !parser.is_done() && !rest.empty()) {
        used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
        rest.remove_prefix(used);
        if (ec == bhttp::error::need_more) ec = {};
        if (used == 0 && !ec) break;
      }
      if (!ec && !parser.is_done()) parser.put_eof(ec);  // the client closed mid-body
      if (ec == bhttp::error::body_limit) {
        too_big = true;
      } else if (ec == bhttp::error::end_of_stream) {
        out.answered = false;
        return out;
      } else if (ec) {
        if (!service.handles_incomplete_body(req)) {
          out.raw = std::string(http::kRawBadRequest);
          return out;
        }
        req.body_incomplete = true;
        out.body_incomplete = true;
      }
    }
  }
  if (too_big) {
    service.body_too_big(req, out.response);
    return out;
  }
  req.body = std::move(parser.get().body());
  std::promise<http::Response> answer;
  auto future = answer.get_future();
  try {
    service.handle_async(req, [&answer](http::Response r) { answer.set_value(std::move(r)); });
  } catch (const std::exception& e) {
    // On a socket this would unwind through the event loop and end the daemon.
    std::fprintf(stderr, "exception from %s %s: %s\n", out.method.c_str(), out.path.c_str(),
                 e.what());
    check_failed("no exception escapes the HTTP service", __FILE__, __LINE__);
  }
  out.response = future.get();
  return out;
}

// What every answer of every daemon satisfies: a status the reference's daemon uses, a
// serialisable response, and a JSON body (application/json, not compressed) that parses.
inline void check_outcome(const HttpOutcome& out, const std::set<unsigned>& statuses) {
  if (!out.answered || !out.raw.empty()) return;
  const http::Response& r = out.response;
  FUZZ_CHECK(statuses.contains(r.status));
  bool json = false;
  bool encoded = false;
  for (const auto& [name, value] : r.headers) {
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(value.find_first_of("\r\n") == std::string::npos);
    if (name == "Content-Type" && value.starts_with("application/json")) json = true;
    if (name == "Content-Encoding") encoded = true;
  }
  if (json && !encoded) FUZZ_CHECK(nlohmann::json::accept(r.body));
  if (r.status >= 400 && json && !encoded) {
    const auto j = nlohmann::json::parse(r.body);
    FUZZ_CHECK(j.is_object() && j.contains("message"));
  }
  // httprouter's answers: 405 names what is allowed, a redirect says where to.
  if (r.status == 405) FUZZ_CHECK(r.has_header("Allow"));
  if (r.status == 301 || r.status == 307) FUZZ_CHECK(r.has_header("Location"));
  const std::string bytes = http::serialize_response(r, !out.head_request, false, out.version);
  FUZZ_CHECK(bytes.starts_with(out.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 "));
  FUZZ_CHECK(bytes.substr(9, 3) == std::to_string(r.status));
  FUZZ_CHECK(out.head_request || bytes.ends_with(r.body));
}

// The Location of a redirect, or "" for any other answer.
inline std::string redirect_location(const HttpOutcome& out) {
  if (!out.answered || !out.raw.empty()) return "";
  if (out.response.status != 301 && out.response.status != 307) return "";
  for (const auto& [name, value] : out.response.headers) {
    if (name == "Location") return value;
  }
  return "";
}

// Serves `wire`, checks the answer, and follows a router redirect once: they lead to the
// canonical path in one step (httprouter cleans the path, fixes the trailing slash and the case
// at once), so the place one names must not be redirected by the router again (a handler may:
// nsqadmin's old asset names).
inline HttpOutcome serve_and_check(http::Service& service, const std::string& wire,
                                   const std::string& remote, const std::set<unsigned>& statuses) {
  HttpOutcome out = serve_wire(service, wire, remote);
  check_outcome(out, statuses);
  const std::string location = redirect_location(out);
  if (location.empty() || !out.router_redirect) return out;
  FUZZ_CHECK(location.starts_with("/"));
  // The request line as Beast accepted it: METHOD SP target SP version.
  const size_t first = wire.find(' ');
  const size_t line_end = wire.find("\r\n");
  const size_t last = wire.rfind(' ', line_end);
  std::string again = wire.substr(0, first + 1) + location + wire.substr(last);
  const HttpOutcome followed = serve_wire(service, again, remote);
  check_outcome(followed, statuses);
  if (!followed.answered || !followed.raw.empty()) {
    std::fprintf(stderr, "redirect from %s to %s was refused\n", out.path.c_str(),
                 location.c_str());
  }
  FUZZ_CHECK(followed.answered && followed.raw.empty());
  if (followed.router_redirect) {
    std::fprintf(stderr, "redirect from %s to %s redirects again to %s\n", out.path.c_str(),
                 location.c_str(), redirect_location(followed).c_str());
  }
  FUZZ_CHECK(!followed.router_redirect);
  return out;
}

// Keeps the log level a request may change (PUT /config/log_level) from outliving the input,
// and silences the request log while fuzzing (the replay build keeps the tests' logger).
class LogLevelGuard {
 public:
  LogLevelGuard() : saved_(log::logger().level()) {
#ifdef NSQ_FUZZ_LIBFUZZER
    static const bool quiet = [] {
      log::init("", log::Level::kFatal);
      return true;
    }();
    (void)quiet;
    saved_ = log::logger().level();
#endif
  }
  ~LogLevelGuard() {
    log::logger().set_level(saved_);
  }
  LogLevelGuard(const LogLevelGuard&) = delete;
  LogLevelGuard& operator=(const LogLevelGuard&) = delete;

 private:
  spdlog::level::level_enum saved_;
};

}  // namespace nsq::fuzz
