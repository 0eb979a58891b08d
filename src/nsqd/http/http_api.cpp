#include "nsqd/http/http_api.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "common/gocompat/json_writer.hpp"
#include "common/http/query.hpp"
#include "common/log/logger.hpp"
#include "common/util/go_strict_json.hpp"
#include "common/util/hostname.hpp"
#include "nsq/protocol/names.hpp"
#include "nsqd/http/http_config.hpp"
#include "nsqd/http/http_mpub_body.hpp"
#include "nsqd/stats/prometheus_metrics.hpp"

namespace nsq::nsqd {

using http::QueryParams;
using http::Request;
using http::Response;

namespace {

// url.ParseQuery of the request; on failure answers 400 INVALID_REQUEST as the reference.
std::optional<QueryParams> query_or_fail(const Request& req, Response& resp) {
  auto q = http::parse_query(req.raw_query);
  if (!q) {
    log::error("failed to parse request params - {}", q.error());
    http::v1_error(resp, 400, "INVALID_REQUEST");
    return std::nullopt;
  }
  return std::move(*q);
}

// The reference's boolParams lookup: true/1, false/0, anything else (or absent) = `fallback`.
bool bool_param(const QueryParams& q, std::string_view key, bool fallback) {
  auto v = q.get(key);
  if (!v) return fallback;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  return fallback;
}

// Go's strconv.ParseInt(s, 10, 64).
std::optional<int64_t> parse_go_int64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
  }
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  if (negative) {
    if (value > uint64_t{1} << 63) return std::nullopt;
    return static_cast<int64_t>(0 - value);
  }
  if (value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(value);
}

// The preamble of /pub, /mpub and /topic/*: the query, then its `topic` parameter.
struct TopicRequest {
  QueryParams query;
  std::string topic;
};
enum class TopicName { kValidated, kAsGiven };  // /topic/delete and /topic/*pause: as given

// Answers 400 INVALID_REQUEST, MISSING_ARG_TOPIC or (kValidated) INVALID_TOPIC and returns
// nullopt when the request stops here.
std::optional<TopicRequest> topic_request(const Request& req, Response& resp, TopicName check) {
  auto q = query_or_fail(req, resp);
  if (!q) return std::nullopt;
  auto name = q->get("topic");
  if (!name) {
    http::v1_error(resp, 400, "MISSING_ARG_TOPIC");
    return std::nullopt;
  }
  if (check == TopicName::kValidated && !protocol::is_valid_topic_name(*name)) {
    http::v1_error(resp, 400, "INVALID_TOPIC");
    return std::nullopt;
  }
  std::string topic(*name);
  return TopicRequest{std::move(*q), std::move(topic)};
}

// The preamble of /channel/*: the reference's GetTopicChannelArgs checks in its order
// (MISSING_ARG_TOPIC, INVALID_ARG_TOPIC, MISSING_ARG_CHANNEL, INVALID_ARG_CHANNEL), then the
// topic, which must exist (404 TOPIC_NOT_FOUND). Nullopt when the request was answered.
struct ChannelRequest {
  std::shared_ptr<Topic> topic;
  std::string channel;
};

std::optional<ChannelRequest> channel_request(const Nsqd& nsqd, const Request& req,
                                              Response& resp) {
  auto q = query_or_fail(req, resp);
  if (!q) return std::nullopt;
  const char* refused = nullptr;
  auto t = q->get("topic");
  auto c = q->get("channel");
  if (!t) {
    refused = "MISSING_ARG_TOPIC";
  } else if (!protocol::is_valid_topic_name(*t)) {
    refused = "INVALID_ARG_TOPIC";
  } else if (!c) {
    refused = "MISSING_ARG_CHANNEL";
  } else if (!protocol::is_valid_channel_name(*c)) {
    refused = "INVALID_ARG_CHANNEL";
  }
  if (refused != nullptr) {
    http::v1_error(resp, 400, refused);
    return std::nullopt;
  }
  auto topic = nsqd.find_topic(std::string(*t));
  if (!topic) {
    http::v1_error(resp, 404, "TOPIC_NOT_FOUND");
    return std::nullopt;
  }
  return ChannelRequest{std::move(topic), std::string(*c)};
}

// The channel of /channel/empty and /channel/*pause, or 404 CHANNEL_NOT_FOUND (null).
std::shared_ptr<Channel> existing_channel(const ChannelRequest& r, Response& resp) {
  auto channel = r.topic->find_channel(r.channel);
  if (!channel) http::v1_error(resp, 404, "CHANNEL_NOT_FOUND");
  return channel;
}

spdlog::level::level_enum spdlog_level(int go_level) {
  switch (go_level) {
    case 1:
      return spdlog::level::debug;
    case 2:
      return spdlog::level::info;
    case 3:
      return spdlog::level::warn;
    case 4:
      return spdlog::level::err;
    default:
      return spdlog::level::critical;
  }
}

}  // namespace

