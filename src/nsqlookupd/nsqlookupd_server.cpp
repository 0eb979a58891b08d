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
  if (auto listening = tcp_.listen(lookupd_.options().tcp_address); !listening) return listening;
  if (auto listening = http_.listen(lookupd_.options().http_address); !listening) return listening;
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
