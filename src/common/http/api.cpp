#include "common/http/api.hpp"

#include <chrono>

#include "common/config/flag_set.hpp"
#include "common/gocompat/json_writer.hpp"
#include "common/http/query.hpp"
#include "common/log/logger.hpp"

namespace nsq::http {

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void set_v1(Response& r) {
  r.set_header(std::string(kNsqContentTypeHeader), std::string(kNsqContentTypeV1));
}

// Go's html.EscapeString for the redirect body.
std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&#34;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void v1_text(Response& r, std::string body) {
  r.status = 200;
  set_v1(r);
  r.body = std::move(body);
}

void v1_json(Response& r, std::string json) {
  r.status = 200;
  r.set_header("Content-Type", std::string(kJsonContentType));
  set_v1(r);
  r.body = std::move(json);
}

void v1_empty(Response& r) {
  r.status = 200;
  set_v1(r);
  r.body.clear();
}

void v1_error(Response& r, unsigned status, std::string_view message) {
  r.status = status;
  r.set_header("Content-Type", std::string(kJsonContentType));
  set_v1(r);
  r.body = "{\"message\":";
  gocompat::append_json_string(r.body, message);
  r.body += "}";
}

void plain_text(Response& r, unsigned status, std::string body) {
  r.status = status;
  r.body = std::move(body);
}

void RoutedService::add(std::string method, std::string_view pattern, Handler handler,
                        RouteOptions options) {
  router_.add(std::move(method), pattern);
  routes_.push_back(Route{std::move(handler), std::move(options)});
}

uint64_t RoutedService::body_limit(Request& req) {
  req.match = router_.match(req.method_text, req.path);
  if (req.match.kind == RouteMatch::Kind::kFound) {
    const auto& opt = routes_[req.match.route].options;
    if (opt.body_limit) return *opt.body_limit;
  }
  return default_body_limit_;
}

void RoutedService::body_too_big(Request& req, Response& resp) {
  if (req.match.kind == RouteMatch::Kind::kFound) {
    const Route& route = routes_[req.match.route];
    const int64_t start = now_ns();
    if (route.options.too_big) {
      route.options.too_big(req, resp);
    } else {
      v1_error(resp, 413, "BODY_TOO_BIG");
    }
    if (route.options.log) log_request(req, resp.status, now_ns() - start);
    return;
  }
  // Not a route: the answer does not depend on the body.
  handle(req, resp);
}

bool RoutedService::handles_incomplete_body(const Request& req) {
  return req.match.kind == RouteMatch::Kind::kFound &&
         routes_[req.match.route].options.incomplete_body;
}

void RoutedService::handle(Request& req, Response& resp) {
  if (intercept(req, resp)) return;
  const int64_t start = now_ns();
  switch (req.match.kind) {
    case RouteMatch::Kind::kFound: {
      const Route& route = routes_[req.match.route];
      route.handler(req, resp);
      if (route.options.log) log_request(req, resp.status, now_ns() - start);
      return;
    }
    case RouteMatch::Kind::kRedirect: {
      std::string location = path_escape(req.match.location);
      if (!req.raw_query.empty()) location += "?" + req.raw_query;
      resp.status = req.match.redirect_status;
      resp.set_header("Location", location);
      // http.Redirect writes a small HTML body only for GET and HEAD.
      if (req.method_text == "GET" || req.method_text == "HEAD") {
        resp.set_header("Content-Type", "text/html; charset=utf-8");
        resp.body = "<a href=\"" + html_escape(location) + "\">" +
                    std::string(status_text(resp.status)) + "</a>.\n\n";
      }
      return;
    }
    case RouteMatch::Kind::kOptions:
      resp.status = 200;
      resp.set_header("Allow", req.match.allow);
      return;
    case RouteMatch::Kind::kMethodNotAllowed:
      resp.set_header("Allow", req.match.allow);
      method_not_allowed(req, resp);
      log_request(req, resp.status, now_ns() - start);
      return;
    case RouteMatch::Kind::kNotFound:
      not_found(req, resp);
      log_request(req, resp.status, now_ns() - start);
      return;
  }
}

void RoutedService::not_found(Request&, Response& resp) {
  v1_error(resp, 404, "NOT_FOUND");
}

void RoutedService::method_not_allowed(Request&, Response& resp) {
  v1_error(resp, 405, "METHOD_NOT_ALLOWED");
}

void RoutedService::log_request(const Request& req, unsigned status, int64_t elapsed_ns) const {
  log::info("{} {} {} ({}) {}", status, req.method_text, req.target, req.remote_address,
            gocompat::format_go_duration(std::chrono::nanoseconds(elapsed_ns)));
}

}  // namespace nsq::http
