// NsqlookupdServer: builds and runs nsqlookupd — the shared state, the event-loop pool, the
// protocol V1 TCP listener and the HTTP API listener.
// Owner: main(). start()/stop() are called from the main thread.
#pragma once

#include <memory>
#include <string>

#include "common/http/server.hpp"
#include "common/net/io_pool.hpp"
#include "common/util/result.hpp"
#include "nsqlookupd/http_api.hpp"
#include "nsqlookupd/nsqlookupd.hpp"
#include "nsqlookupd/tcp_server.hpp"

namespace nsq::nsqlookupd {

class NsqlookupdServer {
 public:
  explicit NsqlookupdServer(NsqlookupdOptions opts);
  ~NsqlookupdServer();

  // Binds both listeners (TCP first, as the reference) and starts the loops; false + the
  // reference's message of the failure.
  util::Status start();
  // Closes the listeners and every connection, joins the loops (idempotent).
  void stop();

  Nsqlookupd& lookupd() { return lookupd_; }

 private:
  Nsqlookupd lookupd_;
  net::IoPool pool_;
  LookupTcpServer tcp_;
  LookupHttpService http_service_;
  http::Server http_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace nsq::nsqlookupd
