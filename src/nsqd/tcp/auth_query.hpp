// Asks the --auth-http-address servers about a client's secret, as the reference's
// QueryAnyAuthd: starting at a random server, each in turn until one answers with a valid
// reply; the errors of those that failed are joined. Asynchronous (never blocks an event
// loop); `done` runs on `ex`. Each address is a bare host:port (GET /auth there) or a full
// http:// or https:// URL (v1.3.0); https:// servers are verified with `tls`, nsqd's client
// context (-tls-root-ca-file, else the system's CAs).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nsqd/options.hpp"
#include "nsqd/tcp/auth_state.hpp"

namespace nsq::nsqd {

using AuthCallback = std::function<void(std::optional<AuthState> state, std::string error)>;

void query_any_auth_server(const boost::asio::any_io_executor& ex, const NsqdOptions& opts,
                           std::shared_ptr<boost::asio::ssl::context> tls, AuthQuery query,
                           AuthCallback done);

}  // namespace nsq::nsqd
