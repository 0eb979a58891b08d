// TcpServer: nsqd's protocol V2 listener. Accepts on one loop and pins every new connection
// to the next loop of the IoPool; keeps a registry of live clients for shutdown and stats.
// Threads: accept handler on loop 0; registry behind its own mutex.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/net/io_pool.hpp"
#include "nsqd/nsqd.hpp"
#include "nsqd/tcp/client_v2.hpp"

namespace nsq::nsqd {

class TcpServer {
 public:
  TcpServer(Nsqd& nsqd, net::IoPool& pool);
  ~TcpServer();

  // Binds and listens; on failure returns false with the reference-style message in `error`.
  bool listen(const std::string& address, std::string& error);
  void start_accepting();
  // Stops accepting and closes every client connection.
  void stop();

  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // A snapshot of every live client, for /stats.
  std::vector<ClientStats> client_stats() const;
  size_t client_count() const;

 private:
  void do_accept();

  Nsqd& nsqd_;
  net::LoopRoundRobin loops_;  // the loop of each accepted connection
  boost::asio::ip::tcp::acceptor acceptor_;
  mutable std::mutex mu_;
  std::map<int64_t, std::weak_ptr<ClientV2>> clients_;
  bool stopped_ = false;
};

}  // namespace nsq::nsqd
