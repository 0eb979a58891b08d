#include "nsqd/stats/statsd.hpp"

#include <boost/asio/ip/udp.hpp>
#include <cinttypes>
#include <cmath>
#include <cstdio>

#include "common/log/logger.hpp"
#include "common/net/address.hpp"
#include "nsq/protocol/names.hpp"

namespace nsq::nsqd {

namespace {

class LineWriter {
 public:
  LineWriter(const std::string& prefix, std::vector<std::string>& out)
      : prefix_(prefix), out_(out) {}
  // Counters are uint64 deltas cast to int64, as the reference's int64(diff) does.
  void incr(const std::string& stat, uint64_t now, uint64_t before) {
    emit(stat, static_cast<int64_t>(now - before), "c");
  }
  void gauge(const std::string& stat, int64_t value) { emit(stat, value, "g"); }

 private:
  void emit(const std::string& stat, int64_t value, const char* type) {
    out_.push_back(prefix_ + stat + ":" + std::to_string(value) + "|" + type + "\n");
  }
  const std::string& prefix_;
  std::vector<std::string>& out_;
};

// "%.0f" of quantile * 100, as the reference names the stat.
std::string percent_name(double quantile) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", quantile * 100.0);
  return buf;
}

void e2e_gauges(LineWriter& w, const std::string& base, const std::optional<E2eResult>& e2e) {
  if (!e2e) return;
  for (const auto& [q, v] : e2e->percentiles) {
    w.gauge(base + ".e2e_processing_latency_" + percent_name(q), static_cast<int64_t>(v));
  }
}

}  // namespace

std::vector<std::string> statsd_lines(const std::string& prefix, const StatsSnapshot& now,
                                      const StatsSnapshot* last, const MemStats* mem,
                                      const MemStats* last_mem, bool exclude_ephemeral) {
  std::vector<std::string> out;
  LineWriter w(prefix, out);
  static const std::vector<TopicSnapshot> kNone;
  const auto& topics = now.topics ? *now.topics : kNone;
  const auto& last_topics = last != nullptr && last->topics ? *last->topics : kNone;
  for (const auto& t : topics) {
    if (exclude_ephemeral && protocol::is_ephemeral_name(t.stats.name)) continue;
    const TopicSnapshot* before = nullptr;
    for (const auto& lt : last_topics) {
      if (lt.stats.name == t.stats.name) {
        before = &lt;
        break;
      }
    }
    const std::string base = "topic." + t.stats.name;
    w.incr(base + ".message_count", t.stats.message_count,
           before != nullptr ? before->stats.message_count : 0);
    w.incr(base + ".message_bytes", t.stats.message_bytes,
           before != nullptr ? before->stats.message_bytes : 0);
    w.gauge(base + ".depth", t.stats.depth);
    w.gauge(base + ".backend_depth", t.stats.backend_depth);
    e2e_gauges(w, base, t.e2e);
    for (const auto& c : t.channels) {
      if (exclude_ephemeral && protocol::is_ephemeral_name(c.stats.name)) continue;
      const ChannelSnapshot* cb = nullptr;
      if (before != nullptr) {
        for (const auto& lc : before->channels) {
          if (lc.stats.name == c.stats.name) {
            cb = &lc;
            break;
          }
        }
      }
      const std::string cbase = base + ".channel." + c.stats.name;
      w.incr(cbase + ".message_count", c.stats.message_count,
             cb != nullptr ? cb->stats.message_count : 0);
      w.gauge(cbase + ".depth", c.stats.depth);
      w.gauge(cbase + ".backend_depth", c.stats.backend_depth);
      w.gauge(cbase + ".in_flight_count", c.stats.in_flight_count);
      w.gauge(cbase + ".deferred_count", c.stats.deferred_count);
      w.incr(cbase + ".requeue_count", c.stats.requeue_count,
             cb != nullptr ? cb->stats.requeue_count : 0);
      w.incr(cbase + ".timeout_count", c.stats.timeout_count,
             cb != nullptr ? cb->stats.timeout_count : 0);
      w.gauge(cbase + ".clients", static_cast<int64_t>(c.stats.client_count));
      e2e_gauges(w, cbase, c.e2e);
    }
  }
  if (mem != nullptr) {
    w.gauge("mem.heap_objects", static_cast<int64_t>(mem->heap_objects));
    w.gauge("mem.heap_idle_bytes", static_cast<int64_t>(mem->heap_idle_bytes));
    w.gauge("mem.heap_in_use_bytes", static_cast<int64_t>(mem->heap_in_use_bytes));
    w.gauge("mem.heap_released_bytes", static_cast<int64_t>(mem->heap_released_bytes));
    w.gauge("mem.gc_pause_usec_100", static_cast<int64_t>(mem->gc_pause_usec_100));
    w.gauge("mem.gc_pause_usec_99", static_cast<int64_t>(mem->gc_pause_usec_99));
    w.gauge("mem.gc_pause_usec_95", static_cast<int64_t>(mem->gc_pause_usec_95));
    w.gauge("mem.next_gc_bytes", static_cast<int64_t>(mem->next_gc_bytes));
    // uint32 difference, as the reference computes it.
    const uint32_t runs = mem->gc_total_runs - (last_mem != nullptr ? last_mem->gc_total_runs : 0);
    w.incr("mem.gc_runs", runs, 0);
  }
  return out;
}

