#include "nsqd/stats/prometheus_metrics.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string_view>
#include <vector>

#include "common/gocompat/json_writer.hpp"

namespace nsq::nsqd {

namespace {

// Label values escape backslash, double quote and newline.
void append_label(std::string& out, std::string_view name, std::string_view value, bool& first) {
  out += first ? "{" : ",";
  first = false;
  out += name;
  out += "=\"";
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  out += '"';
}

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

void append_sample(std::string& out, std::string_view name, const Labels& labels, double value) {
  out += name;
  bool first = true;
  for (const auto& [k, v] : labels) append_label(out, k, v, first);
  if (!first) out += "}";
  out += ' ';
  char buf[64];
  // Integers (every count) print exactly; %.17g keeps other doubles round-trippable.
  if (value == static_cast<double>(static_cast<int64_t>(value))) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(value));
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", value);
  }
  out += buf;
  out += '\n';
}

void append_header(std::string& out, std::string_view name, std::string_view help,
                   std::string_view type = "gauge") {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

double quantile_value(const std::optional<E2eResult>& e2e, double q) {
  if (!e2e) return 0;
  for (const auto& [quantile, value] : e2e->percentiles) {
    if (quantile == q) return value;
  }
  return 0;
}

const char* bool_text(bool b) {
  return b ? "true" : "false";
}

template <typename T>
struct Family {
  const char* name;
  const char* help;
  std::function<double(const T&)> value;
};

// -max-bytes-per-topic: only when the limit is set, so the default output stays as before.
void append_disk_limit_families(std::string& out, const std::vector<TopicSnapshot>& topics) {
  if (std::none_of(topics.begin(), topics.end(),
                   [](const TopicSnapshot& t) { return t.stats.max_disk_bytes > 0; })) {
    return;
  }
  const struct {
    const char* name;
    const char* help;
    const char* type;
    std::function<double(const TopicStats&)> value;
  } families[] = {
      {"nsq_topic_disk_bytes", "Bytes of the topic's files on disk (queues or log)", "gauge",
       [](const TopicStats& t) { return static_cast<double>(t.disk_bytes); }},
      {"nsq_topic_max_disk_bytes", "The topic's disk limit (-max-bytes-per-topic)", "gauge",
       [](const TopicStats& t) { return static_cast<double>(t.max_disk_bytes); }},
      {"nsq_topic_disk_limit_refused_total", "Publishes refused at the topic's disk limit",
       "counter", [](const TopicStats& t) { return static_cast<double>(t.disk_limit_refusals); }},
  };
  for (const auto& f : families) {
    append_header(out, f.name, f.help, f.type);
    for (const auto& t : topics) {
      if (t.stats.max_disk_bytes <= 0) continue;  // #ephemeral topics have no disk
      append_sample(out, f.name, {{"topic", t.stats.name}, {"paused", bool_text(t.stats.paused)}},
                    f.value(t.stats));
    }
  }
}

}  // namespace

