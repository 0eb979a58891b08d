#include "nsqlookupd/options.hpp"

#include "common/log/logger.hpp"
#include "common/util/hostname.hpp"

namespace nsq::nsqlookupd {

void register_nsqlookupd_flags(config::FlagSet& f, NsqlookupdOptions& o) {
  o.broadcast_address = util::os_hostname();

  // Same names, types, help texts and defaults as apps/nsqlookupd, so `-h` reads the same.
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

  f.add_string("tcp-address", &o.tcp_address, "<addr>:<port> to listen on for TCP clients");
  f.add_string("http-address", &o.http_address, "<addr>:<port> to listen on for HTTP clients");
  f.add_string("broadcast-address", &o.broadcast_address,
               "address of this lookupd node, (default to the OS hostname)");

  f.add_duration("inactive-producer-timeout", &o.inactive_producer_timeout,
                 "duration of time a producer will remain in the active list since its last ping");
  f.add_duration("tombstone-lifetime", &o.tombstone_lifetime,
                 "duration of time a producer will remain tombstoned if registration remains");
}

}  // namespace nsq::nsqlookupd