std::vector<std::string> pack_statsd_datagrams(const std::vector<std::string>& lines,
                                               size_t packet_size) {
  // bufio.Writer of packet_size behind a "flush before a write that does not fit" rule: a
  // line longer than the whole buffer is written straight through as its own datagram.
  std::vector<std::string> out;
  std::string current;
  for (const auto& line : lines) {
    if (line.size() > packet_size - current.size() && !current.empty()) {
      out.push_back(std::move(current));
      current.clear();
    }
    if (line.size() > packet_size) {
      out.push_back(line);
    } else {
      current += line;
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

StatsdPusher::StatsdPusher(const NsqdOptions& opts, const StatsCollector& stats, std::string prefix)
    : opts_(opts), stats_(stats), prefix_(std::move(prefix)), tick_timer_(io_), send_timer_(io_) {}

StatsdPusher::~StatsdPusher() {
  stop();
}

void StatsdPusher::start() {
  if (started_ || opts_.statsd_address.empty()) return;
  started_ = true;
  next_tick_ = std::chrono::steady_clock::now();
  schedule_tick();
  thread_ = std::thread([this] { io_.run(); });
}

void StatsdPusher::stop() {
  if (!started_) return;
  started_ = false;
  io_.stop();
  if (thread_.joinable()) thread_.join();
  log::info("STATSD: closing");
}

void StatsdPusher::schedule_tick() {
  // Fixed rate like Go's time.Ticker: the time spent pushing does not shift later ticks.
  next_tick_ +=
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(opts_.statsd_interval);
  tick_timer_.expires_at(next_tick_);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    push();
    schedule_tick();
  });
}

void StatsdPusher::push() {
  const std::string& addr = opts_.statsd_address;
  auto hp = net::split_host_port(addr);
  boost::system::error_code ec;
  boost::asio::ip::udp::resolver resolver(io_);
  boost::asio::ip::udp::endpoint target;
  if (hp) {
    auto results = resolver.resolve(hp->host, std::to_string(hp->port), ec);
    if (!ec && !results.empty()) target = results.begin()->endpoint();
  }
  if (!hp || ec || target.port() == 0) {
    log::error("failed to create UDP socket to statsd({})", addr);
    return;
  }
  socket_.emplace(io_);
  socket_->open(target.protocol(), ec);
  if (!ec) socket_->connect(target, ec);
  if (ec) {
    log::error("failed to create UDP socket to statsd({})", addr);
    socket_.reset();
    return;
  }
  log::info("STATSD: pushing stats to {}", addr);

  StatsQuery q;
  q.include_clients = false;
  StatsSnapshot snap = stats_.collect(q);
  std::optional<MemStats> mem;
  if (opts_.statsd_mem_stats) mem = read_mem_stats();
  const auto lines =
      statsd_lines(prefix_, snap, last_ ? &*last_ : nullptr, mem ? &*mem : nullptr,
                   last_mem_ ? &*last_mem_ : nullptr, opts_.statsd_exclude_ephemeral);
  last_ = std::move(snap);
  if (mem) last_mem_ = mem;

  datagrams_ = pack_statsd_datagrams(
      lines, static_cast<size_t>(std::max<int64_t>(1, opts_.statsd_udp_packet_size)));
  next_datagram_ = 0;
  const auto window = opts_.statsd_interval - std::chrono::seconds(1);
  spacing_ = datagrams_.empty() || window.count() <= 0
                 ? std::chrono::nanoseconds(0)
                 : window / static_cast<int64_t>(datagrams_.size());
  send_next();
}

void StatsdPusher::send_next() {
  do {
    if (!socket_ || next_datagram_ >= datagrams_.size()) {
      socket_.reset();
      return;
    }
    boost::system::error_code ec;  // a lost datagram is lost, as with the reference
    socket_->send(boost::asio::buffer(datagrams_[next_datagram_]), 0, ec);
    ++next_datagram_;
  } while (spacing_.count() == 0);
  send_timer_.expires_after(spacing_);
  send_timer_.async_wait([this](const boost::system::error_code& wec) {
    if (wec) return;
    send_next();
  });
}

}  // namespace nsq::nsqd
