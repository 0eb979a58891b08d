#include "nsqd/stats/stats.hpp"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <map>

#include "common/config/flag_set.hpp"
#include "common/gocompat/json_writer.hpp"
#include "common/net/address.hpp"

namespace nsq::nsqd {

using gocompat::JsonWriter;

MemStats read_mem_stats() {
  MemStats m;
  const struct mallinfo2 mi = ::mallinfo2();
  m.heap_idle_bytes = mi.fordblks;
  m.heap_in_use_bytes = mi.uordblks + mi.hblkhd;
  return m;
}

StatsCollector::StatsCollector(Nsqd& nsqd, ClientSource clients)
    : nsqd_(nsqd), clients_(std::move(clients)) {}

StatsSnapshot StatsCollector::collect(const StatsQuery& q) const {
  StatsSnapshot snap;
  snap.topic_filter = q.topic;
  std::vector<std::shared_ptr<Topic>> topics;
  if (q.topic.empty()) {
    topics = nsqd_.topics();
  } else if (auto t = nsqd_.find_topic(q.topic)) {
    topics.push_back(std::move(t));
  } else {
    return snap;  // the reference answers topics: null and producers: null
  }

  std::map<int64_t, ClientStats> clients;
  if (q.include_clients && clients_) {
    for (ClientStats& cs : clients_()) clients.emplace(cs.id, std::move(cs));
  }

  std::vector<TopicSnapshot> out;
  out.reserve(topics.size());
  for (const auto& topic : topics) {
    TopicSnapshot ts;
    ts.stats = topic->stats();
    std::vector<ChannelStats> channel_stats = std::move(ts.stats.channels);
    ts.stats.channels.clear();
    bool filtered_out = !q.channel.empty();
    for (auto& cs : channel_stats) {
      if (!q.channel.empty()) {
        if (cs.name != q.channel) continue;
        filtered_out = false;
      }
      ChannelSnapshot snap_ch;
      if (q.include_clients) {
        std::vector<ClientStats> list;
        list.reserve(cs.consumer_ids.size());
        for (int64_t id : cs.consumer_ids) {
          auto it = clients.find(id);
          if (it != clients.end()) list.push_back(it->second);
        }
        snap_ch.clients = std::move(list);
      }
      if (auto ch = topic->find_channel(cs.name); ch && ch->e2e_latency() != nullptr) {
        snap_ch.e2e = ch->e2e_latency()->result();
      }
      snap_ch.stats = std::move(cs);
      ts.channels.push_back(std::move(snap_ch));
    }
    if (filtered_out) continue;
    // The topic's latency merges every channel's stream (also channels filtered out).
    std::optional<QuantileStream> merged;
    std::vector<double> percentiles;
    for (const auto& ch : topic->channels()) {
      E2eLatency* e2e = ch->e2e_latency();
      if (e2e == nullptr) continue;
      if (!merged) {
        percentiles = e2e->percentiles();
        merged.emplace(percentiles);
      }
      e2e->collect_into(*merged);
    }
    if (merged) ts.e2e = E2eLatency::query(*merged, percentiles);
    out.push_back(std::move(ts));
  }
  snap.topics = std::move(out);

  if (q.include_clients) {
    std::vector<ClientStats> producers;
    for (auto& [id, cs] : clients) {
      if (!cs.pub_counts.empty()) producers.push_back(cs);
    }
    if (!producers.empty()) snap.producers = std::move(producers);
  }
  return snap;
}

std::vector<std::pair<std::string, uint64_t>> reported_pub_counts(const ClientStats& c,
                                                                  const std::string& filter) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& [topic, count] : c.pub_counts) {
    if (!filter.empty() && topic != filter) continue;
    out.emplace_back(topic, count);
    break;  // the reference stops after one entry
  }
  return out;
}

