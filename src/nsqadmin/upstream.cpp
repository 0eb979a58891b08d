#include "nsqadmin/upstream.hpp"

#include <algorithm>
#include <boost/asio/error.hpp>
#include <cassert>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "common/gocompat/go_quote.hpp"
#include "common/http/client.hpp"
#include "common/http/https_redirect.hpp"
#include "common/http/message.hpp"
#include "common/log/logger.hpp"

namespace nsq::nsqadmin {

namespace asio = boost::asio;

Upstream::Upstream(std::chrono::milliseconds connect_timeout,
                   std::chrono::milliseconds request_timeout,
                   std::shared_ptr<asio::ssl::context> tls)
    : work_(asio::make_work_guard(io_)),
      connect_timeout_(connect_timeout),
      request_timeout_(request_timeout),
      tls_(std::move(tls)),
      thread_([this] { io_.run(); }) {}

Upstream::~Upstream() {
  work_.reset();
  io_.stop();
  thread_.join();
}

namespace {

std::string method_title(const std::string& m) {
  // Go's url.Error prints the method as "Get", "Post", ...
  if (m.empty()) return m;
  std::string t = m.substr(0, 1);
  for (size_t i = 1; i < m.size(); ++i) t += static_cast<char>(std::tolower(m[i]));
  return t;
}

// The error Go's http.Client + http_api would report for this outcome.
UpstreamResult to_result(const UpstreamCall& c, const std::string& url, const http::Url& u,
                         http::ClientResponse r) {
  UpstreamResult out;
  const std::string prefix = method_title(c.method) + " \"" + url + "\": ";
  const std::string addr = u.host + ":" + std::to_string(u.port);
  if (!r.ok()) {
    const auto& ec = r.ec;
    if (r.error.starts_with("connect timeout")) {
      out.error = prefix + "dial tcp " + addr + ": i/o timeout";
    } else if (r.error.starts_with("request timeout")) {
      out.error = prefix +
                  "net/http: timeout awaiting response headers (Client.Timeout exceeded while "
                  "awaiting headers)";
    } else if (r.error.starts_with("resolve")) {
      out.error = prefix + "dial tcp: lookup " + u.host + ": no such host";
    } else if (ec == asio::error::connection_refused) {
      out.error = prefix + "dial tcp " + addr + ": connect: connection refused";
    } else if (ec == asio::error::eof || ec == asio::error::connection_reset) {
      out.error = prefix + "EOF";
    } else {
      out.error = prefix + r.error;
    }
    return out;
  }
  out.status = r.status;
  out.body = std::move(r.body);
  if (r.status != 200) {
    out.error = "got response " + std::to_string(r.status) + " " +
                std::string(http::status_text(r.status)) + " " + gocompat::go_quote(out.body);
    return out;
  }
  out.ok = true;
  return out;
}

// One call_all(): results by index, the calls not started yet, and how many are unfinished.
struct Batch {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<UpstreamCall> calls;
  std::vector<UpstreamResult> results;
  size_t next = 0;
  size_t pending = 0;
};

// Upper bound of requests in flight per batch, so a page over thousands of topics does not
// open thousands of sockets at once.
constexpr size_t kMaxInFlight = 64;

}  // namespace

void Upstream::start_next(const std::shared_ptr<void>& batch_ptr) {
  auto batch = std::static_pointer_cast<Batch>(batch_ptr);
  size_t i;
  {
    std::lock_guard lock(batch->mu);
    if (batch->next >= batch->calls.size()) return;
    i = batch->next++;
  }
  send(batch->calls[i], batch->calls[i].url, [this, batch, i](UpstreamResult res) {
    {
      std::lock_guard lock(batch->mu);
      batch->results[i] = std::move(res);
      if (--batch->pending == 0) batch->cv.notify_all();
    }
    start_next(batch);
  });
}

http::ClientRequest Upstream::make_request(const UpstreamCall& c, const http::Url& u) const {
  http::ClientRequest req;
  req.method = c.method;
  req.host = u.host;
  req.port = u.port;
  req.target = u.target;
  req.body = c.body;
  req.headers = c.headers;
  req.nsq_v1_accept = c.v1;
  req.connect_timeout = connect_timeout_;
  req.request_timeout = request_timeout_;
  if (u.scheme == "https") req.tls = tls_;
  return req;
}

void Upstream::send(const UpstreamCall& call, std::string url,
                    std::function<void(UpstreamResult)> finish) {
  auto u = http::parse_url(url);
  if (!u) {
    UpstreamResult bad;
    bad.error = "parse \"" + url + "\": invalid URL";
    finish(std::move(bad));
    return;
  }
  log::debug("CI: querying {}", url);
  http::async_request(
      io_.get_executor(), make_request(call, *u),
      [this, finish = std::move(finish), &call, url, parsed = *u](http::ClientResponse r) {
        // GETV1/POSTV1 follow an nsqd's -tls-required 403 to its HTTPS port, once.
        if (call.v1 && r.ok() && http::wants_https_retry(url, r.status)) {
          auto https = http::https_endpoint(url, r.body);
          if (https) return send(call, std::move(*https), finish);
          UpstreamResult bad;
          bad.error = https.error();
          return finish(std::move(bad));
        }
        finish(to_result(call, url, parsed, std::move(r)));
      });
}

std::vector<UpstreamResult> Upstream::call_all(std::vector<UpstreamCall> calls) {
  // Blocking on our own I/O thread would wait for itself forever (upstream.hpp: worker threads
  // only).
  assert(!io_.get_executor().running_in_this_thread());
  auto batch = std::make_shared<Batch>();
  batch->results.resize(calls.size());
  batch->pending = calls.size();
  batch->calls = std::move(calls);
  const size_t first = std::min(batch->calls.size(), kMaxInFlight);
  for (size_t k = 0; k < first; ++k) start_next(batch);
  std::unique_lock lock(batch->mu);
  batch->cv.wait(lock, [&] { return batch->pending == 0; });
  return std::move(batch->results);
}

UpstreamResult Upstream::call(UpstreamCall c) {
  std::vector<UpstreamCall> v;
  v.push_back(std::move(c));
  return std::move(call_all(std::move(v))[0]);
}

void Upstream::post(UpstreamCall c) {
  auto u = http::parse_url(c.url);
  if (!u) {
    log::error("failed to parse notification URL {}", c.url);
    return;
  }
  auto req = make_request(c, *u);
  http::async_request(io_.get_executor(), std::move(req), [url = c.url](http::ClientResponse r) {
    if (!r.ok()) log::error("failed to POST notification - {}: {}", url, r.error);
  });
}

}  // namespace nsq::nsqadmin
