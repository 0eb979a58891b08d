// LookupTcpServer: nsqlookupd's protocol V1 listener. The shared net::Acceptor pins every
// connection to the next loop of the IoPool; a registry of live connections lets stop() close
// them (their sessions then unregister their peers). TCP only: the reference's nsqlookupd
// refuses a unix socket path ("missing port in address").
//
// Owner: NsqlookupdServer. Threads: accept handler on loop 0; the registry has its own mutex.
// listen()/start_accepting()/stop() are called from the owner's thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/net/acceptor.hpp"
#include "common/net/io_pool.hpp"
#include "nsqlookupd/lookup_connection.hpp"
#include "nsqlookupd/nsqlookupd.hpp"

namespace nsq::nsqlookupd {

class LookupTcpServer {
 public:
  LookupTcpServer(Nsqlookupd& lookupd, net::IoPool& pool);
  ~LookupTcpServer();

  // Binds and listens; on failure false with the reference-style message in `error`.
  util::Status listen(const std::string& address);
  void start_accepting();
  // Stops accepting and closes every connection.
  void stop();

  const net::Acceptor& acceptor() const { return acceptor_; }
  size_t connection_count() const { return conns_.size(); }

 private:
  Nsqlookupd& lookupd_;
  net::Acceptor acceptor_;
  net::ConnectionRegistry<LookupConnection> conns_;
  uint64_t next_id_ = 0;  // only touched by the accept handler
};

}  // namespace nsq::nsqlookupd
