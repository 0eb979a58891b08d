#include "nsqd/options.hpp"

#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cctype>
#include <climits>
#include <string_view>

#include "common/log/logger.hpp"
#include "common/util/hostname.hpp"

namespace nsq::nsqd {

int64_t default_node_id() {
  const std::string host = util::os_hostname();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(host.data(), host.size(), digest, &len, EVP_md5(), nullptr);
  const uLong crc = crc32(0L, digest, len);
  return static_cast<int64_t>(crc % 1024);
}

void register_nsqd_flags(config::FlagSet& f, NsqdOptions& o) {
  o.node_id = default_node_id();
  o.broadcast_address = util::os_hostname();

  daemon::register_daemon_flags(f, o);
  f.add_int("node-id", &o.node_id,
            "unique part for message IDs, (int) in range [0,1024) (default is hash of hostname)",
            "id");
  f.add_bool("worker-id", &o.worker_id, "[deprecated] use --node-id", "-");

  f.add_string("tcp-address", &o.tcp_address,
               "address to listen on for TCP clients (<addr>:<port> for TCP/IP or <path> for "
               "unix socket)");
  f.add_string("http-address", &o.http_address,
               "address to listen on for HTTP clients (<addr>:<port> for TCP/IP or <path> for "
               "unix socket)");
  f.add_string("https-address", &o.https_address, "<addr>:<port> to listen on for HTTPS clients");
  f.add_string("broadcast-address", &o.broadcast_address,
               "address that will be registered with lookupd (defaults to the OS hostname)");
  f.add_int("broadcast-tcp-port", &o.broadcast_tcp_port,
            "TCP port that will be registered with lookupd (defaults to the TCP port that this "
            "nsqd is listening on)");
  f.add_int("broadcast-http-port", &o.broadcast_http_port,
            "HTTP port that will be registered with lookupd (defaults to the HTTP port that this "
            "nsqd is listening on)");
  f.add_string_list("lookupd-tcp-address", &o.lookupd_tcp_addresses,
                    "lookupd TCP address (may be given multiple times)",
                    "nsqlookupd_tcp_addresses");
  f.add_string_list("auth-http-address", &o.auth_http_addresses,
                    "<addr>:<port> or a full url to query auth server (may be given multiple "
                    "times)",
                    "auth_http_addresses");
  daemon::register_http_client_timeout_flags(f, &o.http_client_connect_timeout,
                                             &o.http_client_request_timeout);

  f.add_string("data-path", &o.data_path, "path to store disk-backed messages");
  f.add_int("mem-queue-size", &o.mem_queue_size,
            "number of messages to keep in memory (per topic/channel)");
  f.add_int("max-bytes-per-file", &o.max_bytes_per_file,
            "number of bytes per diskqueue file before rolling");
  f.add_int("max-bytes-per-topic", &o.max_bytes_per_topic,
            "max bytes of a topic's files on disk (its disk queues and its channels', or its "
            "-durable log); publishes that need disk are refused past it (0 = unlimited)");
  f.add_int("sync-every", &o.sync_every, "number of messages per diskqueue fsync");
  f.add_duration("sync-timeout", &o.sync_timeout, "duration of time per diskqueue fsync");
  f.add_bool("durable", &o.durable,
             "answer PUB/MPUB/DPUB and /pub, /mpub only once the message is fsynced to the "
             "topic's log (group commit); channels read it back past --mem-queue-size and "
             "after a crash deliver every un-FINed message again. Does not take over the disk "
             "queues of a non-durable data dir (docs/persistence.md)");
  f.add_int("queue-scan-worker-pool-max", &o.queue_scan_worker_pool_max,
            "max concurrency for checking in-flight and deferred message timeouts");
  f.add_int("queue-scan-selection-count", &o.queue_scan_selection_count,
            "number of channels to check per cycle (every 100ms) for in-flight and deferred "
            "timeouts");

  f.add_duration("msg-timeout", &o.msg_timeout,
                 "default duration to wait before auto-requeing a message");
  f.add_duration("max-msg-timeout", &o.max_msg_timeout,
                 "maximum duration before a message will timeout");
  f.add_int("max-msg-size", &o.max_msg_size, "maximum size of a single message in bytes");
  f.add_duration("max-req-timeout", &o.max_req_timeout, "maximum requeuing timeout for a message");
  f.add_int("max-body-size", &o.max_body_size, "maximum size of a single command body");
  f.add_duration("max-heartbeat-interval", &o.max_heartbeat_interval,
                 "maximum client configurable duration of time between client heartbeats");
  f.add_int("max-rdy-count", &o.max_rdy_count, "maximum RDY count for a client");
  f.add_int("max-output-buffer-size", &o.max_output_buffer_size,
            "maximum client configurable size (in bytes) for a client output buffer");
  f.add_duration("max-output-buffer-timeout", &o.max_output_buffer_timeout,
                 "maximum client configurable duration of time between flushing to a client");
  f.add_duration("min-output-buffer-timeout", &o.min_output_buffer_timeout,
                 "minimum client configurable duration of time between flushing to a client");
  f.add_duration("output-buffer-timeout", &o.output_buffer_timeout,
                 "default duration of time between flushing data to clients");
  f.add_int("max-channel-consumers", &o.max_channel_consumers,
            "maximum channel consumer connection count per nsqd instance (default 0, i.e., "
            "unlimited)");

  f.add_string("statsd-address", &o.statsd_address,
               "UDP <addr>:<port> of a statsd daemon for pushing stats");
  f.add_duration("statsd-interval", &o.statsd_interval, "duration between pushing to statsd");
  f.add_bool("statsd-mem-stats", &o.statsd_mem_stats,
             "toggle sending memory and GC stats to statsd");
  f.add_string("statsd-prefix", &o.statsd_prefix,
               "prefix used for keys sent to statsd (%s for host replacement)");
  f.add_int("statsd-udp-packet-size", &o.statsd_udp_packet_size,
            "the size in bytes of statsd UDP packets");
  f.add_bool("statsd-exclude-ephemeral", &o.statsd_exclude_ephemeral,
             "Skip ephemeral topics and channels when sending stats to statsd");

  f.add_float_list("e2e-processing-latency-percentile", &o.e2e_processing_latency_percentiles,
                   "message processing time percentiles (as float (0, 1.0]) to track (can be "
                   "specified multiple times or comma separated '1.0,0.99,0.95', default none)",
                   "e2e_processing_latency_percentiles");
  f.add_duration("e2e-processing-latency-window-time", &o.e2e_processing_latency_window_time,
                 "calculate end to end latency quantiles for this duration of time (ie: 60s would "
                 "only show quantile calculations from the past 60 seconds)");

  f.add_string("tls-cert", &o.tls_cert, "path to certificate file");
  f.add_string("tls-key", &o.tls_key, "path to key file");
  f.add_string("tls-client-auth-policy", &o.tls_client_auth_policy,
               "client certificate auth policy ('require' or 'require-verify')");
  f.add_string("tls-root-ca-file", &o.tls_root_ca_file, "path to certificate authority file");
  f.add_bool_string("tls-required", &o.tls_required,
                    "require TLS for client connections (true, false, tcp-https)", "",
                    [](std::string_view v, std::string& reason) {
                      std::string lower(v);
                      for (auto& c : lower)
                        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                      if (lower == "tcp-https") return true;
                      bool b = false;
                      gocompat::GoParseError err;
                      if (gocompat::parse_go_bool(lower, b, &err)) return true;
                      reason = err.text;
                      return false;
                    });
  f.add_value(
      "tls-min-version",
      [&o](std::string_view v, std::string& reason) {
        if (v.empty() || v == "tls1.0" || v == "tls1.1" || v == "tls1.2" || v == "tls1.3") {
          if (!v.empty()) o.tls_min_version = std::string(v);
          return true;
        }
        reason = "unknown tlsVersionOption \"" + std::string(v) + "\"";
        return false;
      },
      "tls1.0",
      "minimum SSL/TLS version acceptable ('ssl3.0', 'tls1.0', 'tls1.1', 'tls1.2' or 'tls1.3')");
  f.add_bool("deflate", &o.deflate, "enable deflate feature negotiation (client compression)");
  f.add_int("max-deflate-level", &o.max_deflate_level,
            "max deflate compression level a client can negotiate (> values == > nsqd CPU usage)");
  f.add_bool("snappy", &o.snappy, "enable snappy feature negotiation (client compression)");
}

std::string validate_options(const NsqdOptions& o) {
  if (o.max_deflate_level < 1 || o.max_deflate_level > 9) {
    return "--max-deflate-level must be [1,9]";
  }
  if (o.node_id < 0 || o.node_id >= 1024) return "--node-id must be [0,1024)";
  for (double p : o.e2e_processing_latency_percentiles) {
    if (p <= 0 || p > 1) {
      return "invalid E2E processing latency percentile: " + std::to_string(p);
    }
  }
  if (o.mem_queue_size < 0) return "--mem-queue-size must be >= 0";
  if (o.max_bytes_per_topic < 0) return "--max-bytes-per-topic must be >= 0";
  return "";
}

}  // namespace nsq::nsqd
