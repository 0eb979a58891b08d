#include "nsqd/http/http_config.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

#include "common/config/flag_set.hpp"
#include "common/gocompat/json_writer.hpp"
#include "common/log/logger.hpp"

namespace nsq::nsqd {

namespace {

// Marks a string option: answered as text, not JSON.
constexpr char kTextMarker = '\x01';
std::string json_string(std::string_view s) {
  return kTextMarker + std::string(s);
}

std::string json_strings(const std::vector<std::string>& list) {
  gocompat::JsonWriter w;
  w.begin_array();
  for (const auto& s : list) w.string(s);
  w.end_array();
  return w.take();
}

std::string json_bool(bool b) {
  return b ? "true" : "false";
}
std::string json_int(int64_t v) {
  return std::to_string(v);
}
std::string json_duration(Duration d) {
  return std::to_string(d.count());
}

}  // namespace

int tls_required_number(const std::string& value) {
  std::string lower(value);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "tcp-https") return 1;  // TLSRequiredExceptHTTP
  bool b = false;
  if (!gocompat::parse_go_bool(lower, b)) return 2;
  return b ? 2 : 0;
}

int tls_required_number(const NsqdOptions& o) {
  const int n = tls_required_number(o.tls_required);
  // nsqd.go New(): a client-auth policy raises TLSNotRequired to TLSRequired in the options.
  return n == 0 && !o.tls_client_auth_policy.empty() ? 2 : n;
}

namespace {

int tls_version_number(const std::string& value) {
  if (value == "tls1.1") return 0x0302;
  if (value == "tls1.2") return 0x0303;
  if (value == "tls1.3") return 0x0304;
  return 0x0301;  // tls1.0, the default
}

}  // namespace

int go_log_level(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "debug") return 1;
  if (lower == "info") return 2;
  if (lower == "warn") return 3;
  if (lower == "error") return 4;
  if (lower == "fatal") return 5;
  return 0;
}

std::string expand_statsd_prefix(const std::string& prefix, const std::string& broadcast_address,
                                 int64_t broadcast_http_port) {
  if (prefix.empty()) return prefix;
  // net.JoinHostPort brackets IPv6 hosts; statsd.HostKey only replaces '.' and ':'.
  std::string host = broadcast_address.find(':') != std::string::npos
                         ? "[" + broadcast_address + "]"
                         : broadcast_address;
  std::string key = host + ":" + std::to_string(broadcast_http_port);
  std::replace(key.begin(), key.end(), '.', '_');
  std::replace(key.begin(), key.end(), ':', '_');
  std::string out;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (prefix[i] == '%' && i + 1 < prefix.size() && prefix[i + 1] == 's') {
      out += key;
      ++i;
    } else {
      out.push_back(prefix[i]);
    }
  }
  if (out.back() != '.') out.push_back('.');
  return out;
}

