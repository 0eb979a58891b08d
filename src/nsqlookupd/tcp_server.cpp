#include "nsqlookupd/tcp_server.hpp"

namespace nsq::nsqlookupd {

LookupTcpServer::LookupTcpServer(Nsqlookupd& lookupd, net::IoPool& pool)
    : lookupd_(lookupd), acceptor_(pool, "TCP") {}

LookupTcpServer::~LookupTcpServer() = default;

util::Status LookupTcpServer::listen(const std::string& address) {
  return acceptor_.listen(address, /*allow_unix=*/false);
}

void LookupTcpServer::start_accepting() {
  acceptor_.start([this](net::StreamSocket socket) {
    auto remote = net::peer_address(socket);
    if (remote.address.empty()) return;  // the peer is already gone
    const uint64_t id = ++next_id_;
    auto conn = std::make_shared<LookupConnection>(lookupd_, std::move(socket), id,
                                                   std::move(remote.address),
                                                   [this](uint64_t gone) { conns_.remove(gone); });
    if (conns_.add(id, conn)) conn->start();
  });
}

void LookupTcpServer::stop() {
  acceptor_.stop();
  for (auto& c : conns_.close_all()) c->stop();
}

}  // namespace nsq::nsqlookupd
