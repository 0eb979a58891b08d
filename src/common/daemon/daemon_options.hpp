// The options and flags every daemon has. The reference declares -config, -version,
// -log-level, -log-prefix and -verbose in each of apps/nsqd, apps/nsqlookupd and
// apps/nsqadmin with the same help texts; here they are registered once, so the three `-h`
// outputs cannot drift apart. Each daemon's options struct derives from DaemonOptions.
#pragma once

#include <string>
#include <utility>

#include "common/config/flag_set.hpp"

namespace nsq::daemon {

struct DaemonOptions {
  // The default -log-prefix differs per daemon ("[nsqd] ", "[nsqlookupd] ", "[nsqadmin] ").
  explicit DaemonOptions(std::string default_log_prefix)
      : log_prefix(std::move(default_log_prefix)) {}

  std::string config_file;
  bool show_version = false;
  std::string log_level = "info";
  std::string log_prefix;
  bool verbose = false;  // deprecated, accepted for compatibility
};

// -config, -version, -log-level (checked as it is set), -log-prefix and -verbose.
void register_daemon_flags(config::FlagSet& flags, DaemonOptions& opts);

// -http-client-connect-timeout and -http-client-request-timeout: nsqd (auth queries) and
// nsqadmin (upstream queries) word them alike.
void register_http_client_timeout_flags(config::FlagSet& flags, config::Duration* connect,
                                        config::Duration* request);

}  // namespace nsq::daemon
