// Upstream: nsqadmin's calls to nsqd and nsqlookupd, with the reference http_api.Client's
// contract: V1 Accept header, connect and request deadlines, a non-200 answer is an error
// `got response <status> "<body>"`, and errors read like Go's (`Get "<url>": dial tcp <addr>:
// connect: connection refused`). Requests of one batch run concurrently, so one dead or slow
// node costs its timeout once per batch. https:// URLs use the -http-client-tls-* context, and
// a V1 call answered 403 by a -tls-required nsqd is retried at the HTTPS port it names, as
// the reference's GETV1/POSTV1 do.
//
// Threads: the requests run on Upstream's own I/O thread; call()/call_all() block the caller,
// which must be a worker thread, never that I/O thread. Thread-safe.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/http/client.hpp"

namespace nsq::nsqadmin {

struct UpstreamCall {
  std::string method = "GET";
  std::string url;  // "http://host:port/path?query"
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool v1 = true;  // send the V1 Accept header
};

struct UpstreamResult {
  bool ok = false;
  std::string error;  // set when !ok
  unsigned status = 0;
  std::string body;
};

class Upstream {
 public:
  Upstream(std::chrono::milliseconds connect_timeout, std::chrono::milliseconds request_timeout,
           std::shared_ptr<boost::asio::ssl::context> tls);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  UpstreamResult call(UpstreamCall c);
  std::vector<UpstreamResult> call_all(std::vector<UpstreamCall> calls);
  // Fire and forget (notifications): the result is only logged on failure.
  void post(UpstreamCall c);

 private:
  // Starts the next unstarted call of a batch (see upstream.cpp), if any.
  void start_next(const std::shared_ptr<void>& batch);
  // Runs `call` against `url` (its own, or the HTTPS retry's); `call` outlives the request.
  void send(const UpstreamCall& call, std::string url, std::function<void(UpstreamResult)> finish);
  http::ClientRequest make_request(const UpstreamCall& c, const http::Url& u) const;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds request_timeout_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::thread thread_;
};

}  // namespace nsq::nsqadmin