namespace {

void write_e2e(gocompat::JsonWriter& w, const std::optional<E2eResult>& e2e) {
  w.key("e2e_processing_latency").begin_object();
  if (!e2e) {
    w.key("count").number(int64_t{0}).key("percentiles").null();
  } else {
    w.key("count").number(e2e->count).key("percentiles").begin_array();
    for (const auto& [q, v] : e2e->percentiles) {
      w.begin_object().key("quantile").number(q).key("value").number(v).end_object();
    }
    w.end_array();
  }
  w.end_object();
}

void write_client(gocompat::JsonWriter& w, const ClientStats& c, const std::string& topic_filter) {
  w.begin_object();
  w.key("client_id").string(c.client_id);
  w.key("hostname").string(c.hostname);
  w.key("version").string("V2");
  w.key("remote_address").string(c.remote_address);
  w.key("state").number(int64_t{c.state});
  w.key("ready_count").number(c.ready_count);
  w.key("in_flight_count").number(c.in_flight_count);
  w.key("message_count").number(c.message_count);
  w.key("finish_count").number(c.finish_count);
  w.key("requeue_count").number(c.requeue_count);
  w.key("connect_ts").number(c.connect_ts);
  w.key("sample_rate").number(int64_t{c.sample_rate});
  w.key("deflate").boolean(c.deflate);
  w.key("snappy").boolean(c.snappy);
  w.key("user_agent").string(c.user_agent);
  if (c.authed) w.key("authed").boolean(true);
  if (!c.auth_identity.empty()) w.key("auth_identity").string(c.auth_identity);
  if (!c.auth_identity_url.empty()) w.key("auth_identity_url").string(c.auth_identity_url);
  const auto pubs = reported_pub_counts(c, topic_filter);
  if (!pubs.empty()) {
    w.key("pub_counts").begin_array();
    for (const auto& [topic, count] : pubs) {
      w.begin_object().key("topic").string(topic).key("count").number(count).end_object();
    }
    w.end_array();
  }
  w.key("tls").boolean(c.tls);
  w.key("tls_cipher_suite").string(c.tls_cipher_suite);
  w.key("tls_version").string(c.tls_version);
  w.key("tls_negotiated_protocol").string(c.tls_negotiated_protocol);
  w.key("tls_negotiated_protocol_is_mutual").boolean(c.tls_negotiated_protocol_is_mutual);
  w.end_object();
}

void write_mem(gocompat::JsonWriter& w, const MemStats& m) {
  w.key("memory").begin_object();
  w.key("heap_objects").number(m.heap_objects);
  w.key("heap_idle_bytes").number(m.heap_idle_bytes);
  w.key("heap_in_use_bytes").number(m.heap_in_use_bytes);
  w.key("heap_released_bytes").number(m.heap_released_bytes);
  w.key("gc_pause_usec_100").number(m.gc_pause_usec_100);
  w.key("gc_pause_usec_99").number(m.gc_pause_usec_99);
  w.key("gc_pause_usec_95").number(m.gc_pause_usec_95);
  w.key("next_gc_bytes").number(m.next_gc_bytes);
  w.key("gc_total_runs").number(uint64_t{m.gc_total_runs});
  w.end_object();
}

// Go's time.Format(time.RFC3339) in local time.
std::string rfc3339_local(int64_t unix_ns) {
  const std::time_t secs = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  const long off = tm.tm_gmtoff;
  if (off == 0) {
    out += "Z";
  } else {
    const long a = off < 0 ? -off : off;
    std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", off < 0 ? '-' : '+', a / 3600, (a % 3600) / 60);
    out += buf;
  }
  return out;
}

// snprintf into a std::string of whatever size the text needs (names and user agents are
// client-controlled and unbounded).
__attribute__((format(printf, 1, 2))) std::string sformat(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, fmt, args);
  va_end(args);
  return out;
}

std::string go_duration(int64_t ns) {
  return gocompat::format_go_duration(std::chrono::nanoseconds(ns));
}

