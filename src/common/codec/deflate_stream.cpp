#include "nsq/codec/deflate_stream.hpp"

namespace nsq::codec {

namespace {
constexpr int kRawWindowBits = -15;
constexpr int kMemLevel = 8;
constexpr size_t kInflateStep = 64 * 1024;
}  // namespace

DeflateStreamCodec::DeflateStreamCodec(int level) {
  deflater_ok_ = deflateInit2(&deflater_, level, Z_DEFLATED, kRawWindowBits, kMemLevel,
                              Z_DEFAULT_STRATEGY) == Z_OK;
  inflater_ok_ = inflateInit2(&inflater_, kRawWindowBits) == Z_OK;
  if (!deflater_ok_ || !inflater_ok_) error_ = "deflate: zlib initialisation failed";
}

DeflateStreamCodec::~DeflateStreamCodec() {
  if (deflater_ok_) deflateEnd(&deflater_);
  if (inflater_ok_) inflateEnd(&inflater_);
}

void DeflateStreamCodec::encode(std::string_view plain, std::string& out) {
  if (!deflater_ok_) return;
  deflater_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  deflater_.avail_in = static_cast<uInt>(plain.size());
  // deflateBound covers one call's worst case; the loop handles the sync-flush tail.
  size_t room = deflateBound(&deflater_, static_cast<uLong>(plain.size())) + 16;
  for (;;) {
    const size_t start = out.size();
    out.resize(start + room);
    deflater_.next_out = reinterpret_cast<Bytef*>(out.data() + start);
    deflater_.avail_out = static_cast<uInt>(room);
    deflate(&deflater_, Z_SYNC_FLUSH);
    out.resize(out.size() - deflater_.avail_out);
    // Done when zlib had room to spare: all input taken and the flush marker written.
    if (deflater_.avail_out != 0 && deflater_.avail_in == 0) break;
    room = 64 * 1024;
  }
}

bool DeflateStreamCodec::decode(std::string_view wire, std::string& out) {
  if (!error_.empty()) return false;
  std::string_view in = wire;
  const bool from_backlog = !backlog_.empty();
  if (from_backlog) {
    backlog_.append(wire);
    in = backlog_;
  }
  inflater_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  inflater_.avail_in = static_cast<uInt>(in.size());
  const size_t limit = out.size() + kMaxDecodePerCall;
  output_limited_ = false;
  for (;;) {
    const size_t start = out.size();
    out.resize(start + kInflateStep);
    inflater_.next_out = reinterpret_cast<Bytef*>(out.data() + start);
    inflater_.avail_out = static_cast<uInt>(kInflateStep);
    const int rc = inflate(&inflater_, Z_SYNC_FLUSH);
    out.resize(out.size() - inflater_.avail_out);
    if (rc == Z_STREAM_END) {
      // The peer finished its stream (a final block); later bytes would start a new one.
      inflateReset(&inflater_);
      if (inflater_.avail_in == 0) break;
      continue;
    }
    if (rc == Z_BUF_ERROR) break;  // no progress possible: needs more input
    if (rc != Z_OK) {
      error_ = std::string("deflate: ") + (inflater_.msg ? inflater_.msg : "corrupt input");
      return false;
    }
    if (inflater_.avail_in == 0 && inflater_.avail_out != 0) break;
    if (out.size() >= limit) {
      // A few KiB can inflate to many MiB: hand out at most kMaxDecodePerCall per call and
      // keep the rest (input and zlib's pending output) for the next one.
      output_limited_ = true;
      break;
    }
  }
  const size_t left = inflater_.avail_in;
  if (from_backlog) {
    backlog_.erase(0, backlog_.size() - left);
  } else {
    backlog_.assign(wire.substr(wire.size() - left));
  }
  return true;
}

}  // namespace nsq::codec
