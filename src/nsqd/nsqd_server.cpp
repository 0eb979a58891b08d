#include "nsqd/nsqd_server.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <vector>

#include "common/daemon/startup.hpp"
#include "common/log/logger.hpp"
#include "common/net/address.hpp"
#include "common/util/hostname.hpp"
#include "nsqd/http/http_config.hpp"

namespace nsq::nsqd {

namespace {
// The reference scans every 100 ms; we check every channel at this resolution.
constexpr auto kTimerResolution = std::chrono::milliseconds(100);

// -http-address may be a unix socket path, as the reference's (nsqd/nsqd.go).
http::ServerOptions http_options() {
  http::ServerOptions o;
  o.allow_unix = true;
  return o;
}
}  // namespace

NsqdServer::NsqdServer(NsqdOptions opts)
    : nsqd_(std::move(opts)),
      pool_(static_cast<size_t>(nsqd_.options().io_threads)),
      tcp_(nsqd_, pool_),
      stats_(nsqd_, [this] { return tcp_.client_stats(); }),
      http_api_(nsqd_, stats_),
      http_(pool_, http_api_, http_options()),
      timer_loop_(pool_.at(0)),
      lookupd_(std::make_shared<LookupdClient>(nsqd_, nsqd_.options().lookupd_tcp_addresses,
                                               nsqd_.options().max_body_size)) {
  lookupd_->observe(nsqd_);
  std::weak_ptr<LookupdClient> weak = lookupd_;
  // PUT /config/nsqlookupd_tcp_addresses reconnects to the new set.
  nsqd_.add_lookupd_addresses_observer([weak](std::vector<std::string> addresses) {
    if (auto client = weak.lock()) client->set_addresses(std::move(addresses));
  });
  nsqd_.set_topic_channel_source([weak, this](const std::string& topic) {
    auto client = weak.lock();
    if (!client) return std::vector<std::string>{};
    return client->topic_channels(topic, nsqd_.options().http_client_connect_timeout,
                                  nsqd_.options().http_client_request_timeout);
  });
}

NsqdServer::~NsqdServer() {
  stop();
}

util::Status NsqdServer::start() {
  const auto& opts = nsqd_.options();
  if (auto listening = tcp_.listen(opts.tcp_address); !listening) return listening;
  // -http-address="" disables the HTTP API, as in the reference.
  if (!opts.http_address.empty()) {
    if (auto listening = http_.listen(opts.http_address); !listening) return listening;
  }
  // As the reference: -https-address (default 0.0.0.0:4152) is only served when a TLS
  // certificate is configured, with the TCP listener's context and the same API.
  if (nsqd_.tls_context() && !opts.https_address.empty()) {
    http::ServerOptions https_opts;
    https_opts.name = "HTTPS";
    https_opts.tls = nsqd_.tls_context();
    https_ = std::make_unique<http::Server>(pool_, http_api_, std::move(https_opts));
    if (auto listening = https_->listen(opts.https_address); !listening) return listening;
  }
  // /info says -1 for a unix socket (nsqd/http.go); the broadcast ports only take a TCP
  // listener's port (nsqd/nsqd.go), so lookupd and the statsd prefix see 0 then.
  const auto tcp_ep = tcp_.acceptor().tcp_endpoint();
  const int tcp_port = tcp_ep ? tcp_ep->port() : -1;
  const auto http_ep = http_.acceptor().tcp_endpoint();
  const int http_port = !http_.listening() ? 0 : http_ep ? http_ep->port() : -1;
  // The reference's RealHTTPSAddr(): port 0 without an HTTPS listener.
  const int https_port = https_ ? https_->local_endpoint().port() : 0;
  http_api_.set_ports(tcp_port, http_port, https_port);
  const int listening_tcp_port = std::max(tcp_port, 0);
  const int listening_http_port = std::max(http_port, 0);
  if (!opts.statsd_address.empty()) {
    const int64_t broadcast_http_port =
        opts.broadcast_http_port != 0 ? opts.broadcast_http_port : listening_http_port;
    statsd_ = std::make_unique<StatsdPusher>(
        opts, stats_,
        expand_statsd_prefix(opts.statsd_prefix, opts.broadcast_address, broadcast_http_port));
  }
  // After binding, as the reference: recreate the topics/channels of nsqd.dat, rewrite it.
  // A bad nsqd.dat is fatal with the reference's own words (not "failed to instantiate").
  if (auto loaded = nsqd_.load_metadata(); !loaded) {
    log::fatal("failed to load metadata - {}", loaded.error());
    daemon::exit_now(1);
  }
  // The reference rewrites the file right after loading it.
  if (auto persisted = nsqd_.persist_metadata(); !persisted) {
    log::fatal("failed to persist metadata - {}", persisted.error());
    daemon::exit_now(1);
  }
  pool_.start();
  tcp_.start_accepting();
  http_.start_accepting();
  if (https_) https_->start_accepting();
  if (statsd_) statsd_->start();
  schedule_timers();
  // What lookupd hands to consumers: broadcast ports default to the listening ones.
  const auto& o = nsqd_.options();
  LookupdIdentity id;
  id.broadcast_address = o.broadcast_address;
  id.hostname = util::os_hostname();
  id.tcp_port = o.broadcast_tcp_port > 0 ? o.broadcast_tcp_port : listening_tcp_port;
  id.http_port = o.broadcast_http_port > 0 ? o.broadcast_http_port : listening_http_port;
  lookupd_->start(std::move(id));
  started_ = true;
  return {};
}

void NsqdServer::schedule_timers() {
  timer_loop_.expires_after(kTimerResolution);
  timer_loop_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    nsqd_.process_timers(steady_now_ns());
    heap_release_.observe(tcp_.client_count());
    schedule_timers();
  });
}

void NsqdServer::stop() {
  if (stopped_ || !started_) return;
  stopped_ = true;
  if (statsd_) statsd_->stop();
  // The reference's Exit() order: TCP, HTTP, HTTPS listeners.
  tcp_.stop();
  http_.stop();
  if (https_) https_->stop();
  // Let every loop run the closes posted to it (each connection logs its exit lines, as the
  // reference's do before "NSQ: closing topics"), and cancel the timer loop on its own thread.
  std::vector<std::promise<void>> drained(pool_.size());
  for (size_t i = 0; i < pool_.size(); ++i) {
    boost::asio::post(pool_.at(i), [this, i, &drained] {
      if (i == 0) timer_loop_.cancel();
      drained[i].set_value();
    });
  }
  for (auto& d : drained) d.get_future().wait();
  pool_.stop();
  nsqd_.close_all();  // logs the metadata write and "NSQ: closing topics"
  log::info("NSQ: stopping subsystems");
  lookupd_->stop();
  // The reference's queue scan goroutine; ours is the timer loop stopped above.
  log::info("QUEUESCAN: closing");
  log::info("NSQ: bye");
}

}  // namespace nsq::nsqd