std::string client_text(const ClientStats& c, const std::string& topic_filter, int64_t now_ns) {
  const int64_t connected_s = std::max<int64_t>(0, now_ns / 1'000'000'000 - c.connect_ts);
  const std::string connected = go_duration(connected_s * 1'000'000'000);
  std::string port;
  if (auto hp = net::split_host_port(c.remote_address)) port = std::to_string(hp->port);
  const std::string id = pad_right(c.hostname + ":" + port + " " + c.user_agent, 21);
  const auto pubs = reported_pub_counts(c, topic_filter);
  if (!pubs.empty()) {
    uint64_t total = 0;
    std::string topics;
    for (const auto& [t, n] : pubs) {
      total += n;
      if (!topics.empty()) topics += ",";
      topics += t + "=" + std::to_string(n);
    }
    return sformat("[V2 %s] msgs: %-8" PRIu64 " topics: %s connected: %s", id.c_str(), total,
                   topics.c_str(), connected.c_str());
  }
  return sformat("[V2 %s] state: %d inflt: %-4" PRId64 " rdy: %-4" PRId64 " fin: %-8" PRIu64
                 " re-q: %-8" PRIu64 " msgs: %-8" PRIu64 " connected: %s",
                 id.c_str(), static_cast<int>(c.state), c.in_flight_count, c.ready_count,
                 c.finish_count, c.requeue_count, c.message_count, connected.c_str());
}

}  // namespace

std::string pad_right(std::string_view s, size_t width) {
  size_t runes = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++runes;
  }
  std::string out(s);
  if (runes < width) out.append(width - runes, ' ');
  return out;
}

std::string e2e_text(const std::optional<E2eResult>& e2e) {
  std::string out;
  if (!e2e) return out;
  for (const auto& [q, v] : e2e->percentiles) {
    double value = v;
    const char* unit = "ns";
    if (value > 1e9) {
      value /= 1e9;
      unit = "s";
    } else if (value > 1e6) {
      value /= 1e6;
      unit = "ms";
    } else if (value > 1e3) {
      value /= 1e3;
      unit = "us";
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%0.1f%s", value, unit);
    if (!out.empty()) out += ", ";
    out += buf;
  }
  return out;
}

std::string render_stats_json(const StatsSnapshot& s, const StatsHeader& h, const MemStats* mem) {
  gocompat::JsonWriter w;
  w.begin_object();
  w.key("version").string(h.version);
  w.key("health").string(h.health);
  w.key("start_time").number(h.start_time_ns / 1'000'000'000);
  w.key("topics");
  if (!s.topics) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& t : *s.topics) {
      w.begin_object();
      w.key("topic_name").string(t.stats.name);
      w.key("channels").begin_array();
      for (const auto& c : t.channels) {
        w.begin_object();
        w.key("channel_name").string(c.stats.name);
        w.key("depth").number(c.stats.depth);
        w.key("backend_depth").number(c.stats.backend_depth);
        w.key("in_flight_count").number(c.stats.in_flight_count);
        w.key("deferred_count").number(c.stats.deferred_count);
        w.key("message_count").number(c.stats.message_count);
        w.key("requeue_count").number(c.stats.requeue_count);
        w.key("timeout_count").number(c.stats.timeout_count);
        w.key("client_count").number(static_cast<uint64_t>(c.stats.client_count));
        w.key("clients");
        if (!c.clients) {
          w.null();
        } else {
          w.begin_array();
          for (const auto& cl : *c.clients) write_client(w, cl, s.topic_filter);
          w.end_array();
        }
        w.key("paused").boolean(c.stats.paused);
        write_e2e(w, c.e2e);
        w.end_object();
      }
      w.end_array();
      w.key("depth").number(t.stats.depth);
      w.key("backend_depth").number(t.stats.backend_depth);
      w.key("message_count").number(t.stats.message_count);
      w.key("message_bytes").number(t.stats.message_bytes);
      w.key("paused").boolean(t.stats.paused);
      write_e2e(w, t.e2e);
      if (t.stats.max_disk_bytes > 0) {
        // -max-bytes-per-topic only: without it /stats stays the reference's byte for byte.
        w.key("disk_bytes").number(t.stats.disk_bytes);
        w.key("max_disk_bytes").number(t.stats.max_disk_bytes);
        w.key("disk_full").boolean(t.stats.disk_full);
        w.key("disk_limit_refused_count").number(t.stats.disk_limit_refusals);
      }
      w.end_object();
    }
    w.end_array();
  }
  if (mem != nullptr) write_mem(w, *mem);
  w.key("producers");
  if (!s.producers) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& p : *s.producers) write_client(w, p, s.topic_filter);
    w.end_array();
  }
  w.end_object();
  return w.take();
}

