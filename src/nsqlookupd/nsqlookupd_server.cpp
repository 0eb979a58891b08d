#include "nsqlookupd/nsqlookupd_server.hpp"

#include "common/log/logger.hpp"

namespace nsq::nsqlookupd {

NsqlookupdServer::NsqlookupdServer(NsqlookupdOptions opts)
    : lookupd_(std::move(opts)),
      pool_(static_cast<size_t>(lookupd_.options().io_threads)),
      tcp_(lookupd_, pool_),
      http_service_(lookupd_),
      http_(pool_, http_service_) {}

NsqlookupdServer::~NsqlookupdServer() {
  stop();
}

util::Status NsqlookupdServer::start() {
  // The listeners still report through an out-parameter (tcp_server.*, http::Server).
  std::string error;
  if (!tcp_.listen(lookupd_.options().tcp_address, error)) return util::fail(std::move(error));
  if (!http_.listen(lookupd_.options().http_address, error)) return util::fail(std::move(error));
  lookupd_.set_ports(tcp_.acceptor().tcp_endpoint()->port(), http_.local_endpoint().port());
  pool_.start();
  // The reference logs its HTTP listener first.
  http_.start_accepting();
  tcp_.start_accepting();
  started_ = true;
  return {};
}

void NsqlookupdServer::stop() {
  if (stopped_ || !started_) return;
  stopped_ = true;
  tcp_.stop();
  http_.stop();
  pool_.stop();
}

}  // namespace nsq::nsqlookupd
