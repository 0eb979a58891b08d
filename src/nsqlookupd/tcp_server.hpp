// LookupTcpServer: nsqlookupd's protocol V1 listener. Accepts on loop 0 of the IoPool and
// pins every connection to the next loop; keeps a registry of live connections so stop()
// can close them (their sessions then unregister their peers).
//
// Owner: NsqlookupdServer. Threads: accept handler on loop 0; the registry has its own mutex.
// listen()/start_accepting()/stop() are called from the owner's thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/net/io_pool.hpp"
#include "nsqlookupd/lookup_connection.hpp"
#include "nsqlookupd/nsqlookupd.hpp"

namespace nsq::nsqlookupd {

class LookupTcpServer {
 public:
  LookupTcpServer(Nsqlookupd& lookupd, net::IoPool& pool);
  ~LookupTcpServer();

  // Binds and listens; on failure false with the reference-style message in `error`.
  bool listen(const std::string& address, std::string& error);
  void start_accepting();
  // Stops accepting and closes every connection.
  void stop();

  boost::asio::ip::tcp::endpoint local_endpoint() const;
  size_t connection_count() const;

 private:
  void do_accept();

  Nsqlookupd& lookupd_;
  net::LoopRoundRobin loops_;  // the loop of each accepted connection
  boost::asio::ip::tcp::acceptor acceptor_;
  mutable std::mutex mu_;
  std::map<uint64_t, std::weak_ptr<LookupConnection>> conns_;
  uint64_t next_id_ = 0;
  bool stopped_ = false;
};

}  // namespace nsq::nsqlookupd
