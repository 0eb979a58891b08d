#include "nsqd/tcp/auth_query.hpp"

#include <random>

#include "common/http/client.hpp"
#include "common/http/https_redirect.hpp"

namespace nsq::nsqd {

namespace {

struct AuthAttempt : std::enable_shared_from_this<AuthAttempt> {
  boost::asio::any_io_executor ex;
  std::vector<std::string> servers;
  std::shared_ptr<boost::asio::ssl::context> tls;
  AuthQuery query;
  AuthCallback done;
  std::chrono::milliseconds connect_timeout{};
  std::chrono::milliseconds request_timeout{};
  size_t start = 0;
  size_t tried = 0;
  std::string errors;

  void next() {
    if (tried == servers.size()) {
      done(std::nullopt, errors);
      return;
    }
    const std::string& server = servers[(start + tried) % servers.size()];
    ++tried;
    get(server, auth_query_url(server, query));
  }

  // The reference's GETV1: http:// or https:// (verified with the client TLS context), and a
  // -tls-required 403 retried once at the HTTPS port it names.
  void get(const std::string& server, const std::string& url) {
    auto parsed = http::parse_url(url);
    if (!parsed) return fail(server, "invalid URL " + url);
    http::ClientRequest req;
    req.method = "GET";
    req.host = parsed->host;
    req.port = parsed->port;
    req.target = parsed->target;
    req.connect_timeout = connect_timeout;
    req.request_timeout = request_timeout;
    if (parsed->scheme == "https") req.tls = tls;
    http::async_request(ex, std::move(req),
                        [self = shared_from_this(), server, url](http::ClientResponse resp) {
                          if (resp.ok() && http::wants_https_retry(url, resp.status)) {
                            auto https = http::https_endpoint(url, resp.body);
                            if (!https) return self->fail(server, https.error());
                            return self->get(server, *https);
                          }
                          self->on_response(server, std::move(resp));
                        });
  }

  void on_response(const std::string& server, http::ClientResponse resp) {
    if (!resp.ok()) {
      fail(server, resp.error.empty() ? resp.ec.message() : resp.error);
      return;
    }
    if (resp.status != 200) {
      fail(server, "got response " + std::to_string(resp.status) + " \"" + resp.body + "\"");
      return;
    }
    auto state = parse_auth_response(resp.body, std::chrono::steady_clock::now());
    if (!state) {
      fail(server, state.error());
      return;
    }
    done(std::move(*state), "");
  }

  void fail(const std::string& server, const std::string& why) {
    std::string e = "failed to auth against " + server + " - " + why;
    errors = errors.empty() ? e : errors + "; " + e;
    next();
  }
};

}  // namespace

void query_any_auth_server(const boost::asio::any_io_executor& ex, const NsqdOptions& opts,
                           std::shared_ptr<boost::asio::ssl::context> tls, AuthQuery query,
                           AuthCallback done) {
  auto a = std::make_shared<AuthAttempt>();
  a->ex = ex;
  a->tls = std::move(tls);
  a->servers = opts.auth_http_addresses;
  a->query = std::move(query);
  a->done = std::move(done);
  a->connect_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(opts.http_client_connect_timeout);
  a->request_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(opts.http_client_request_timeout);
  thread_local std::minstd_rand rng{std::random_device{}()};
  a->start = a->servers.empty() ? 0 : rng() % a->servers.size();
  a->next();
}

}  // namespace nsq::nsqd
