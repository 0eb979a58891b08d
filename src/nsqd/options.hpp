// NsqdOptions: every nsqd flag with the reference's name, default and config-file key
// (the reference's nsqd/options.go). Filled once by parse_nsqd_options() at start-up, then
// read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/config/flag_set.hpp"
#include "common/daemon/daemon_options.hpp"

namespace nsq::nsqd {

using Duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;

// -config, -version, -log-level, -log-prefix, -verbose: DaemonOptions.
struct NsqdOptions : daemon::DaemonOptions {
  NsqdOptions() : DaemonOptions("[nsqd] ") {}

  int64_t node_id = 0;  // default: crc32(md5(hostname)) % 1024
  bool worker_id = false;

  std::string tcp_address = "0.0.0.0:4150";
  std::string http_address = "0.0.0.0:4151";
  std::string https_address = "0.0.0.0:4152";
  std::string broadcast_address;  // default: hostname
  int64_t broadcast_tcp_port = 0;
  int64_t broadcast_http_port = 0;
  std::vector<std::string> lookupd_tcp_addresses;
  std::vector<std::string> auth_http_addresses;
  Duration http_client_connect_timeout = 2s;
  Duration http_client_request_timeout = 5s;

  std::string data_path;
  int64_t mem_queue_size = 10000;
  int64_t max_bytes_per_file = 100 * 1024 * 1024;
  // Not a reference flag (-max-bytes-per-topic, TOML `max_bytes_per_topic`; 0 = unlimited): a
  // topic refuses publishes that need disk once its files reach this (docs/persistence.md,
  // "Disk limits").
  int64_t max_bytes_per_topic = 0;
  int64_t sync_every = 2500;
  Duration sync_timeout = 2s;
  int64_t queue_scan_worker_pool_max = 4;
  int64_t queue_scan_selection_count = 20;

  Duration msg_timeout = 60s;
  Duration max_msg_timeout = 15min;
  int64_t max_msg_size = 1024 * 1024;
  Duration max_req_timeout = 1h;
  int64_t max_body_size = 5 * 1024 * 1024;
  Duration max_heartbeat_interval = 60s;
  int64_t max_rdy_count = 2500;
  int64_t max_output_buffer_size = 64 * 1024;
  Duration max_output_buffer_timeout = 30s;
  Duration min_output_buffer_timeout = 25ms;
  Duration output_buffer_timeout = 250ms;
  int64_t max_channel_consumers = 0;

  std::string statsd_address;
  Duration statsd_interval = 60s;
  bool statsd_mem_stats = true;
  std::string statsd_prefix = "nsq.%s";
  int64_t statsd_udp_packet_size = 508;
  bool statsd_exclude_ephemeral = false;

  std::vector<double> e2e_processing_latency_percentiles;
  Duration e2e_processing_latency_window_time = 10min;

  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_auth_policy;
  std::string tls_root_ca_file;
  std::string tls_required = "false";
  std::string tls_min_version = "tls1.0";
  bool deflate = true;
  int64_t max_deflate_level = 6;
  bool snappy = true;

  // Fixed in the reference (not flags): the client timeout and its heartbeat half.
  Duration client_timeout = 60s;

  // Not a reference flag: event-loop threads (0 = one per core).
  int64_t io_threads = 0;

  // Not a reference flag (-durable, TOML `durable`): publishes are answered OK only once
  // fsynced to the topic's log (docs/persistence.md, "Durable mode").
  bool durable = false;
};

// The default node id as the reference computes it: crc32_ieee(md5(hostname)) % 1024.
int64_t default_node_id();

// Registers every flag on `flags`, bound to `opts`.
void register_nsqd_flags(config::FlagSet& flags, NsqdOptions& opts);

// Checks cross-field rules the way the reference does at start-up; returns "" when valid,
// else the reference's message (e.g. "--node-id must be [0,1024)").
std::string validate_options(const NsqdOptions& opts);

}  // namespace nsq::nsqd
