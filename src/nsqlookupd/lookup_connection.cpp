#include "nsqlookupd/lookup_connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cassert>

#include "common/log/logger.hpp"

namespace nsq::nsqlookupd {

namespace asio = boost::asio;
using protocol::LookupParseResult;

namespace {
constexpr size_t kReadChunk = 64 * 1024;
}  // namespace

LookupConnection::LookupConnection(Nsqlookupd& lookupd, net::StreamSocket socket, uint64_t id,
                                   std::string remote_address, CloseCallback on_close)
    : socket_(std::move(socket)),
      id_(id),
      on_close_(std::move(on_close)),
      parser_(protocol::LookupV1Limits{.max_line_length = 1 << 20,
                                       .max_identify_body = lookupd.options().max_identify_body}),
      session_(lookupd, std::move(remote_address)) {}

LookupConnection::~LookupConnection() = default;

void LookupConnection::start() {
  log::info("TCP: new client({})", session_.remote_address());
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void LookupConnection::stop() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
}

void LookupConnection::do_read() {
  if (closed_) return;
  // The next read starts only after the replies of the last one were written (header).
  assert(writing_.empty());
  if (in_pos_ > 0 && in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > kReadChunk) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  const size_t old = in_.size();
  in_.resize(old + kReadChunk);
  socket_.async_read_some(
      asio::buffer(in_.data() + old, kReadChunk),
      [self = shared_from_this(), old](const boost::system::error_code& ec, size_t n) {
        self->in_.resize(old + n);
        self->on_read(ec, n);
      });
}

void LookupConnection::on_read(const boost::system::error_code& ec, size_t) {
  if (closed_) return;
  if (ec) {
    if (!magic_done_) {
      log::error("failed to read protocol version - {}",
                 ec == asio::error::eof ? (in_.size() == in_pos_ ? "EOF" : "unexpected EOF")
                                        : ec.message());
      close();
      return;
    }
    if (eof_error_) {
      // The reference answers a truncated IDENTIFY even though the peer stopped sending.
      const auto err = *eof_error_;
      fail(err);
      return;
    }
    close();
    return;
  }
  const bool keep = process_input();
  flush_then(!keep);
}

bool LookupConnection::process_input() {
  while (!closed_) {
    std::string_view data(in_.data() + in_pos_, in_.size() - in_pos_);
    if (!magic_done_) {
      switch (protocol::check_lookup_magic(data)) {
        case protocol::MagicCheck::kNeedMore:
          return true;
        case protocol::MagicCheck::kBad:
          log::error("client({}) bad protocol magic '{}'", session_.remote_address(),
                     data.substr(0, 4));
          protocol::append_lookup_response(out_, "E_BAD_PROTOCOL");
          return false;
        case protocol::MagicCheck::kV1:
          log::info("CLIENT({}): desired protocol magic '  V1'", session_.remote_address());
          magic_done_ = true;
          in_pos_ += 4;
          continue;
      }
    }
    LookupParseResult r = parser_.parse(data, session_.identified());
    switch (r.status) {
      case LookupParseResult::Status::kNeedMore:
        eof_error_ = std::move(r.eof_error);
        return true;
      case LookupParseResult::Status::kCloseSilently:
        log::error("[{}] - command line longer than {} bytes", session_.remote_address(),
                   parser_.limits().max_line_length);
        return false;
      case LookupParseResult::Status::kError:
        in_pos_ += r.consumed;
        log::error("[{}] - {}", session_.remote_address(), r.error.text());
        protocol::append_lookup_response(out_, r.error.text());
        return false;
      case LookupParseResult::Status::kCommand: {
        std::string reply;
        auto err = session_.execute(r.command, reply);
        in_pos_ += r.consumed;
        eof_error_.reset();
        if (err) {
          log::error("[{}] - {}", session_.remote_address(), err->text());
          protocol::append_lookup_response(out_, err->text());
          return false;
        }
        protocol::append_lookup_response(out_, reply);
        continue;
      }
    }
  }
  return false;
}

void LookupConnection::flush_then(bool close_after) {
  if (closed_) return;
  if (out_.empty()) {
    if (close_after) {
      close();
    } else {
      do_read();
    }
    return;
  }
  assert(writing_.empty());  // one async_write at a time
  writing_.swap(out_);
  out_.clear();
  asio::async_write(
      socket_, asio::buffer(writing_),
      [self = shared_from_this(), close_after](const boost::system::error_code& ec, size_t) {
        self->writing_.clear();
        if (ec || close_after) {
          self->close();
          return;
        }
        self->do_read();
      });
}

void LookupConnection::fail(const protocol::ProtocolError& error) {
  log::error("[{}] - {}", session_.remote_address(), error.text());
  protocol::append_lookup_response(out_, error.text());
  flush_then(true);
}

void LookupConnection::close() {
  if (closed_) return;
  closed_ = true;
  if (magic_done_) log::info("PROTOCOL(V1): [{}] exiting ioloop", session_.remote_address());
  session_.close();
  boost::system::error_code ignored;
  socket_.shutdown(net::StreamSocket::shutdown_both, ignored);
  socket_.close(ignored);
  if (on_close_) on_close_(id_);
}

}  // namespace nsq::nsqlookupd
