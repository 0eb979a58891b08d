// LookupSession: the protocol V1 state of one nsqd connection and the execution of its
// commands against the registration DB (the reference's LookupProtocolV1 minus the I/O).
// It takes commands already parsed by LookupV1Parser and produces the reply bytes or the
// fatal error, so the whole protocol can be unit-tested without a socket.
//
// Owner: one LookupConnection. Thread: that connection's event loop. Lifecycle: created on
// accept; close() (on disconnect, whatever the reason) removes the peer from every key.
#pragma once

#include <optional>
#include <string>

#include "nsq/protocol/lookup_v1.hpp"
#include "nsqlookupd/nsqlookupd.hpp"

namespace nsq::nsqlookupd {

class LookupSession {
 public:
  LookupSession(Nsqlookupd& lookupd, std::string remote_address);

  bool identified() const { return peer_ != nullptr; }
  const PeerPtr& peer() const { return peer_; }
  const std::string& remote_address() const { return remote_address_; }

  // Executes one command: on success appends the reply data (unframed) to `reply`; on failure
  // returns the error to send before closing.
  std::optional<protocol::ProtocolError> execute(const protocol::LookupCommand& cmd,
                                                 std::string& reply);
  // The connection is gone: unregister the peer everywhere (idempotent).
  void close();

 private:
  std::optional<protocol::ProtocolError> identify(std::string_view body, std::string& reply);
  void do_register(std::string_view topic, std::string_view channel);
  void do_unregister(std::string_view topic, std::string_view channel);
  void ping();

  Nsqlookupd& lookupd_;
  const std::string remote_address_;
  PeerPtr peer_;
  bool closed_ = false;
};

}  // namespace nsq::nsqlookupd
