// GET /metrics (not in the reference): the /stats snapshot in the Prometheus text exposition
// format (version 0.0.4), with the metric and label names of the widely used nsq_exporter
// (github.com/lovoo/nsq_exporter, collectors stats.topics, stats.channels, stats.clients), so
// dashboards built on it work when Prometheus scrapes nsqd directly:
//   nsq_topic_{channel_count,depth,backend_depth,message_count,
//              e2e_latency_99_percentile,e2e_latency_95_percentile}      {topic,paused}
//   nsq_channel_{client_count,depth,backend_depth,message_count,in_flight_count,
//                deferred_count,requeue_count,timeout_count,
//                e2e_latency_99p,e2e_latency_95p}                        {topic,channel,paused}
//   nsq_client_{state,finish_count,message_count,ready_count,in_flight_count,requeue_count,
//               connect_ts,sample_rate}   {topic,channel,deflate,snappy,tls,client_id,
//                                          hostname,version,remote_address}
// All are gauges, as in nsq_exporter. The e2e values are those of quantiles 0.99 and 0.95 when
// configured with -e2e-processing-latency-percentile (else 0). Added on top:
// nsq_topic_message_bytes, process_resident_memory_bytes and process_start_time_seconds, and
// with -durable the counter nsqd_durable_fsyncs_total.
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "nsqd/stats/stats.hpp"

namespace nsq::nsqd {

struct ProcessMetrics {
  int64_t start_time_ns = 0;
  int64_t resident_memory_bytes = 0;
  bool durable = false;         // -durable: nsqd_durable_fsyncs_total is rendered
  uint64_t durable_fsyncs = 0;  // fsyncs of the commit thread
};

std::string render_prometheus(const StatsSnapshot& snap, const ProcessMetrics& process);

// The process's resident set size from /proc/self/statm (0 if unavailable).
int64_t read_resident_memory_bytes();

// The Content-Type Prometheus expects for this format.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace nsq::nsqd
