// Upstream: nsqadmin's calls to nsqd and nsqlookupd, with the reference http_api.Client's
// contract: V1 Accept header, connect and request deadlines, a non-200 answer is an error
// `got response <status> "<body>"`, and errors read like Go's (`Get "<url>": dial tcp <addr>:
// connect: connection refused`). Requests of one batch run concurrently, so one dead or slow
// node costs its timeout once per batch.
//
// Threads: the requests run on Upstream's own I/O thread; call()/call_all() block the caller,
// which must be a worker thread, never that I/O thread. Thread-safe.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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
  Upstream(std::chrono::milliseconds connect_timeout, std::chrono::milliseconds request_timeout);
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

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds request_timeout_;
  std::thread thread_;
};

}  // namespace nsq::nsqadmin
