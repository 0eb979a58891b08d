#include "common/net/listener.hpp"

#include "common/net/address.hpp"

namespace nsq::net {

bool open_listener(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                   std::string& error) {
  auto ep = resolve_listen_endpoint(address, error);
  if (!ep) {
    error = "listen (" + address + ") failed - " + error;
    return false;
  }
  boost::system::error_code ec;
  acceptor.open(ep->protocol(), ec);
  if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*ep, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "listen (" + address + ") failed - listen tcp " + address + ": bind: " + ec.message();
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return false;
  }
  return true;
}

}  // namespace nsq::net
