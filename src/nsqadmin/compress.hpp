// Response compression the way the reference wraps nsqadmin's whole HTTP server (gorilla's
// CompressHandler): when the request's Accept-Encoding lists "gzip" or "deflate" (the first listed
// wins), the body is compressed and Content-Encoding + Vary: Accept-Encoding are set. Pure
// functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/http/message.hpp"

namespace nsq::nsqadmin {

// "gzip", "deflate" or "" for an Accept-Encoding header value.
std::string pick_encoding(std::string_view accept_encoding);
// gzip (RFC 1952) or raw deflate (RFC 1951) of `data`.
std::string compress_body(std::string_view data, const std::string& encoding);
// Applies the above to a response for a request with `accept_encoding`.
void maybe_compress(std::string_view accept_encoding, http::Response& resp);

}  // namespace nsq::nsqadmin
