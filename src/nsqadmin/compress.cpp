#include "nsqadmin/compress.hpp"

#include <zlib.h>

namespace nsq::nsqadmin {

std::string pick_encoding(std::string_view accept) {
  size_t start = 0;
  while (start <= accept.size()) {
    size_t comma = accept.find(',', start);
    if (comma == std::string_view::npos) comma = accept.size();
    std::string_view item = accept.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "gzip" || item == "deflate") return std::string(item);  // the first listed wins
    start = comma + 1;
  }
  return "";
}

std::string compress_body(std::string_view data, const std::string& encoding) {
  z_stream zs{};
  const int window = encoding == "gzip" ? 15 + 16 : -15;
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::string(data);
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

void maybe_compress(std::string_view accept_encoding, http::Response& resp) {
  const std::string enc = pick_encoding(accept_encoding);
  if (enc.empty() || resp.has_header("Content-Encoding")) return;
  // The body is compressed as is; the type was chosen (or is sniffed) from the plain bytes.
  if (!resp.has_header("Content-Type") && !resp.body.empty()) {
    resp.set_header("Content-Type", "text/plain; charset=utf-8");
  }
  resp.body = compress_body(resp.body, enc);
  resp.set_header("Content-Encoding", enc);
  resp.set_header("Vary", "Accept-Encoding");
}

}  // namespace nsq::nsqadmin
