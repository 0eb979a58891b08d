// TcpServer: nsqd's protocol V2 listener on -tcp-address (host:port or a unix socket path).
// The shared net::Acceptor pins every new connection to the next loop of the IoPool; a
// registry of live clients serves shutdown and /stats.
// Threads: accept handler on loop 0; the registry has its own mutex.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/net/acceptor.hpp"
#include "common/net/io_pool.hpp"
#include "nsqd/nsqd.hpp"
#include "nsqd/tcp/client_v2.hpp"

namespace nsq::nsqd {

class TcpServer {
 public:
  TcpServer(Nsqd& nsqd, net::IoPool& pool);
  ~TcpServer();

  // Binds and listens; on failure returns false with the reference-style message in `error`.
  util::Status listen(const std::string& address);
  void start_accepting();
  // Stops accepting and closes every client connection.
  void stop();

  const net::Acceptor& acceptor() const { return acceptor_; }
  // A snapshot of every live client, for /stats.
  std::vector<ClientStats> client_stats() const;
  size_t client_count() const;

 private:
  Nsqd& nsqd_;
  net::Acceptor acceptor_;
  net::ConnectionRegistry<ClientV2, int64_t> clients_;
};

}  // namespace nsq::nsqd
