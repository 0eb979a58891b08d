#include "nsq/codec/deflate_stream.hpp"

#include <zlib.h>

namespace nsq::codec {

namespace {
constexpr int kRawWindowBits = -15;
constexpr int kMemLevel = 8;
constexpr size_t kInflateStep = size_t{64} * 1024;
}  // namespace

struct DeflateStreamCodec::ZlibStreams {
  z_stream deflater{};
  z_stream inflater{};
  bool deflater_ok = false;
  bool inflater_ok = false;
};

DeflateStreamCodec::DeflateStreamCodec(int level) : z_(std::make_unique<ZlibStreams>()) {
  z_->deflater_ok = deflateInit2(&z_->deflater, level, Z_DEFLATED, kRawWindowBits, kMemLevel,
                                 Z_DEFAULT_STRATEGY) == Z_OK;
  z_->inflater_ok = inflateInit2(&z_->inflater, kRawWindowBits) == Z_OK;
  if (!z_->deflater_ok || !z_->inflater_ok) error_ = "deflate: zlib initialisation failed";
}

DeflateStreamCodec::~DeflateStreamCodec() {
  if (z_->deflater_ok) deflateEnd(&z_->deflater);
  if (z_->inflater_ok) inflateEnd(&z_->inflater);
}

void DeflateStreamCodec::encode(std::string_view plain, std::string& out) {
  if (!z_->deflater_ok) return;
  z_stream& deflater = z_->deflater;
  deflater.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  deflater.avail_in = static_cast<uInt>(plain.size());
  // deflateBound covers one call's worst case; the loop handles the sync-flush tail.
  size_t room = deflateBound(&deflater, static_cast<uLong>(plain.size())) + 16;
  for (;;) {
    const size_t start = out.size();
    out.resize(start + room);
    deflater.next_out = reinterpret_cast<Bytef*>(out.data() + start);
    deflater.avail_out = static_cast<uInt>(room);
    deflate(&deflater, Z_SYNC_FLUSH);
    out.resize(out.size() - deflater.avail_out);
    // Done when zlib had room to spare: all input taken and the flush marker written.
    if (deflater.avail_out != 0 && deflater.avail_in == 0) break;
    room = size_t{64} * 1024;
  }
}

util::Status DeflateStreamCodec::decode(std::string_view wire, std::string& out) {
  if (!error_.empty()) return util::fail(error_);
  z_stream& inflater = z_->inflater;
  std::string_view in = wire;
  const bool from_backlog = !backlog_.empty();
  if (from_backlog) {
    backlog_.append(wire);
    in = backlog_;
  }
  inflater.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  inflater.avail_in = static_cast<uInt>(in.size());
  const size_t limit = out.size() + kMaxDecodePerCall;
  output_limited_ = false;
  for (;;) {
    const size_t start = out.size();
    out.resize(start + kInflateStep);
    inflater.next_out = reinterpret_cast<Bytef*>(out.data() + start);
    inflater.avail_out = static_cast<uInt>(kInflateStep);
    const int rc = inflate(&inflater, Z_SYNC_FLUSH);
    out.resize(out.size() - inflater.avail_out);
    if (rc == Z_STREAM_END) {
      // The peer finished its stream (a final block); later bytes would start a new one.
      inflateReset(&inflater);
      if (inflater.avail_in == 0) break;
      continue;
    }
    if (rc == Z_BUF_ERROR) break;  // no progress possible: needs more input
    if (rc != Z_OK) {
      error_ = std::string("deflate: ") + (inflater.msg ? inflater.msg : "corrupt input");
      return util::fail(error_);
    }
    if (inflater.avail_in == 0 && inflater.avail_out != 0) break;
    if (out.size() >= limit) {
      // A few KiB can inflate to many MiB: hand out at most kMaxDecodePerCall per call and
      // keep the rest (input and zlib's pending output) for the next one.
      output_limited_ = true;
      break;
    }
  }
  const size_t left = inflater.avail_in;
  if (from_backlog) {
    backlog_.erase(0, backlog_.size() - left);
  } else {
    backlog_.assign(wire.substr(wire.size() - left));
  }
  return {};
}

}  // namespace nsq::codec
