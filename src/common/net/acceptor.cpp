#include "common/net/acceptor.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <cstring>

#include "common/gocompat/go_errno.hpp"
#include "common/log/logger.hpp"
#include "common/net/address.hpp"

namespace nsq::net {

namespace asio = boost::asio;
using generic_endpoint = asio::generic::stream_protocol::endpoint;

namespace {

// A generic endpoint holding AF_INET/AF_INET6 as a TCP endpoint.
std::optional<asio::ip::tcp::endpoint> as_tcp(const generic_endpoint& ep) {
  const int family = ep.data()->sa_family;
  if (family != AF_INET && family != AF_INET6) return std::nullopt;
  asio::ip::tcp::endpoint out;
  std::memcpy(out.data(), ep.data(), ep.size());
  out.resize(ep.size());
  return out;
}

// The path of a unix endpoint; Go prints an unnamed (or abstract) peer as "@".
std::string unix_name(const generic_endpoint& ep) {
  const auto* un = reinterpret_cast<const sockaddr_un*>(ep.data());
  const size_t header = offsetof(sockaddr_un, sun_path);
  if (ep.size() <= header || un->sun_path[0] == '\0') return "@";
  return std::string(un->sun_path, strnlen(un->sun_path, ep.size() - header));
}

}  // namespace

bool is_unix_address(std::string_view address) {
  // net.SplitHostPort: the last colon separates the port; a host with a colon needs brackets.
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return true;
  std::string_view host = address.substr(0, colon);
  if (host.starts_with('[')) return !host.ends_with(']') || host.find(']') != host.size() - 1;
  return host.find_first_of(":[]") != std::string_view::npos;
}

PeerAddress peer_address(const StreamSocket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return {};
  if (auto tcp = as_tcp(ep)) return {endpoint_string(*tcp), tcp->address().to_string(), false};
  return {unix_name(ep), "", true};
}

std::string local_address(const StreamSocket& socket) {
  boost::system::error_code ec;
  const auto ep = socket.local_endpoint(ec);
  if (ec) return "";
  if (auto tcp = as_tcp(ep)) return endpoint_string(*tcp);
  return unix_name(ep);
}

Acceptor::Acceptor(IoPool& pool, std::string name)
    : loops_(pool), name_(std::move(name)), acceptor_(pool.at(0)) {}

Acceptor::~Acceptor() = default;

util::Status Acceptor::listen(const std::string& address, bool allow_unix) {
  const bool unix_socket = allow_unix && is_unix_address(address);
  generic_endpoint ep;
  if (unix_socket) {
    if (address.size() >= sizeof(sockaddr_un::sun_path)) {
      return util::fail("listen (" + address + ") failed - listen unix " + address +
                        ": bind: invalid argument");
    }
    ep = generic_endpoint(asio::local::stream_protocol::endpoint(address));
  } else {
    auto tcp = resolve_listen_endpoint(address);
    if (!tcp) return util::fail("listen (" + address + ") failed - listen tcp: " + tcp.error());
    ep = generic_endpoint(*tcp);
  }
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  // SO_REUSEADDR as Go sets it on TCP listeners; it never applies to a unix socket file.
  if (!ec && !unix_socket) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return util::fail("listen (" + address + ") failed - listen " +
                      (unix_socket ? "unix " : "tcp ") + address +
                      ": bind: " + gocompat::go_errno_text(ec.value()));
  }
  const auto local = acceptor_.local_endpoint(ec);
  if (unix_socket) {
    unix_path_ = address;
    address_ = address;
  } else {
    tcp_endpoint_ = as_tcp(local);
    address_ = tcp_endpoint_ ? endpoint_string(*tcp_endpoint_) : address;
  }
  listening_ = true;
  return {};
}

void Acceptor::start(OnAccept on_accept) {
  if (!listening_) return;
  on_accept_ = std::move(on_accept);
  log::info("{}: listening on {}", name_, address_);
  asio::post(acceptor_.get_executor(), [this] { do_accept(); });
}

void Acceptor::do_accept() {
  acceptor_.async_accept(loops_.next(),
                         [this](const boost::system::error_code& ec, StreamSocket socket) {
                           if (ec) {
                             if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
                               return;
                             }
                             // Out of file descriptors and similar: log and keep accepting.
                             log::error("{}: accept error - {}", name_, ec.message());
                             do_accept();
                             return;
                           }
                           on_accept_(std::move(socket));
                           do_accept();
                         });
}

void Acceptor::stop() {
  if (!listening_ || stopped_) return;
  stopped_ = true;
  log::info("{}: closing {}", name_, address_);
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
}

}  // namespace nsq::net
