#include "common/http/message.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace nsq::http {

std::string_view Request::header(std::string_view name) const {
  if (headers == nullptr) return {};
  auto it = headers->find(name);
  if (it == headers->end()) return {};
  return it->value();
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [k, v] : match.params) {
    if (k == name) return v;
  }
  return {};
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

bool Response::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return h.first == name; });
}

std::string_view status_text(unsigned status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

const std::string& http_date_now() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second || cached.empty()) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    const size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf, n);
    cached_second = now;
  }
  return cached;
}

std::string serialize_response(const Response& r, bool with_body, bool connection_close,
                               unsigned request_version) {
  const bool http10 = request_version == 10;
  std::string out;
  out.reserve(160 + r.body.size());
  out += http10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  char num[24];
  auto res = std::to_chars(num, num + sizeof num, r.status);
  out.append(num, res.ptr);
  out.push_back(' ');
  out += status_text(r.status);
  out += "\r\n";
  // Go writes the handler's headers sorted by name, then the ones the server adds.
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(r.headers.size());
  for (const auto& h : r.headers) sorted.push_back(&h);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->first < b->first; });
  bool has_type = false;
  for (const auto* h : sorted) {
    if (h->first == "Content-Type") has_type = true;
    out += h->first;
    out += ": ";
    out += h->second;
    out += "\r\n";
  }
  out += "Date: ";
  out += http_date_now();
  out += "\r\nContent-Length: ";
  res = std::to_chars(num, num + sizeof num, r.body.size());
  out.append(num, res.ptr);
  out += "\r\n";
  // net/http sniffs a type for a non-empty body; every body we send without one is text.
  if (!has_type && !r.body.empty()) out += "Content-Type: text/plain; charset=utf-8\r\n";
  if (http10) {
    // Closing is the default of HTTP/1.0; keeping the connection is what must be said.
    if (!connection_close) out += "Connection: keep-alive\r\n";
  } else if (connection_close) {
    out += "Connection: close\r\n";
  }
  out += "\r\n";
  if (with_body) out += r.body;
  return out;
}

}  // namespace nsq::http
