#include "nsqd/tcp/tcp_server.hpp"

#include <boost/asio/post.hpp>

#include "common/log/logger.hpp"
#include "common/net/address.hpp"
#include "common/net/listener.hpp"

namespace nsq::nsqd {

namespace asio = boost::asio;

TcpServer::TcpServer(Nsqd& nsqd, net::IoPool& pool)
    : nsqd_(nsqd), loops_(pool), acceptor_(pool.at(0)) {}

TcpServer::~TcpServer() = default;

bool TcpServer::listen(const std::string& address, std::string& error) {
  return net::open_listener(acceptor_, address, error);
}

asio::ip::tcp::endpoint TcpServer::local_endpoint() const {
  return acceptor_.local_endpoint();
}

void TcpServer::start_accepting() {
  // Logged once serving, after nsqd.dat is loaded, in the reference's order.
  log::info("TCP: listening on {}", net::endpoint_string(acceptor_.local_endpoint()));
  asio::post(acceptor_.get_executor(), [this] { do_accept(); });
}

void TcpServer::do_accept() {
  acceptor_.async_accept(loops_.next(), [this](const boost::system::error_code& ec,
                                               asio::ip::tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      // Out of file descriptors and similar: log and keep accepting.
      log::error("TCP: accept error - {}", ec.message());
      do_accept();
      return;
    }
    const int64_t id = nsqd_.next_client_id();
    auto client = std::make_shared<ClientV2>(nsqd_, std::move(socket), id, [this](int64_t gone) {
      std::lock_guard lock(mu_);
      clients_.erase(gone);
    });
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      clients_.emplace(id, client);
    }
    client->start();
    do_accept();
  });
}

void TcpServer::stop() {
  boost::system::error_code ep_ec;
  const auto ep = acceptor_.local_endpoint(ep_ec);
  if (!ep_ec) log::info("TCP: closing {}", net::endpoint_string(ep));
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<ClientV2>> live;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [id, weak] : clients_) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->stop();
}

size_t TcpServer::client_count() const {
  std::lock_guard lock(mu_);
  return clients_.size();
}

std::vector<ClientStats> TcpServer::client_stats() const {
  std::vector<std::shared_ptr<ClientV2>> live;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, weak] : clients_) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  // Outside mu_: a client's stats() takes its own locks.
  std::vector<ClientStats> out;
  out.reserve(live.size());
  for (const auto& c : live) out.push_back(c->stats());
  return out;
}

}  // namespace nsq::nsqd