std::string render_prometheus(const StatsSnapshot& snap, const ProcessMetrics& process) {
  std::string out;
  static const std::vector<TopicSnapshot> kNoTopics;
  const auto& topics = snap.topics ? *snap.topics : kNoTopics;

  const std::vector<Family<TopicSnapshot>> topic_families = {
      {"nsq_topic_channel_count", "Number of channels",
       [](const TopicSnapshot& t) { return static_cast<double>(t.channels.size()); }},
      {"nsq_topic_depth", "Queue depth",
       [](const TopicSnapshot& t) { return static_cast<double>(t.stats.depth); }},
      {"nsq_topic_backend_depth", "Queue backend depth",
       [](const TopicSnapshot& t) { return static_cast<double>(t.stats.backend_depth); }},
      {"nsq_topic_e2e_latency_99_percentile", "Queue e2e latency 99th percentile",
       [](const TopicSnapshot& t) { return quantile_value(t.e2e, 0.99); }},
      {"nsq_topic_e2e_latency_95_percentile", "Queue e2e latency 95th percentile",
       [](const TopicSnapshot& t) { return quantile_value(t.e2e, 0.95); }},
      {"nsq_topic_message_count", "Queue message count",
       [](const TopicSnapshot& t) { return static_cast<double>(t.stats.message_count); }},
      {"nsq_topic_message_bytes", "Total bytes of the messages published to the topic",
       [](const TopicSnapshot& t) { return static_cast<double>(t.stats.message_bytes); }},
  };
  for (const auto& f : topic_families) {
    append_header(out, f.name, f.help);
    for (const auto& t : topics) {
      append_sample(out, f.name, {{"topic", t.stats.name}, {"paused", bool_text(t.stats.paused)}},
                    f.value(t));
    }
  }

  append_disk_limit_families(out, topics);

  const std::vector<Family<ChannelSnapshot>> channel_families = {
      {"nsq_channel_client_count", "Number of clients",
       [](const ChannelSnapshot& c) { return static_cast<double>(c.stats.client_count); }},
      {"nsq_channel_depth", "Queue depth",
       [](const ChannelSnapshot& c) { return static_cast<double>(c.stats.depth); }},
      {"nsq_channel_backend_depth", "Queue backend depth",
       [](const ChannelSnapshot& c) { return static_cast<double>(c.stats.backend_depth); }},
      {"nsq_channel_message_count", "Queue message count",
       [](const ChannelSnapshot& c) { return static_cast<double>(c.stats.message_count); }},
      {"nsq_channel_in_flight_count", "In flight count",
       [](const ChannelSnapshot& c) { return static_cast<double>(c.stats.in_flight_count); }},
      {"nsq_channel_e2e_latency_99p", "e2e latency 99th percentile",
       [](const ChannelSnapshot& c) { return quantile_value(c.e2e, 0.99); }},
      {"nsq_channel_e2e_latency_95p", "e2e latency 95th percentile",
       [](const ChannelSnapshot& c) { return quantile_value(c.e2e, 0.95); }},
      {"nsq_channel_deferred_count", "Deferred count",
       [](const ChannelSnapshot& c) { return static_cast<double>(c.stats.deferred_count); }},
      {"nsq_channel_requeue_count", "Requeue Count",
       [](const ChannelSnapshot& c) { return static_cast<double>(c.stats.requeue_count); }},
      {"nsq_channel_timeout_count", "Timeout count",
       [](const ChannelSnapshot& c) { return static_cast<double>(c.stats.timeout_count); }},
  };
  for (const auto& f : channel_families) {
    append_header(out, f.name, f.help);
    for (const auto& t : topics) {
      for (const auto& c : t.channels) {
        append_sample(out, f.name,
                      {{"topic", t.stats.name},
                       {"channel", c.stats.name},
                       {"paused", bool_text(c.stats.paused)}},
                      f.value(c));
      }
    }
  }

  const std::vector<Family<ClientStats>> client_families = {
      {"nsq_client_state", "State of client",
       [](const ClientStats& c) { return static_cast<double>(c.state); }},
      {"nsq_client_finish_count", "Finish count",
       [](const ClientStats& c) { return static_cast<double>(c.finish_count); }},
      {"nsq_client_message_count", "Queue message count",
       [](const ClientStats& c) { return static_cast<double>(c.message_count); }},
      {"nsq_client_ready_count", "Ready count",
       [](const ClientStats& c) { return static_cast<double>(c.ready_count); }},
      {"nsq_client_in_flight_count", "In flight count",
       [](const ClientStats& c) { return static_cast<double>(c.in_flight_count); }},
      {"nsq_client_requeue_count", "Requeue count",
       [](const ClientStats& c) { return static_cast<double>(c.requeue_count); }},
      {"nsq_client_connect_ts", "Connect timestamp",
       [](const ClientStats& c) { return static_cast<double>(c.connect_ts); }},
      {"nsq_client_sample_rate", "Sample Rate",
       [](const ClientStats& c) { return static_cast<double>(c.sample_rate); }},
  };
  for (const auto& f : client_families) {
    append_header(out, f.name, f.help);
    for (const auto& t : topics) {
      for (const auto& c : t.channels) {
        if (!c.clients) continue;
        for (const auto& cl : *c.clients) {
          append_sample(out, f.name,
                        {{"topic", t.stats.name},
                         {"channel", c.stats.name},
                         {"deflate", bool_text(cl.deflate)},
                         {"snappy", bool_text(cl.snappy)},
                         {"tls", bool_text(cl.tls)},
                         {"client_id", cl.client_id},
                         {"hostname", cl.hostname},
                         {"version", "V2"},
                         {"remote_address", cl.remote_address}},
                        f.value(cl));
        }
      }
    }
  }

  append_header(out, "process_resident_memory_bytes", "Resident memory size in bytes.");
  append_sample(out, "process_resident_memory_bytes", {},
                static_cast<double>(process.resident_memory_bytes));
  append_header(out, "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.");
  append_sample(out, "process_start_time_seconds", {},
                static_cast<double>(process.start_time_ns / 1'000'000'000));
  if (process.durable) {
    // Fewer fsyncs than published messages is group commit at work (docs/persistence.md).
    append_header(out, "nsqd_durable_fsyncs_total",
                  "fsyncs of topic logs by the durable mode's commit thread.", "counter");
    append_sample(out, "nsqd_durable_fsyncs_total", {},
                  static_cast<double>(process.durable_fsyncs));
  }
  return out;
}

int64_t read_resident_memory_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long long pages_total = 0;
  long long pages_resident = 0;
  const int n = std::fscanf(f, "%lld %lld", &pages_total, &pages_resident);
  std::fclose(f);
  if (n != 2) return 0;
  return pages_resident * static_cast<int64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace nsq::nsqd
