// The conventions of NSQ's HTTP APIs (the reference's internal/http_api), shared by nsqd,
// nsqlookupd and nsqadmin:
//   * RoutedService: a Service over a Router with httprouter's answers for redirects,
//     OPTIONS, 405 and 404, per-route body limits, and the reference's request log line
//     `<status> <METHOD> <request-uri> (<remote>) <elapsed>` at INFO.
//   * "V1" responses: header `X-NSQ-Content-Type: nsq; version=1.0` always; 200 with text, JSON
//     (application/json; charset=utf-8) or nothing; errors as {"message":"<TEXT>"}. Go writes the
//     header name canonicalised, `X-Nsq-Content-Type`, and so do we (names are case-insensitive
//     for every client). Since NSQ 1.0 the request's Accept header does not change the format.
// Built at start-up, then used read-only from every loop thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/server.hpp"

namespace nsq::http {

inline constexpr std::string_view kNsqContentTypeHeader = "X-Nsq-Content-Type";
inline constexpr std::string_view kNsqContentTypeV1 = "nsq; version=1.0";
inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

// 200 + text body (Go sniffs text/plain; charset=utf-8).
void v1_text(Response& r, std::string body);
// 200 + JSON body.
void v1_json(Response& r, std::string json);
// 200, empty body.
void v1_empty(Response& r);
// `status` + {"message":"<message>"}.
void v1_error(Response& r, unsigned status, std::string_view message);
// The reference's PlainText decorator (/ping): body as is, no X-NSQ header.
void plain_text(Response& r, unsigned status, std::string body);

using Handler = std::function<void(Request&, Response&)>;

struct RouteOptions {
  std::optional<uint64_t> body_limit;  // default: the service's default limit
  Handler too_big;                     // default: 413 {"message":"BODY_TOO_BIG"}
  bool log = true;                     // the reference does not log /pub and /mpub
  bool incomplete_body = false;        // the handler answers a malformed body itself
};

class RoutedService : public Service {
 public:
  explicit RoutedService(uint64_t default_body_limit) : default_body_limit_(default_body_limit) {}

  void add(std::string method, std::string_view pattern, Handler handler, RouteOptions options);
  void add(std::string method, std::string_view pattern, Handler handler) {
    add(std::move(method), pattern, std::move(handler), RouteOptions{});
  }

  uint64_t body_limit(Request& req) override;
  void body_too_big(Request& req, Response& resp) override;
  void handle(Request& req, Response& resp) override;
  bool handles_incomplete_body(const Request& req) override;

 protected:
  // Runs before routing; return true when it answered (e.g. a TLS-required gate).
  virtual bool intercept(Request&, Response&) { return false; }
  virtual void not_found(Request& req, Response& resp);
  virtual void method_not_allowed(Request& req, Response& resp);
  void log_request(const Request& req, unsigned status, int64_t elapsed_ns) const;

 private:
  struct Route {
    Handler handler;
    RouteOptions options;
  };

  Router router_;
  std::vector<Route> routes_;
  uint64_t default_body_limit_;
};

}  // namespace nsq::http
