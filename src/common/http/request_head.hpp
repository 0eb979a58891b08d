// The step between Beast's parsed request head and a Service: fills a Request and applies the
// checks net/http makes before any handler runs (request-target form, Host on HTTP/1.1, the
// only transfer coding it knows). Server runs it on every request; it is a function of its own
// so that tests and the fuzz targets (fuzz/*_http_fuzz.cpp) can drive a daemon's real router
// and handlers with a parsed head and no socket.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/http/message.hpp"

namespace nsq::http {

// What net/http writes, byte for byte, when a request cannot be parsed.
inline constexpr std::string_view kRawBadRequest =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Connection: close\r\n\r\n400 Bad Request";

// Fills `req` (method, target, path, query, version, headers, content length) from `head`,
// which must outlive it. Returns the raw answer net/http gives to a head it refuses (the
// connection then closes), or an empty view when the request goes to the service.
// `content_length` is the parser's (nullopt for chunked or absent).
std::string_view accept_request_head(const boost::beast::http::request_header<>& head,
                                     std::optional<uint64_t> content_length, Request& req);

}  // namespace nsq::http