std::optional<OptionValue> option_value(const NsqdOptions& o, const RuntimeOptionValues& rt,
                                        std::string_view name) {
  using Getter = std::function<std::string()>;
  // Keyed by the reference's config names (its `cfg` tags, else the flag with '-' -> '_').
  const std::map<std::string_view, Getter> table = {
      {"id", [&] { return json_int(o.node_id); }},
      {"log_level", [&] { return json_int(rt.log_level); }},
      {"log_prefix", [&] { return json_string(o.log_prefix); }},
      {"tcp_address", [&] { return json_string(o.tcp_address); }},
      {"http_address", [&] { return json_string(o.http_address); }},
      {"https_address", [&] { return json_string(o.https_address); }},
      {"broadcast_address", [&] { return json_string(o.broadcast_address); }},
      {"broadcast_tcp_port", [&] { return json_int(rt.broadcast_tcp_port); }},
      {"broadcast_http_port", [&] { return json_int(rt.broadcast_http_port); }},
      {"nsqlookupd_tcp_addresses", [&] { return json_strings(rt.lookupd_addresses); }},
      {"auth_http_addresses", [&] { return json_strings(o.auth_http_addresses); }},
      {"http_client_connect_timeout", [&] { return json_duration(o.http_client_connect_timeout); }},
      {"http_client_request_timeout", [&] { return json_duration(o.http_client_request_timeout); }},
      {"data_path", [&] { return json_string(o.data_path); }},
      {"mem_queue_size", [&] { return json_int(o.mem_queue_size); }},
      {"max_bytes_per_file", [&] { return json_int(o.max_bytes_per_file); }},
      {"sync_every", [&] { return json_int(o.sync_every); }},
      {"sync_timeout", [&] { return json_duration(o.sync_timeout); }},
      {"queue_scan_selection_count", [&] { return json_int(o.queue_scan_selection_count); }},
      {"queue_scan_worker_pool_max", [&] { return json_int(o.queue_scan_worker_pool_max); }},
      {"msg_timeout", [&] { return json_duration(o.msg_timeout); }},
      {"max_msg_timeout", [&] { return json_duration(o.max_msg_timeout); }},
      {"max_msg_size", [&] { return json_int(o.max_msg_size); }},
      {"max_body_size", [&] { return json_int(o.max_body_size); }},
      {"max_req_timeout", [&] { return json_duration(o.max_req_timeout); }},
      {"max_heartbeat_interval", [&] { return json_duration(o.max_heartbeat_interval); }},
      {"max_rdy_count", [&] { return json_int(o.max_rdy_count); }},
      {"max_output_buffer_size", [&] { return json_int(o.max_output_buffer_size); }},
      {"max_output_buffer_timeout", [&] { return json_duration(o.max_output_buffer_timeout); }},
      {"min_output_buffer_timeout", [&] { return json_duration(o.min_output_buffer_timeout); }},
      {"output_buffer_timeout", [&] { return json_duration(o.output_buffer_timeout); }},
      {"max_channel_consumers", [&] { return json_int(o.max_channel_consumers); }},
      {"statsd_address", [&] { return json_string(o.statsd_address); }},
      {"statsd_prefix", [&] { return json_string(rt.statsd_prefix); }},
      {"statsd_interval", [&] { return json_duration(o.statsd_interval); }},
      {"statsd_mem_stats", [&] { return json_bool(o.statsd_mem_stats); }},
      {"statsd_udp_packet_size", [&] { return json_int(o.statsd_udp_packet_size); }},
      {"statsd_exclude_ephemeral", [&] { return json_bool(o.statsd_exclude_ephemeral); }},
      {"e2e_processing_latency_window_time",
       [&] { return json_duration(o.e2e_processing_latency_window_time); }},
      {"e2e_processing_latency_percentiles",
       [&] {
         auto sorted = o.e2e_processing_latency_percentiles;
         std::sort(sorted.begin(), sorted.end(), std::greater<>());
         gocompat::JsonWriter w;
         w.begin_array();
         for (double p : sorted) w.number(p);
         w.end_array();
         return w.take();
       }},
      {"tls_cert", [&] { return json_string(o.tls_cert); }},
      {"tls_key", [&] { return json_string(o.tls_key); }},
      {"tls_client_auth_policy", [&] { return json_string(o.tls_client_auth_policy); }},
      {"tls_root_ca_file", [&] { return json_string(o.tls_root_ca_file); }},
      {"tls_required", [&] { return json_int(tls_required_number(o)); }},
      {"tls_min_version", [&] { return json_int(tls_version_number(o.tls_min_version)); }},
      {"deflate", [&] { return json_bool(o.deflate); }},
      {"max_deflate_level", [&] { return json_int(o.max_deflate_level); }},
      {"snappy", [&] { return json_bool(o.snappy); }},
  };
  auto it = table.find(name);
  if (it == table.end()) return std::nullopt;
  std::string v = it->second();
  if (!v.empty() && v.front() == kTextMarker) return OptionValue{v.substr(1), false};
  return OptionValue{std::move(v), true};
}

}  // namespace nsq::nsqd
