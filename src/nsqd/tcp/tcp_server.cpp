#include "nsqd/tcp/tcp_server.hpp"

namespace nsq::nsqd {

TcpServer::TcpServer(Nsqd& nsqd, net::IoPool& pool) : nsqd_(nsqd), acceptor_(pool, "TCP") {}

TcpServer::~TcpServer() = default;

util::Status TcpServer::listen(const std::string& address) {
  return acceptor_.listen(address, /*allow_unix=*/true);
}

void TcpServer::start_accepting() {
  // Logged once serving, after nsqd.dat is loaded, in the reference's order.
  acceptor_.start([this](net::StreamSocket socket) {
    const int64_t id = nsqd_.next_client_id();
    auto client = std::make_shared<ClientV2>(nsqd_, std::move(socket), id,
                                             [this](int64_t gone) { clients_.remove(gone); });
    if (clients_.add(id, client)) client->start();
  });
}

void TcpServer::stop() {
  acceptor_.stop();
  for (auto& c : clients_.close_all()) c->stop();
}

size_t TcpServer::client_count() const {
  return clients_.size();
}

std::vector<ClientStats> TcpServer::client_stats() const {
  // Outside the registry's lock: a client's stats() takes its own locks.
  std::vector<ClientStats> out;
  for (const auto& c : clients_.live()) out.push_back(c->stats());
  return out;
}

}  // namespace nsq::nsqd
