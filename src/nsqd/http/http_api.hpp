// NsqdHttpApi: nsqd's HTTP API (port 4151) with the reference's routes, parameters, status
// codes and bodies (the reference's nsqd/http.go): /ping, /info, /pub, /mpub, /stats, /topic/*,
// /channel/*, /config/:opt, plus GET /metrics (Prometheus, see prometheus_metrics.hpp).
// /debug/pprof/* are Go-runtime endpoints and answer 404 here.
//
// Body limits are enforced before a body is read (common/http/server.hpp): /pub at
// -max-msg-size (413 MSG_TOO_BIG), /mpub at -max-body-size (413 BODY_TOO_BIG), PUT /config at
// -max-msg-size (413 INVALID_VALUE); nothing is ever buffered beyond them.
//
// Handlers run on the event-loop thread of their connection and only take the short
// registry/topic/channel locks the TCP side takes, so HTTP traffic never blocks a loop.
// Owner: NsqdServer (built before listening, read-only afterwards except the atomics).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "common/http/api.hpp"
#include "common/http/query.hpp"
#include "nsqd/nsqd.hpp"
#include "nsqd/stats/stats.hpp"

namespace nsq::nsqd {

class NsqdHttpApi : public http::RoutedService {
 public:
  NsqdHttpApi(Nsqd& nsqd, const StatsCollector& stats);

  // The real listening ports (for /info and the broadcast defaults); -1 = not TCP. The
  // HTTPS port (0 = none) is only named in the -tls-required answer, as the reference.
  void set_ports(int tcp_port, int http_port, int https_port);

 protected:
  // -tls-required=true: every plain-HTTP request gets the reference's 403 TLS_REQUIRED with
  // the HTTPS port; requests over HTTPS (the same service) are served.
  bool intercept(http::Request& req, http::Response& resp) override;
  // -durable: POST /pub and /mpub answer once their commit completes (from the commit
  // thread); every other request is answered at once as before.
  void handle_async(http::Request& req, std::function<void(http::Response)> done) override;

 private:
  void ping(http::Request& req, http::Response& resp);
  void info(http::Request& req, http::Response& resp);
  using AsyncDone = std::function<void(http::Response)>;
  void pub(http::Request& req, http::Response& resp) { pub_impl(req, resp, nullptr); }
  void mpub(http::Request& req, http::Response& resp) { mpub_impl(req, resp, nullptr); }
  // With `async` (durable mode), a publish to a durable topic takes *async and answers
  // through it once durable; any other outcome is left in `resp` with *async untouched.
  void pub_impl(http::Request& req, http::Response& resp, AsyncDone* async);
  void mpub_impl(http::Request& req, http::Response& resp, AsyncDone* async);
  // Answers a refused publish: 507 at the topic disk limit, else the reference's 503 EXITING.
  static void publish_failed(http::Response& resp, std::string_view error);
  std::string publish(Topic& topic, std::span<const std::string_view> bodies, int64_t defer_ns,
                      AsyncDone* async);
  void mpub_too_big(http::Request& req, http::Response& resp);
  void stats(http::Request& req, http::Response& resp);
  void metrics(http::Request& req, http::Response& resp);
  void topic_create(http::Request& req, http::Response& resp);
  void topic_delete(http::Request& req, http::Response& resp);
  void topic_empty(http::Request& req, http::Response& resp);
  void topic_pause(http::Request& req, http::Response& resp, bool pause);
  void channel_create(http::Request& req, http::Response& resp);
  void channel_delete(http::Request& req, http::Response& resp);
  void channel_empty(http::Request& req, http::Response& resp);
  void channel_pause(http::Request& req, http::Response& resp, bool pause);
  void config(http::Request& req, http::Response& resp);
  static bool http_binary_mode(const http::QueryParams& q, bool& deprecated);

  Nsqd& nsqd_;
  const StatsCollector& stats_;
  std::atomic<int> tcp_port_{-1};
  std::atomic<int> http_port_{-1};
  std::atomic<int> https_port_{0};
  std::atomic<int> log_level_;  // Go's number, changed by PUT /config/log_level
  // PUT /config/nsqlookupd_tcp_addresses with `null` leaves Go a nil slice, shown as null.
  std::atomic<bool> lookupd_addresses_null_{false};
  bool tls_required_ = false;
};

}  // namespace nsq::nsqd
