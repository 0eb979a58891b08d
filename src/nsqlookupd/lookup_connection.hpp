// LookupConnection: one TCP connection to nsqlookupd — the "  V1" magic, then commands read,
// parsed (LookupV1Parser), executed (LookupSession) and answered. All replies produced by one
// read are written with a single async_write, and the next read starts only after that write
// completed, so a peer that pipelines commands without reading replies costs at most one read
// buffer of replies (reading pauses, memory stays bounded). Like the reference there is no
// idle deadline: an nsqd may stay silent for its 15 s ping interval or longer.
//
// Threads: pinned to one event loop (its socket's executor). stop() may be called from any
// thread. Lifecycle: created by LookupTcpServer on accept, kept alive by its pending
// operations; on close the session unregisters the peer everywhere and the server forgets it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/net/acceptor.hpp"
#include "nsq/protocol/lookup_v1.hpp"
#include "nsqlookupd/lookup_session.hpp"

namespace nsq::nsqlookupd {

class LookupConnection : public std::enable_shared_from_this<LookupConnection> {
 public:
  using CloseCallback = std::function<void(uint64_t id)>;

  LookupConnection(Nsqlookupd& lookupd, net::StreamSocket socket, uint64_t id,
                   std::string remote_address, CloseCallback on_close);
  ~LookupConnection();

  void start();
  // Closes the connection from any thread (shutdown).
  void stop();

  uint64_t id() const { return id_; }

 private:
  void do_read();
  void on_read(const boost::system::error_code& ec, size_t n);
  // Parses and executes every complete command in the input; false once the connection is
  // to be closed (after the pending output is written).
  bool process_input();
  void flush_then(bool close_after);
  void close();
  void fail(const protocol::ProtocolError& error);

  net::StreamSocket socket_;
  const uint64_t id_;
  CloseCallback on_close_;
  protocol::LookupV1Parser parser_;
  LookupSession session_;

  std::string in_;
  size_t in_pos_ = 0;
  std::string out_;
  std::string writing_;
  bool magic_done_ = false;
  bool closed_ = false;
  // What the reference sends if the peer stops in the middle of the current command.
  std::optional<protocol::ProtocolError> eof_error_;
};

}  // namespace nsq::nsqlookupd
