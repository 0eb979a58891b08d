// Parsing of "host:port" listen/connect addresses the way Go's net package accepts them:
// "0.0.0.0:4150", ":4150" (all interfaces), "[::1]:4150", "localhost:4150".
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/util/result.hpp"

namespace nsq::net {

struct HostPort {
  std::string host;  // without brackets; "" = all interfaces
  uint16_t port = 0;
};

std::optional<HostPort> split_host_port(std::string_view address);
// Resolves a listen address to an endpoint (numeric hosts, "localhost", or "" = 0.0.0.0).
util::Result<boost::asio::ip::tcp::endpoint> resolve_listen_endpoint(std::string_view address);
// "host:port" for logs and stats, with brackets for IPv6.
std::string endpoint_string(const boost::asio::ip::tcp::endpoint& ep);

}  // namespace nsq::net
