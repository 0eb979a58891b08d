// NsqlookupdOptions: every nsqlookupd flag with the reference's name, type, default and
// config-file key (the reference's nsqlookupd/options.go). Filled once at start-up by
// register_nsqlookupd_flags() + FlagSet::parse(), then read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/config/flag_set.hpp"

namespace nsq::nsqlookupd {

using Duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;

struct NsqlookupdOptions {
  std::string config_file;
  bool show_version = false;
  std::string log_level = "info";
  std::string log_prefix = "[nsqlookupd] ";
  bool verbose = false;  // deprecated, accepted for compatibility

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
