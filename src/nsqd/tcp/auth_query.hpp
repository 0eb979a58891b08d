// Asks the --auth-http-address servers about a client's secret, as the reference's
// QueryAnyAuthd: starting at a random server, each in turn until one answers with a valid
// reply; the errors of those that failed are joined. Asynchronous (never blocks an event
// loop); `done` runs on `ex`.
#pragma once

#include <boost/asio/any_io_executor.hpp>
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
                           AuthQuery query, AuthCallback done);

}  // namespace nsq::nsqd
