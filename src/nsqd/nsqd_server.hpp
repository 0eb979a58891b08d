// NsqdServer: builds and runs the daemon's object graph — Nsqd state, the event-loop pool,
// the TCP, HTTP and HTTPS listeners and the timer loop that drives in-flight timeouts and deferred
// releases. Owner: main(). start()/stop() are called from the main thread.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "common/http/server.hpp"
#include "common/net/io_pool.hpp"
#include "common/util/result.hpp"
#include "nsqd/http/http_api.hpp"
#include "nsqd/lookupd/lookupd_client.hpp"
#include "nsqd/memory/heap_release.hpp"
#include "nsqd/nsqd.hpp"
#include "nsqd/stats/stats.hpp"
#include "nsqd/stats/statsd.hpp"
#include "nsqd/tcp/tcp_server.hpp"

namespace nsq::nsqd {

class NsqdServer {
 public:
  explicit NsqdServer(NsqdOptions opts);
  ~NsqdServer();

  // Binds every listener and starts the loops, or the message of the failure.
  util::Status start();
  // Graceful stop: no more accepts, every client closed, loops joined.
  void stop();

  Nsqd& nsqd() { return nsqd_; }
  // Port 0 when listening on a unix socket.
  boost::asio::ip::tcp::endpoint tcp_endpoint() const {
    return tcp_.acceptor().tcp_endpoint().value_or(boost::asio::ip::tcp::endpoint{});
  }
  boost::asio::ip::tcp::endpoint http_endpoint() const { return http_.local_endpoint(); }
  boost::asio::ip::tcp::endpoint https_endpoint() const {
    return https_ ? https_->local_endpoint() : boost::asio::ip::tcp::endpoint{};
  }
  // nsqlookupd registration (set_addresses() for PUT /config/nsqlookupd_tcp_addresses).
  LookupdClient& lookupd() { return *lookupd_; }

 private:
  void schedule_timers();

  Nsqd nsqd_;
  net::IoPool pool_;
  TcpServer tcp_;
  StatsCollector stats_;
  NsqdHttpApi http_api_;
  http::Server http_;
  std::unique_ptr<http::Server> https_;  // -https-address, when TLS is configured
  std::unique_ptr<StatsdPusher> statsd_;
  boost::asio::steady_timer timer_loop_;
  // Fed the connection count by the timer loop: returns memory after mass disconnects.
  HeapReleaseOnDrop heap_release_;
  std::shared_ptr<LookupdClient> lookupd_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace nsq::nsqd
