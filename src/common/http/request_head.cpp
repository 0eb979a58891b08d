#include "common/http/request_head.hpp"

#include <boost/beast/core/string.hpp>
#include <string>

#include "common/http/query.hpp"

namespace nsq::http {

namespace bhttp = boost::beast::http;

namespace {

constexpr std::string_view kMissingHost =
    "HTTP/1.1 400 Bad Request: missing required Host header\r\nContent-Type: text/plain; "
    "charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request: missing required Host header";
constexpr std::string_view kUnsupportedTransferEncoding =
    "HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Connection: close\r\n\r\nUnsupported transfer encoding";

// Splits the request-target into the decoded path and the raw query (origin-form, or the
// absolute-form some proxies send).
bool split_target(Request& req) {
  std::string_view t = req.target;
  if (t == "*") {
    req.path.assign(1, '*');  // not = "*": GCC 12 warns falsely (-Wrestrict) there
    return true;
  }
  if (t.starts_with("http://") || t.starts_with("https://")) {
    t.remove_prefix(t.find("//") + 2);
    const size_t slash = t.find_first_of("/?");
    t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
    if (t.starts_with("?")) return false;
  }
  if (t.empty() || t.front() != '/') return false;
  const size_t q = t.find('?');
  if (q != std::string_view::npos) {
    req.raw_query = std::string(t.substr(q + 1));
    t = t.substr(0, q);
  }
  return path_unescape(t, req.path);
}

}  // namespace

std::string_view accept_request_head(const bhttp::request_header<>& head,
                                     std::optional<uint64_t> content_length, Request& req) {
  req.method = head.method();
  req.method_text = std::string(head.method_string());
  req.target = std::string(head.target());
  req.version = head.version();
  req.headers = &head;
  req.content_length = content_length;
  if (!split_target(req)) return kRawBadRequest;
  // net/http's request checks that Beast leaves to the application.
  if (req.version >= 11 && head.find(bhttp::field::host) == head.end() &&
      head.method() != bhttp::verb::connect) {
    return kMissingHost;
  }
  if (auto te = head.find(bhttp::field::transfer_encoding);
      te != head.end() && !boost::beast::iequals(te->value(), "chunked")) {
    return kUnsupportedTransferEncoding;
  }
  return {};
}

}  // namespace nsq::http