std::string render_stats_text(const StatsSnapshot& s, const StatsHeader& h, const MemStats* mem) {
  std::string out;
  char buf[512];
  out += "nsqd v" + h.version + " (built w/" + std::string("gcc" __VERSION__) + ")\n";
  out += "start_time " + rfc3339_local(h.start_time_ns) + "\n";
  out += "uptime " + go_duration(h.now_ns - h.start_time_ns) + "\n";
  out += "\nHealth: " + h.health + "\n";
  if (mem != nullptr) {
    out += "\nMemory:\n";
    const std::pair<const char*, uint64_t> rows[] = {
        {"heap_objects", mem->heap_objects},
        {"heap_idle_bytes", mem->heap_idle_bytes},
        {"heap_in_use_bytes", mem->heap_in_use_bytes},
        {"heap_released_bytes", mem->heap_released_bytes},
        {"gc_pause_usec_100", mem->gc_pause_usec_100},
        {"gc_pause_usec_99", mem->gc_pause_usec_99},
        {"gc_pause_usec_95", mem->gc_pause_usec_95},
        {"next_gc_bytes", mem->next_gc_bytes},
        {"gc_total_runs", mem->gc_total_runs},
    };
    for (const auto& [name, value] : rows) {
      std::snprintf(buf, sizeof buf, "   %-25s\t%" PRIu64 "\n", name, value);
      out += buf;
    }
  }
  const bool no_topics = !s.topics || s.topics->empty();
  out += no_topics ? "\nTopics: None\n" : "\nTopics:";
  if (s.topics) {
    for (const auto& t : *s.topics) {
      out += sformat(
          "\n%s[%s] depth: %-5" PRId64 " be-depth: %-5" PRId64 " msgs: %-8" PRIu64 " e2e%%: %s\n",
          t.stats.paused ? "*P " : "   ", pad_right(t.stats.name, 15).c_str(), t.stats.depth,
          t.stats.backend_depth, t.stats.message_count, e2e_text(t.e2e).c_str());
      for (const auto& c : t.channels) {
        out += sformat("%s[%s] depth: %-5" PRId64 " be-depth: %-5" PRId64 " inflt: %-4" PRId64
                       " def: %-4" PRId64 " re-q: %-5" PRIu64 " timeout: %-5" PRIu64
                       " msgs: %-8" PRIu64 " e2e%%: %s\n",
                       c.stats.paused ? "   *P " : "      ", pad_right(c.stats.name, 25).c_str(),
                       c.stats.depth, c.stats.backend_depth, c.stats.in_flight_count,
                       c.stats.deferred_count, c.stats.requeue_count, c.stats.timeout_count,
                       c.stats.message_count, e2e_text(c.e2e).c_str());
        if (c.clients) {
          for (const auto& cl : *c.clients) {
            out += "        " + client_text(cl, s.topic_filter, h.now_ns) + "\n";
          }
        }
      }
    }
  }
  if (!s.producers || s.producers->empty()) {
    out += "\nProducers: None\n";
  } else {
    out += "\nProducers:\n";
    for (const auto& p : *s.producers) {
      out += "   " + client_text(p, s.topic_filter, h.now_ns) + "\n";
    }
  }
  return out;
}

}  // namespace nsq::nsqd
