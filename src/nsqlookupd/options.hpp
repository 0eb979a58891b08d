// NsqlookupdOptions: every nsqlookupd flag with the reference's name, type, default and
// config-file key (the reference's nsqlookupd/options.go). Filled once at start-up by
// register_nsqlookupd_flags() + FlagSet::parse(), then read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/config/flag_set.hpp"
#include "common/daemon/daemon_options.hpp"

namespace nsq::nsqlookupd {

using Duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;

// -config, -version, -log-level, -log-prefix, -verbose: DaemonOptions.
struct NsqlookupdOptions : daemon::DaemonOptions {
  NsqlookupdOptions() : DaemonOptions("[nsqlookupd] ") {}

  std::string tcp_address = "0.0.0.0:4160";
  std::string http_address = "0.0.0.0:4161";
  std::string broadcast_address;  // default: the OS hostname

  Duration inactive_producer_timeout = 300s;
  Duration tombstone_lifetime = 45s;

  // Not reference flags: event-loop threads (0 = one per core) and the V1 input bounds.
  int64_t io_threads = 0;
  int64_t max_identify_body = 1 << 20;
};

// Registers every flag on `flags`, bound to `opts` (sets the hostname default first).
void register_nsqlookupd_flags(config::FlagSet& flags, NsqlookupdOptions& opts);

}  // namespace nsq::nsqlookupd
