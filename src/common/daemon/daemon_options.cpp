#include "common/daemon/daemon_options.hpp"

#include "common/log/logger.hpp"

namespace nsq::daemon {

void register_daemon_flags(config::FlagSet& f, DaemonOptions& o) {
  f.add_string("config", &o.config_file, "path to config file", "-");
  f.add_bool("version", &o.show_version, "print version string", "-");
  f.add_value(
      "log-level",
      [&o](std::string_view v, std::string& reason) {
        log::Level level;
        if (!log::parse_level(v, level)) {
          reason = "invalid log level '" + std::string(v) + "' (debug, info, warn, error, fatal)";
          return false;
        }
        o.log_level = std::string(v);
        return true;
      },
      "INFO", "set log verbosity: debug, info, warn, error, or fatal");
  f.add_string("log-prefix", &o.log_prefix, "log message prefix");
  f.add_bool("verbose", &o.verbose, "[deprecated] has no effect, use --log-level", "-");
}

void register_http_client_timeout_flags(config::FlagSet& f, config::Duration* connect,
                                        config::Duration* request) {
  f.add_duration("http-client-connect-timeout", connect, "timeout for HTTP connect");
  f.add_duration("http-client-request-timeout", request, "timeout for HTTP request");
}

}  // namespace nsq::daemon