NsqdHttpApi::NsqdHttpApi(Nsqd& nsqd, const StatsCollector& stats)
    : http::RoutedService(static_cast<uint64_t>(nsqd.options().max_body_size)),
      nsqd_(nsqd),
      stats_(stats),
      log_level_(go_log_level(nsqd.options().log_level) == 0
                     ? 2
                     : go_log_level(nsqd.options().log_level)) {
  const auto& o = nsqd.options();
  tls_required_ = tls_required_number(o) == 2;
  auto bind = [this](void (NsqdHttpApi::*fn)(Request&, Response&)) {
    return [this, fn](Request& req, Response& resp) { (this->*fn)(req, resp); };
  };
  add("GET", "/ping", bind(&NsqdHttpApi::ping));
  add("GET", "/info", bind(&NsqdHttpApi::info));

  http::RouteOptions pub_opts;
  pub_opts.body_limit = static_cast<uint64_t>(o.max_msg_size);
  pub_opts.too_big = [](Request&, Response& resp) { http::v1_error(resp, 413, "MSG_TOO_BIG"); };
  pub_opts.log = false;  // the reference does not log /pub and /mpub
  pub_opts.incomplete_body = true;
  add("POST", "/pub", bind(&NsqdHttpApi::pub), pub_opts);

  http::RouteOptions mpub_opts;
  mpub_opts.body_limit = static_cast<uint64_t>(o.max_body_size);
  mpub_opts.too_big = bind(&NsqdHttpApi::mpub_too_big);
  mpub_opts.log = false;
  mpub_opts.incomplete_body = true;
  add("POST", "/mpub", bind(&NsqdHttpApi::mpub), mpub_opts);

  add("GET", "/stats", bind(&NsqdHttpApi::stats));
  add("POST", "/topic/create", bind(&NsqdHttpApi::topic_create));
  add("POST", "/topic/delete", bind(&NsqdHttpApi::topic_delete));
  add("POST", "/topic/empty", bind(&NsqdHttpApi::topic_empty));
  add("POST", "/topic/pause",
      [this](Request& req, Response& resp) { topic_pause(req, resp, true); });
  add("POST", "/topic/unpause",
      [this](Request& req, Response& resp) { topic_pause(req, resp, false); });
  add("POST", "/channel/create", bind(&NsqdHttpApi::channel_create));
  add("POST", "/channel/delete", bind(&NsqdHttpApi::channel_delete));
  add("POST", "/channel/empty", bind(&NsqdHttpApi::channel_empty));
  add("POST", "/channel/pause",
      [this](Request& req, Response& resp) { channel_pause(req, resp, true); });
  add("POST", "/channel/unpause",
      [this](Request& req, Response& resp) { channel_pause(req, resp, false); });

  http::RouteOptions config_opts;
  config_opts.body_limit = static_cast<uint64_t>(o.max_msg_size);
  config_opts.too_big = [](Request&, Response& resp) {
    http::v1_error(resp, 413, "INVALID_VALUE");
  };
  add("GET", "/config/:opt", bind(&NsqdHttpApi::config));
  add("PUT", "/config/:opt", bind(&NsqdHttpApi::config), config_opts);

  add("GET", "/metrics", bind(&NsqdHttpApi::metrics));
}

