#include "nsqadmin/options.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>
#include <string_view>

#include "common/http/router.hpp"
#include "common/log/logger.hpp"

namespace nsq::nsqadmin {

void register_admin_flags(config::FlagSet& f, AdminOptions& o) {
  // Registration order does not matter for usage (sorted by name, like Go's flag package).
  daemon::register_daemon_flags(f, o);

  f.add_string("http-address", &o.http_address, "<addr>:<port> to listen on for HTTP clients");
  f.add_string("base-path", &o.base_path, "URL base path");
  f.add_string("dev-static-dir", &o.dev_static_dir, "(development use only)");

  f.add_string("graphite-url", &o.graphite_url, "graphite HTTP address");
  f.add_bool("proxy-graphite", &o.proxy_graphite, "proxy HTTP requests to graphite");

  f.add_string("statsd-counter-format", &o.statsd_counter_format,
               "The counter stats key formatting applied by the implementation of statsd. If no "
               "formatting is desired, set this to an empty string.");
  f.add_string("statsd-gauge-format", &o.statsd_gauge_format,
               "The gauge stats key formatting applied by the implementation of statsd. If no "
               "formatting is desired, set this to an empty string.");
  f.add_string("statsd-prefix", &o.statsd_prefix,
               "prefix used for keys sent to statsd (%s for host replacement, must match nsqd)");
  f.add_duration("statsd-interval", &o.statsd_interval,
                 "time interval nsqd is configured to push to statsd (must match nsqd)");

  f.add_string("notification-http-endpoint", &o.notification_http_endpoint,
               "HTTP endpoint (fully qualified) to which POST notifications of admin actions will "
               "be sent");

  daemon::register_http_client_timeout_flags(f, &o.http_client_connect_timeout,
                                             &o.http_client_request_timeout);

  f.add_bool("http-client-tls-insecure-skip-verify", &o.http_client_tls_insecure_skip_verify,
             "configure the HTTP client to skip verification of TLS certificates");
  f.add_string("http-client-tls-root-ca-file", &o.http_client_tls_root_ca_file,
               "path to CA file for the HTTP client");
  f.add_string("http-client-tls-cert", &o.http_client_tls_cert,
               "path to certificate file for the HTTP client");
  f.add_string("http-client-tls-key", &o.http_client_tls_key,
               "path to key file for the HTTP client");

  f.add_string("allow-config-from-cidr", &o.allow_config_from_cidr,
               "A CIDR from which to allow HTTP requests to the /config endpoint");
  f.add_string("acl-http-header", &o.acl_http_header,
               "HTTP header to check for authenticated admin users");

  f.add_string_list("lookupd-http-address", &o.lookupd_http_addresses,
                    "lookupd HTTP address (may be given multiple times)",
                    "nsqlookupd_http_addresses");
  f.add_string_list("nsqd-http-address", &o.nsqd_http_addresses,
                    "nsqd HTTP address (may be given multiple times)", "nsqd_http_addresses");
  f.add_string_list("admin-user", &o.admin_users,
                    "admin user (may be given multiple times; if specified, only these users will "
                    "be able to perform privileged actions; acl-http-header is used to determine "
                    "the authenticated user)",
                    "admin_users");
}

namespace {

// net.ResolveTCPAddr's failure text, or "" when `address` resolves.
std::string resolve_error(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return "address " + address + ": missing port in address";
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return "address " + address + ": too many colons in address";
  }
  for (char c : port) {
    if (c < '0' || c > '9') return "lookup tcp/" + port + ": unknown port";
  }
  if (port.empty() || std::stol(port) > 65535) return "address " + address + ": invalid port";
  if (host.empty()) return "";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (res) freeaddrinfo(res);
  if (rc != 0) return "lookup " + host + ": no such host";
  return "";
}

}  // namespace

std::string validate_admin_options(const AdminOptions& o) {
  if (o.nsqd_http_addresses.empty() && o.lookupd_http_addresses.empty()) {
    return "--nsqd-http-address or --lookupd-http-address required";
  }
  if (!o.nsqd_http_addresses.empty() && !o.lookupd_http_addresses.empty()) {
    return "use --nsqd-http-address or --lookupd-http-address not both";
  }
  if (!o.http_client_tls_cert.empty() && o.http_client_tls_key.empty()) {
    return "--http-client-tls-key must be specified with --http-client-tls-cert";
  }
  if (!o.http_client_tls_key.empty() && o.http_client_tls_cert.empty()) {
    return "--http-client-tls-cert must be specified with --http-client-tls-key";
  }
  for (const auto& a : o.lookupd_http_addresses) {
    if (auto e = resolve_error(a); !e.empty()) {
      return "failed to resolve --lookupd-http-address (" + a + ") - " + e;
    }
  }
  for (const auto& a : o.nsqd_http_addresses) {
    if (auto e = resolve_error(a); !e.empty()) {
      return "failed to resolve --nsqd-http-address (" + a + ") - " + e;
    }
  }
  if (!o.allow_config_from_cidr.empty()) {
    Cidr c;
    if (!parse_cidr(o.allow_config_from_cidr, c)) {
      return "failed to parse --allow-config-from-cidr (" + o.allow_config_from_cidr +
             ") - invalid CIDR address: " + o.allow_config_from_cidr;
    }
  }
  return "";
}

std::string normalize_base_path(const std::string& p) {
  if (p.empty()) return "/";
  std::string s = p.front() == '/' ? p : "/" + p;
  std::string cleaned = http::clean_path(s);
  // path.Clean drops a trailing slash (clean_path keeps it, like httprouter's CleanPath).
  if (cleaned.size() > 1 && cleaned.back() == '/') cleaned.pop_back();
  return cleaned;
}

namespace {

bool parse_ip(const std::string& text, unsigned char out[16], bool& v6) {
  in_addr a4{};
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) {
    std::memset(out, 0, 16);
    std::memcpy(out, &a4, 4);
    v6 = false;
    return true;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) {
    // An IPv4-mapped address compares as IPv4, as Go's net.IP does.
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(&a6, kMapped, 12) == 0) {
      std::memset(out, 0, 16);
      std::memcpy(out, reinterpret_cast<unsigned char*>(&a6) + 12, 4);
      v6 = false;
      return true;
    }
    std::memcpy(out, &a6, 16);
    v6 = true;
    return true;
  }
  return false;
}

}  // namespace

bool parse_cidr(const std::string& text, Cidr& out) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return false;
  const std::string bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 3) return false;
  for (char c : bits) {
    if (c < '0' || c > '9') return false;
  }
  if (!parse_ip(text.substr(0, slash), out.addr, out.v6)) return false;
  out.bits = std::stoi(bits);
  return out.bits <= (out.v6 ? 128 : 32);
}

bool Cidr::contains(const std::string& ip) const {
  unsigned char a[16];
  bool is6 = false;
  if (!parse_ip(ip, a, is6) || is6 != v6) return false;
  for (int i = 0; i < bits; ++i) {
    const int byte = i / 8;
    const unsigned char mask = static_cast<unsigned char>(0x80 >> (i % 8));
    if ((a[byte] & mask) != (addr[byte] & mask)) return false;
  }
  return true;
}

}  // namespace nsq::nsqadmin
