#include "common/net/address.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <charconv>

namespace nsq::net {

std::optional<HostPort> split_host_port(std::string_view address) {
  HostPort hp;
  std::string_view port;
  if (address.starts_with("[")) {
    const size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return std::nullopt;
    }
    hp.host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    hp.host = std::string(address.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return std::nullopt;  // IPv6 needs brackets
    port = address.substr(colon + 1);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || ptr != port.data() + port.size() || value > 65535) return std::nullopt;
  hp.port = static_cast<uint16_t>(value);
  return hp;
}

util::Result<boost::asio::ip::tcp::endpoint> resolve_listen_endpoint(std::string_view address) {
  auto hp = split_host_port(address);
  if (!hp) return util::fail("address " + std::string(address) + ": missing port in address");
  namespace ip = boost::asio::ip;
  if (hp->host.empty()) return ip::tcp::endpoint(ip::address_v4::any(), hp->port);
  boost::system::error_code ec;
  auto addr = ip::make_address(hp->host, ec);
  if (!ec) return ip::tcp::endpoint(addr, hp->port);
  boost::asio::io_context ctx;
  ip::tcp::resolver resolver(ctx);
  auto results = resolver.resolve(hp->host, std::to_string(hp->port), ec);
  if (ec || results.empty()) {
    return util::fail("lookup " + hp->host + ": " + (ec ? ec.message() : "no such host"));
  }
  return results.begin()->endpoint();
}

std::string endpoint_string(const boost::asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address();
  if (addr.is_v6()) return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
  return addr.to_string() + ":" + std::to_string(ep.port());
}

}  // namespace nsq::net
