// /stats: a point-in-time snapshot of topics, channels, clients and memory, and its renderings
// in the reference's JSON (field for field, key order, null-vs-[] rules) and text layouts.
// statsd and /metrics render the same snapshot.
//
// StatsCollector reads the shared state through the public Nsqd/Topic/Channel APIs and the
// ClientStats its ClientSource hands it (each under its own short lock; the snapshot is
// consistent per channel, not globally, as in the reference). It is stateless and thread-safe; the
// renderers are pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nsqd/nsqd.hpp"
#include "nsqd/queue/channel.hpp"
#include "nsqd/queue/e2e_latency.hpp"
#include "nsqd/queue/topic.hpp"
#include "nsqd/stats/client_stats.hpp"

namespace nsq::nsqd {

struct StatsQuery {
  std::string topic;    // "" = all topics
  std::string channel;  // "" = all channels; else topics without it are left out
  bool include_clients = true;
  bool include_mem = true;
};

struct ChannelSnapshot {
  ChannelStats stats;
  std::optional<std::vector<ClientStats>> clients;  // nullopt = not requested (JSON null)
  std::optional<E2eResult> e2e;                     // nullopt = not tracked
};

struct TopicSnapshot {
  TopicStats stats;  // stats.channels is not used: see `channels`
  std::vector<ChannelSnapshot> channels;
  std::optional<E2eResult> e2e;
};

// The reference's nine Go runtime numbers. In C++ there is no GC; what we report (and say so
// in /stats consumers' terms):
//   heap_objects        0 (glibc does not count live allocations)
//   heap_idle_bytes     free bytes held by malloc (mallinfo2 fordblks)
//   heap_in_use_bytes   bytes allocated by malloc, incl. mmapped chunks (uordblks + hblkhd)
//   heap_released_bytes 0 (glibc does not report what it returned to the OS)
//   gc_pause_usec_*, next_gc_bytes, gc_total_runs: 0 (no garbage collector)
// The process RSS is exported by /metrics as process_resident_memory_bytes.
struct MemStats {
  uint64_t heap_objects = 0;
  uint64_t heap_idle_bytes = 0;
  uint64_t heap_in_use_bytes = 0;
  uint64_t heap_released_bytes = 0;
  uint64_t gc_pause_usec_100 = 0;
  uint64_t gc_pause_usec_99 = 0;
  uint64_t gc_pause_usec_95 = 0;
  uint64_t next_gc_bytes = 0;
  uint32_t gc_total_runs = 0;
};
MemStats read_mem_stats();

struct StatsSnapshot {
  std::optional<std::vector<TopicSnapshot>> topics;   // nullopt = `topic=` names no topic
  std::optional<std::vector<ClientStats>> producers;  // nullopt = none / not requested
  std::string topic_filter;                           // pub_counts are filtered by it
};

class StatsCollector {
 public:
  // Every live TCP client (producers and consumers).
  using ClientSource = std::function<std::vector<ClientStats>()>;

  StatsCollector(Nsqd& nsqd, ClientSource clients);

  StatsSnapshot collect(const StatsQuery& query) const;

 private:
  Nsqd& nsqd_;
  ClientSource clients_;
};

// Header data of /stats besides the snapshot.
struct StatsHeader {
  std::string version = NSQ_COMPAT_VERSION;
  std::string health = "OK";
  int64_t start_time_ns = 0;
  int64_t now_ns = 0;  // for uptime and "connected" durations in the text format
};

std::string render_stats_json(const StatsSnapshot& s, const StatsHeader& h, const MemStats* mem);
std::string render_stats_text(const StatsSnapshot& s, const StatsHeader& h, const MemStats* mem);

// The pub_counts the reference reports for a client: at most one entry [compat quirk], and
// only `topic_filter` when one is set.
std::vector<std::pair<std::string, uint64_t>> reported_pub_counts(const ClientStats& c,
                                                                  const std::string& topic_filter);

// Go's fmt "%-Ns" (pads by code points, not bytes).
std::string pad_right(std::string_view s, size_t width);
// The reference's e2e text: "1.5ms, 1.5ms" ("" when none).
std::string e2e_text(const std::optional<E2eResult>& e2e);

}  // namespace nsq::nsqd
