// AdminOptions: every nsqadmin flag with the reference's name, default, help text and config
// key (the reference's nsqadmin/options.go), and the start-up checks nsqadmin.New() makes. Filled
// once at start-up; afterwards only /config PUT changes the lookupd list and log level (under
// AdminState's lock, see admin_service.hpp).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/config/flag_set.hpp"
#include "common/daemon/daemon_options.hpp"

namespace nsq::nsqadmin {

using Duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;

// -config, -version, -log-level, -log-prefix, -verbose: DaemonOptions.
struct AdminOptions : daemon::DaemonOptions {
  AdminOptions() : DaemonOptions("[nsqadmin] ") {}

  std::string http_address = "0.0.0.0:4171";
  std::string base_path = "/";
  std::string dev_static_dir;

  std::string graphite_url;
  bool proxy_graphite = false;
  std::string statsd_counter_format = "stats.counters.%s.count";
  std::string statsd_gauge_format = "stats.gauges.%s";
  std::string statsd_prefix = "nsq.%s";
  Duration statsd_interval = 60s;

  std::string notification_http_endpoint;
  Duration http_client_connect_timeout = 2s;
  Duration http_client_request_timeout = 5s;
  bool http_client_tls_insecure_skip_verify = false;
  std::string http_client_tls_root_ca_file;
  std::string http_client_tls_cert;
  std::string http_client_tls_key;

  std::string allow_config_from_cidr = "127.0.0.1/8";
  std::string acl_http_header = "X-Forwarded-User";

  std::vector<std::string> lookupd_http_addresses;
  std::vector<std::string> nsqd_http_addresses;
  std::vector<std::string> admin_users;
};

void register_admin_flags(config::FlagSet& flags, AdminOptions& opts);

// nsqadmin.New()'s checks, in its order; "" when fine, else the reference's message.
std::string validate_admin_options(const AdminOptions& opts);

// "/" for "", "x" -> "/x", path.Clean'd, as the reference's normalizeBasePath.
std::string normalize_base_path(const std::string& p);

// A parsed IPv4/IPv6 CIDR ("127.0.0.1/8"); contains() takes an IP text.
struct Cidr {
  unsigned char addr[16] = {};
  bool v6 = false;
  int bits = 0;
  bool contains(const std::string& ip) const;
};
bool parse_cidr(const std::string& text, Cidr& out);

}  // namespace nsq::nsqadmin
