// LookupPeer: nsqd's connection to one nsqlookupd (the reference's lookupPeer). Synchronous:
// connect with a 1 s timeout and send "  V1", then each command is written and its
// size-prefixed reply read with 1 s deadlines, exactly like the reference's lookupPeer.Command.
// Any I/O error closes the connection; the owner decides when to reconnect.
//
// Owner and thread: LookupdClient's loop thread only (not thread-safe).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/util/result.hpp"

namespace nsq::nsqd {

// What the lookupd said about itself in its IDENTIFY reply.
struct LookupPeerInfo {
  int64_t tcp_port = 0;
  int64_t http_port = 0;
  std::string version;
  std::string broadcast_address;
};

class LookupPeer {
 public:
  LookupPeer(std::string address, int64_t max_body_size);
  ~LookupPeer();
  LookupPeer(const LookupPeer&) = delete;
  LookupPeer& operator=(const LookupPeer&) = delete;

  const std::string& address() const { return address_; }
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Resolves, connects (1 s timeout) and sends the magic, or a Go-like message.
  util::Status connect();
  // Writes `bytes` (one encoded command) and reads one reply, or the error (and the
  // connection closed) on any failure.
  util::Result<std::string> command(std::string_view bytes);
  void close();

  LookupPeerInfo info;

 private:
  util::Status write_all(std::string_view bytes);
  util::Status read_exact(char* out, size_t n);

  const std::string address_;
  const int64_t max_body_size_;
  int fd_ = -1;
};

}  // namespace nsq::nsqd
