// statsd push (-statsd-address): every -statsd-interval, the /stats snapshot as statsd lines
// with the reference's names and semantics (the reference's nsqd/statsd.go):
//   <prefix>topic.<t>.message_count:<delta>|c        message_bytes (c), depth, backend_depth (g),
//   <prefix>topic.<t>.e2e_processing_latency_<P>:<ns>|g
//   <prefix>topic.<t>.channel.<c>.message_count (c), depth, backend_depth, in_flight_count,
//     deferred_count (g), requeue_count, timeout_count (c), clients (g), e2e_processing_latency_<P>
//   <prefix>mem.* gauges and mem.gc_runs (c) with -statsd-mem-stats
// Counters are deltas against the previous push. Lines are packed into datagrams of at most
// -statsd-udp-packet-size bytes (a longer line goes alone) and the datagrams are spread evenly
// over interval - 1 s, as the reference's writers do.
//
// statsd_lines()/pack_statsd_datagrams() are pure. StatsdPusher owns one thread and its own
// io_context (DNS resolution and pacing never touch an event loop); start()/stop() are called
// from the owner's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "nsqd/options.hpp"
#include "nsqd/stats/stats.hpp"

namespace nsq::nsqd {

std::vector<std::string> statsd_lines(const std::string& prefix, const StatsSnapshot& now,
                                      const StatsSnapshot* last, const MemStats* mem,
                                      const MemStats* last_mem, bool exclude_ephemeral);

std::vector<std::string> pack_statsd_datagrams(const std::vector<std::string>& lines,
                                               size_t packet_size);

class StatsdPusher {
 public:
  // `prefix` is already host-expanded (expand_statsd_prefix).
  StatsdPusher(const NsqdOptions& opts, const StatsCollector& stats, std::string prefix);
  ~StatsdPusher();
  StatsdPusher(const StatsdPusher&) = delete;
  StatsdPusher& operator=(const StatsdPusher&) = delete;

  void start();
  void stop();

 private:
  void schedule_tick();
  void push();
  void send_next();

  const NsqdOptions& opts_;
  const StatsCollector& stats_;
  const std::string prefix_;
  boost::asio::io_context io_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer send_timer_;
  std::thread thread_;
  bool started_ = false;

  // --- statsd thread only ---
  std::chrono::steady_clock::time_point next_tick_{};
  std::optional<StatsSnapshot> last_;
  std::optional<MemStats> last_mem_;
  std::vector<std::string> datagrams_;
  size_t next_datagram_ = 0;
  std::chrono::nanoseconds spacing_{0};
  std::optional<boost::asio::ip::udp::socket> socket_;
};

}  // namespace nsq::nsqd
