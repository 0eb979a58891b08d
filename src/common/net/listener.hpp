// Opening a listening socket the way every daemon here does it, with the reference's error
// text ("listen (ADDR) failed - listen tcp ADDR: bind: ...") so start-up failures read the same.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

namespace nsq::net {

// Resolves `address`, then opens, binds (SO_REUSEADDR) and listens on `acceptor`.
// On failure returns false with `error` set and leaves the acceptor closed.
bool open_listener(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                   std::string& error);

}  // namespace nsq::net