void NsqdHttpApi::set_ports(int tcp_port, int http_port, int https_port) {
  tcp_port_ = tcp_port;
  http_port_ = http_port;
  https_port_ = https_port;
}

bool NsqdHttpApi::intercept(Request& req, Response& resp) {
  // HTTPS requests are served; plain ones are sent to the HTTPS port.
  if (!tls_required_ || req.tls) return false;
  // Byte for byte the reference's hand-written body (note the spaces), before any routing.
  resp.status = 403;
  resp.set_header(std::string(http::kNsqContentTypeHeader), std::string(http::kNsqContentTypeV1));
  resp.set_header("Content-Type", std::string(http::kJsonContentType));
  resp.body =
      "{\"message\": \"TLS_REQUIRED\", \"https_port\": " + std::to_string(https_port_.load()) + "}";
  return true;
}

void NsqdHttpApi::ping(Request&, Response& resp) {
  // PlainText: no X-NSQ-Content-Type; the health text is the body either way.
  http::plain_text(resp, nsqd_.healthy() ? 200 : 500, nsqd_.health());
}

void NsqdHttpApi::info(Request&, Response& resp) {
  const auto& o = nsqd_.options();
  gocompat::JsonWriter w;
  w.begin_object();
  w.key("version").string(NSQ_COMPAT_VERSION);
  w.key("broadcast_address").string(o.broadcast_address);
  w.key("hostname").string(util::os_hostname());
  w.key("http_port").number(http_port_.load());
  w.key("tcp_port").number(tcp_port_.load());
  w.key("start_time").number(nsqd_.start_time_ns() / 1'000'000'000);
  // Go time.Duration values: integer nanoseconds.
  w.key("max_heartbeat_interval").number(static_cast<int64_t>(o.max_heartbeat_interval.count()));
  w.key("max_output_buffer_size").number(o.max_output_buffer_size);
  w.key("max_output_buffer_timeout")
      .number(static_cast<int64_t>(o.max_output_buffer_timeout.count()));
  w.key("max_deflate_level").number(o.max_deflate_level);
  w.end_object();
  http::v1_json(resp, w.take());
}

void NsqdHttpApi::handle_async(Request& req, std::function<void(Response)> done) {
  const bool durable_pub =
      nsqd_.options().durable && req.match.kind == http::RouteMatch::Kind::kFound &&
      req.method == boost::beast::http::verb::post && (req.path == "/pub" || req.path == "/mpub");
  if (!durable_pub) return RoutedService::handle_async(req, std::move(done));
  Response resp;
  if (!intercept(req, resp)) {
    if (req.path == "/pub") {
      pub_impl(req, resp, &done);
    } else {
      mpub_impl(req, resp, &done);
    }
  }
  if (done) done(std::move(resp));  // answered here: not a durable publish, or an error
}

std::string NsqdHttpApi::publish(Topic& topic, std::span<const std::string_view> bodies,
                                 int64_t defer_ns, AsyncDone* async) {
  if (async == nullptr || !topic.durable()) return topic.publish(bodies, defer_ns);
  // The callback may run on the commit thread as soon as the append is done, so it owns the
  // answer before publish() starts; a refusal (the callback will never run) hands it back.
  auto taken = std::make_shared<AsyncDone>(std::move(*async));
  *async = nullptr;
  auto err =
      topic.publish(bodies, defer_ns, [taken, name = topic.name()](const std::string& error) {
        Response r;
        if (error.empty()) {
          http::v1_text(r, "OK");
        } else {
          log::error("TOPIC({}): failed to commit messages via HTTP - {}", name, error);
          http::v1_error(r, 503, "EXITING");
        }
        (*taken)(std::move(r));
      });
  if (!err.empty()) *async = std::move(*taken);
  return err;
}

void NsqdHttpApi::publish_failed(Response& resp, std::string_view error) {
  // -max-bytes-per-topic: 507 Insufficient Storage (RFC 4918 11.5: the server cannot store
  // what the request needs) tells this back-pressure apart from 503 EXITING, the reference's
  // answer to every other failed put (nsqd/http.go doPUB), and it clears by itself.
  if (error == kTopicDiskLimitReached) return http::v1_error(resp, 507, "TOPIC_DISK_LIMIT_REACHED");
  http::v1_error(resp, 503, "EXITING");
}

void NsqdHttpApi::pub_impl(Request& req, Response& resp, AsyncDone* async) {
  // The reference checks the body before the parameters (and creates the topic before it
  // looks at `defer`); a body that fails to read is its io.ReadAll error.
  if (req.body_incomplete) return http::v1_error(resp, 500, "INTERNAL_ERROR");
  if (req.body.empty()) return http::v1_error(resp, 400, "MSG_EMPTY");
  auto r = topic_request(req, resp, TopicName::kValidated);
  if (!r) return;
  const QueryParams* q = &r->query;
  auto topic = nsqd_.get_topic(r->topic);
  if (!topic) return http::v1_error(resp, 503, "EXITING");

  int64_t defer_ns = 0;
  if (q->has("defer")) {
    auto ms = parse_go_int64(q->get("defer").value_or(""));
    const int64_t max_ns = nsqd_.options().max_req_timeout.count();
    if (!ms || __builtin_mul_overflow(*ms, int64_t{1'000'000}, &defer_ns) || defer_ns < 0 ||
        defer_ns > max_ns) {
      return http::v1_error(resp, 400, "INVALID_DEFER");
    }
  }
  const std::string_view body[] = {req.body};
  if (auto err = publish(*topic, body, defer_ns, async); !err.empty()) {
    log::error("TOPIC({}): failed to put message via HTTP - {}", topic->name(), err);
    return publish_failed(resp, err);
  }
  http::v1_text(resp, "OK");
}

void NsqdHttpApi::mpub_impl(Request& req, Response& resp, AsyncDone* async) {
  auto r = topic_request(req, resp, TopicName::kValidated);
  if (!r) return;
  const QueryParams* q = &r->query;
  auto topic = nsqd_.get_topic(r->topic);
  if (!topic) return http::v1_error(resp, 503, "EXITING");

  bool deprecated = false;
  const bool binary = http_binary_mode(*q, deprecated);
  if (deprecated) {
    log::warn("deprecated value '{}' used for /mpub binary param", q->get("binary").value_or(""));
  }
  const auto& o = nsqd_.options();
  // A body that failed to read: text mode meets the read error (500); binary mode only reads
  // as far as its messages go, so what arrived decides, exactly as for a short body.
  if (req.body_incomplete && !binary) return http::v1_error(resp, 500, "INTERNAL_ERROR");
  std::vector<std::string_view> bodies;
  auto err = binary ? parse_binary_mpub(req.body, o.max_msg_size, o.max_body_size, bodies)
                    : split_text_mpub(req.body, o.max_msg_size, o.max_body_size, bodies);
  if (err) return http::v1_error(resp, 413, err->code);
  if (!bodies.empty()) {
    if (auto perr = publish(*topic, bodies, 0, async); !perr.empty()) {
      log::error("TOPIC({}): failed to put messages via HTTP - {}", topic->name(), perr);
      return publish_failed(resp, perr);
    }
  }
  http::v1_text(resp, "OK");
}

bool NsqdHttpApi::http_binary_mode(const QueryParams& q, bool& deprecated) {
  return mpub_binary_mode(q.get("binary"), &deprecated);
}

void NsqdHttpApi::mpub_too_big(Request& req, Response& resp) {
  // A declared Content-Length over the limit is refused first; a chunked body only turns
  // out too big while being read, after the reference already validated the topic (and
  // created it).
  if (!req.content_length) {
    auto r = topic_request(req, resp, TopicName::kValidated);
    if (!r) return;
    if (!nsqd_.get_topic(r->topic)) return http::v1_error(resp, 503, "EXITING");
  }
  http::v1_error(resp, 413, "BODY_TOO_BIG");
}

void NsqdHttpApi::stats(Request& req, Response& resp) {
  auto q = query_or_fail(req, resp);
  if (!q) return;
  StatsQuery sq;
  sq.topic = std::string(q->get("topic").value_or(""));
  sq.channel = std::string(q->get("channel").value_or(""));
  sq.include_clients = bool_param(*q, "include_clients", true);
  sq.include_mem = bool_param(*q, "include_mem", true);
  const bool json = q->get("format").value_or("") == "json";

  const StatsSnapshot snap = stats_.collect(sq);
  StatsHeader header;
  header.health = nsqd_.health();
  header.start_time_ns = nsqd_.start_time_ns();
  header.now_ns = wall_now_ns();
  std::optional<MemStats> mem;
  if (sq.include_mem) mem = read_mem_stats();
  const MemStats* mem_ptr = mem ? &*mem : nullptr;
  if (json) {
    http::v1_json(resp, render_stats_json(snap, header, mem_ptr));
  } else {
    http::v1_text(resp, render_stats_text(snap, header, mem_ptr));
  }
}

void NsqdHttpApi::metrics(Request&, Response& resp) {
  const StatsSnapshot snap = stats_.collect(StatsQuery{});
  ProcessMetrics process;
  process.start_time_ns = nsqd_.start_time_ns();
  process.resident_memory_bytes = read_resident_memory_bytes();
  process.durable = nsqd_.options().durable;
  process.durable_fsyncs = nsqd_.durable_fsync_count();
  resp.status = 200;
  resp.set_header("Content-Type", kPrometheusContentType);
  resp.body = render_prometheus(snap, process);
}

void NsqdHttpApi::topic_create(Request& req, Response& resp) {
  auto r = topic_request(req, resp, TopicName::kValidated);
  if (!r) return;
  if (!nsqd_.get_topic(r->topic)) return http::v1_error(resp, 503, "EXITING");
  http::v1_empty(resp);
}

void NsqdHttpApi::topic_delete(Request& req, Response& resp) {
  // No name validation here in the reference: an invalid name is simply not found.
  auto r = topic_request(req, resp, TopicName::kAsGiven);
  if (!r) return;
  if (!nsqd_.delete_topic(r->topic)) {
    return http::v1_error(resp, 404, "TOPIC_NOT_FOUND");
  }
  http::v1_empty(resp);
}

void NsqdHttpApi::topic_empty(Request& req, Response& resp) {
  auto r = topic_request(req, resp, TopicName::kValidated);
  if (!r) return;
  auto topic = nsqd_.find_topic(r->topic);
  if (!topic) return http::v1_error(resp, 404, "TOPIC_NOT_FOUND");
  topic->empty();
  http::v1_empty(resp);
}

void NsqdHttpApi::topic_pause(Request& req, Response& resp, bool pause) {
  auto r = topic_request(req, resp, TopicName::kAsGiven);
  if (!r) return;
  auto topic = nsqd_.find_topic(r->topic);
  if (!topic) return http::v1_error(resp, 404, "TOPIC_NOT_FOUND");
  if (pause) {
    topic->pause();
  } else {
    topic->unpause();
  }
  nsqd_.notify_paused(topic->name(), "");
  http::v1_empty(resp);
}

void NsqdHttpApi::channel_create(Request& req, Response& resp) {
  auto r = channel_request(nsqd_, req, resp);
  if (!r) return;
  r->topic->get_channel(r->channel);
  http::v1_empty(resp);
}

void NsqdHttpApi::channel_delete(Request& req, Response& resp) {
  auto r = channel_request(nsqd_, req, resp);
  if (!r) return;
  if (!r->topic->delete_channel(r->channel)) {
    return http::v1_error(resp, 404, "CHANNEL_NOT_FOUND");
  }
  http::v1_empty(resp);
}

void NsqdHttpApi::channel_empty(Request& req, Response& resp) {
  auto r = channel_request(nsqd_, req, resp);
  if (!r) return;
  auto channel = existing_channel(*r, resp);
  if (!channel) return;
  r->topic->empty_channel(*channel);
  http::v1_empty(resp);
}

void NsqdHttpApi::channel_pause(Request& req, Response& resp, bool pause) {
  auto r = channel_request(nsqd_, req, resp);
  if (!r) return;
  auto channel = existing_channel(*r, resp);
  if (!channel) return;
  if (pause) {
    channel->pause();
  } else {
    channel->unpause();
  }
  nsqd_.notify_paused(r->topic->name(), r->channel);
  http::v1_empty(resp);
}

void NsqdHttpApi::config(Request& req, Response& resp) {
  const std::string opt(req.param("opt"));
  if (req.method_text == "PUT") {
    if (req.body.empty()) return http::v1_error(resp, 413, "INVALID_VALUE");
    if (opt == "nsqlookupd_tcp_addresses") {
      // json.Unmarshal into []string: an array of strings (or null) only.
      auto doc = util::parse_json_as_go(req.body);
      std::vector<std::string> addresses;
      if (doc.is_discarded() || !(doc.is_array() || doc.is_null())) {
        return http::v1_error(resp, 400, "INVALID_VALUE");
      }
      if (doc.is_array()) {
        for (const auto& v : doc) {
          if (!v.is_string()) return http::v1_error(resp, 400, "INVALID_VALUE");
          addresses.push_back(v.get<std::string>());
        }
      }
      lookupd_addresses_null_ = doc.is_null();
      nsqd_.set_lookupd_addresses(std::move(addresses));
    } else if (opt == "log_level") {
      const int level = go_log_level(req.body);
      if (level == 0) return http::v1_error(resp, 400, "INVALID_VALUE");
      log_level_ = level;
      log::logger().set_level(spdlog_level(level));
    } else {
      return http::v1_error(resp, 400, "INVALID_OPTION");
    }
  }
  const auto& o = nsqd_.options();
  RuntimeOptionValues rt;
  rt.lookupd_addresses = nsqd_.lookupd_addresses();
  rt.log_level = log_level_.load();
  // A unix socket (port -1 in /info) leaves the broadcast port at 0, as nsqd/nsqd.go.
  rt.broadcast_tcp_port =
      o.broadcast_tcp_port != 0 ? o.broadcast_tcp_port : std::max(tcp_port_.load(), 0);
  rt.broadcast_http_port =
      o.broadcast_http_port != 0 ? o.broadcast_http_port : std::max(http_port_.load(), 0);
  rt.statsd_prefix =
      expand_statsd_prefix(o.statsd_prefix, o.broadcast_address, rt.broadcast_http_port);
  auto value = option_value(o, rt, opt);
  if (!value) return http::v1_error(resp, 400, "INVALID_OPTION");
  if (opt == "nsqlookupd_tcp_addresses" && lookupd_addresses_null_ &&
      rt.lookupd_addresses.empty()) {
    value->body = "null";
  }
  if (value->json) {
    http::v1_json(resp, std::move(value->body));
  } else {
    http::v1_text(resp, std::move(value->body));
  }
}

}  // namespace nsq::nsqd
