#include "nsqlookupd/tcp_server.hpp"

#include <boost/asio/post.hpp>
#include <vector>

#include "common/log/logger.hpp"
#include "common/net/address.hpp"
#include "common/net/listener.hpp"

namespace nsq::nsqlookupd {

namespace asio = boost::asio;

LookupTcpServer::LookupTcpServer(Nsqlookupd& lookupd, net::IoPool& pool)
    : lookupd_(lookupd), loops_(pool), acceptor_(pool.at(0)) {}

LookupTcpServer::~LookupTcpServer() = default;

bool LookupTcpServer::listen(const std::string& address, std::string& error) {
  if (!net::open_listener(acceptor_, address, error)) return false;
  log::info("TCP: listening on {}", net::endpoint_string(acceptor_.local_endpoint()));
  return true;
}

asio::ip::tcp::endpoint LookupTcpServer::local_endpoint() const {
  return acceptor_.local_endpoint();
}

size_t LookupTcpServer::connection_count() const {
  std::lock_guard lock(mu_);
  return conns_.size();
}

void LookupTcpServer::start_accepting() {
  asio::post(acceptor_.get_executor(), [this] { do_accept(); });
}

void LookupTcpServer::do_accept() {
  acceptor_.async_accept(
      loops_.next(), [this](const boost::system::error_code& ec, asio::ip::tcp::socket socket) {
        if (ec) {
          if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
          // Out of file descriptors and similar: log and keep accepting.
          log::error("TCP: accept error - {}", ec.message());
          do_accept();
          return;
        }
        boost::system::error_code ep_ec;
        const auto remote = socket.remote_endpoint(ep_ec);
        if (ep_ec) {  // the peer is already gone
          do_accept();
          return;
        }
        std::shared_ptr<LookupConnection> conn;
        {
          std::lock_guard lock(mu_);
          if (stopped_) return;
          const uint64_t id = ++next_id_;
          conn = std::make_shared<LookupConnection>(
              lookupd_, std::move(socket), id, net::endpoint_string(remote), [this](uint64_t gone) {
                std::lock_guard l(mu_);
                conns_.erase(gone);
              });
          conns_.emplace(id, conn);
        }
        conn->start();
        do_accept();
      });
}

void LookupTcpServer::stop() {
  boost::system::error_code ep_ec;
  const auto ep = acceptor_.local_endpoint(ep_ec);
  if (!ep_ec) log::info("TCP: closing {}", net::endpoint_string(ep));
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  std::vector<std::shared_ptr<LookupConnection>> live;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [id, weak] : conns_) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->stop();
}

}  // namespace nsq::nsqlookupd
