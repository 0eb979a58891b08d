#include "nsqadmin/admin_service.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>

#include "common/config/flag_set.hpp"
#include "common/gocompat/go_json.hpp"
#include "common/gocompat/json_writer.hpp"
#include "common/http/client.hpp"
#include "common/http/query.hpp"
#include "common/log/logger.hpp"
#include "common/util/hostname.hpp"
#include "common/util/result.hpp"
#include "nsq/protocol/names.hpp"
#include "nsqadmin/compress.hpp"
#include "nsqadmin/static_assets.hpp"

namespace nsq::nsqadmin {

using gocompat::JsonWriter;
using http::Request;
using http::Response;
using nlohmann::json;

namespace {

constexpr uint64_t kBodyLimit = 2 * 1024 * 1024;

std::string maybe_warn(const std::vector<std::string>& msgs) {
  if (msgs.empty()) return "";
  std::string out = "WARNING: ";
  for (size_t i = 0; i < msgs.size(); ++i) out += (i ? "; " : "") + msgs[i];
  return out;
}

// The handlers' shared error step: fatal -> 502 answered (true), partial -> message kept.
bool upstream_failed(const CiError& err, const char* what, std::vector<std::string>& msgs,
                     Response& resp) {
  if (err.fatal_error()) {
    log::error("failed to {} - {}", what, err.text());
    http::v1_error(resp, 502, "UPSTREAM_ERROR: " + err.text());
    return true;
  }
  if (err.partial()) {
    log::warn("{}", err.text());
    msgs.push_back(err.text());
  }
  return false;
}

void message_only(Response& resp, const std::vector<std::string>& msgs) {
  gocompat::JsonWriter w;
  w.begin_object().key("message").string(maybe_warn(msgs)).end_object();
  http::v1_json(resp, w.take());
}

// json.NewDecoder(body).Decode(&struct): the error text Go gives for a bad body, or "".
std::string decode_body(const std::string& body, json& out) {
  size_t i = body.find_first_not_of(" \t\r\n");
  if (i == std::string::npos) return "EOF";
  std::string e = gocompat::go_json_syntax_error(body);
  if (e == "unexpected end of JSON input") return "unexpected EOF";
  if (!e.empty() && e.find("after top-level value") == std::string::npos) return e;
  // A Decoder reads one value and ignores what follows it.
  out = json::parse(body, nullptr, false);
  if (out.is_discarded()) {
    // Trailing bytes after a valid first value: parse just that value.
    std::istringstream in(body);
    try {
      in >> out;
    } catch (...) {
      return "invalid character";
    }
  }
  if (!out.is_object() && !out.is_null()) {
    return "json: cannot unmarshal " +
           std::string(out.is_array()     ? "array"
                       : out.is_string()  ? "string"
                       : out.is_boolean() ? "bool"
                                          : "number") +
           " into Go value of type struct";
  }
  return "";
}

// A string member of the decoded body ("" when absent, Go's zero value); a non-string value is
// Go's unmarshal type error.
util::Result<std::string> body_string(const json& j, const char* key) {
  if (!j.is_object()) return std::string();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) {
    const char* t = it->is_number()    ? "number"
                    : it->is_boolean() ? "bool"
                    : it->is_array()   ? "array"
                                       : "object";
    return util::fail(std::string("json: cannot unmarshal ") + t + " into Go struct field ." + key +
                      " of type string");
  }
  return it->get<std::string>();
}

// An action's JSON body decoded and the string members `keys` read, in that order (Go reports
// the first bad one): the values, or Go's decode or type error.
util::Result<std::vector<std::string>> body_fields(const std::string& raw,
                                                   std::initializer_list<const char*> keys) {
  json body;
  if (auto e = decode_body(raw, body); !e.empty()) return util::fail(e);
  std::vector<std::string> values;
  for (const char* key : keys) {
    auto v = body_string(body, key);
    if (!v) return util::fail(v.error());
    values.push_back(std::move(*v));
  }
  return values;
}

std::string base64_decode(std::string_view in) {
  static const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    if (c == '=') break;
    auto pos = chars.find(c);
    if (pos == std::string::npos) return "";
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string basic_auth_user(const Request& req) {
  std::string_view h = req.header("Authorization");
  if (!h.starts_with("Basic ")) return "";
  std::string decoded = base64_decode(h.substr(6));
  auto colon = decoded.find(':');
  if (colon == std::string::npos) return "";
  return decoded.substr(0, colon);
}

std::string content_type_for(std::string_view name) {
  auto dot = name.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : name.substr(dot);
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/vnd.microsoft.icon";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".woff") return "font/woff";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".ttf") return "font/ttf";
  return "";
}

// The reference UI's asset names (nsqadmin/static/build, served from its bindata under
// /static/ and /fonts/), mapped to the file of ours that does the same job, so bookmarks and
// links into the old UI keep working through a redirect (index.html exists in ours too). The
// glyphicon fonts, vendor.js and main.js.map have no counterpart and answer 404 as any
// unknown asset.
std::optional<std::string_view> reference_asset_replacement(std::string_view name) {
  static const std::map<std::string_view, std::string_view> kReplacements = {
      {"main.js", "app.js"},
      {"base.css", "app.css"},
      {"bootstrap.min.css", "app.css"},
      {"favicon.png", "favicon.svg"},
      {"nsq_blue.png", "favicon.svg"},
  };
  auto it = kReplacements.find(name);
  if (it == kReplacements.end()) return std::nullopt;
  return it->second;
}

void write_string_list(gocompat::JsonWriter& w, const std::vector<std::string>& v,
                       bool null_when_empty) {
  if (v.empty() && null_when_empty) {
    w.null();
    return;
  }
  w.begin_array();
  for (const auto& s : v) w.string(s);
  w.end_array();
}

int level_number(const std::string& text) {
  log::Level l = log::Level::kInfo;
  log::parse_level(text, l);
  return static_cast<int>(l) + 1;  // lg.LogLevel: DEBUG=1 ... FATAL=5
}

}  // namespace

AdminService::AdminService(AdminOptions opts,
                           std::shared_ptr<boost::asio::ssl::context> upstream_tls)
    : http::RoutedService(kBodyLimit),
      opts_(std::move(opts)),
      hostname_(util::os_hostname()),
      upstream_(
          std::chrono::duration_cast<std::chrono::milliseconds>(opts_.http_client_connect_timeout),
          std::chrono::duration_cast<std::chrono::milliseconds>(opts_.http_client_request_timeout),
          std::move(upstream_tls)),
      ci_(upstream_),
      workers_(16) {
  if (!opts_.allow_config_from_cidr.empty()) {
    has_config_cidr_ = parse_cidr(opts_.allow_config_from_cidr, config_cidr_);
  }
  add_routes();
}

AdminService::~AdminService() {
  workers_.join();
}

AdminOptions AdminService::options() const {
  std::lock_guard lock(mu_);
  return opts_;
}

void AdminService::handle_async(Request& req, std::function<void(Response)> done) {
  boost::asio::post(workers_, [this, &req, done = std::move(done)] {
    Response resp;
    try {
      handle(req, resp);
    } catch (const std::exception& e) {
      // The reference's panic handler.
      log::error("ERROR: panic in HTTP handler - {}", e.what());
      resp = Response{};
      http::v1_error(resp, 500, "INTERNAL_ERROR");
    }
    maybe_compress(req.header("Accept-Encoding"), resp);
    done(std::move(resp));
  });
}

std::string AdminService::bp(const std::string& p) const {
  std::string joined = opts_.base_path == "/" ? p : opts_.base_path + p;
  if (joined.size() > 1 && joined.back() == '/') joined.pop_back();
  return joined;
}

void AdminService::add_routes() {
  auto h = [this](void (AdminService::*fn)(Request&, Response&)) {
    return [this, fn](Request& q, Response& r) { (this->*fn)(q, r); };
  };
  add("GET", bp("/"), h(&AdminService::index));
  add("GET", bp("/ping"), [](Request&, Response& r) { http::plain_text(r, 200, "OK"); });
  for (const char* p : {"/topics", "/topics/:topic", "/topics/:topic/:channel", "/nodes",
                        "/nodes/:node", "/counter", "/lookup"}) {
    add("GET", bp(p), h(&AdminService::index));
  }
  add("GET", bp("/static/:asset"), h(&AdminService::static_asset));
  add("GET", bp("/fonts/:asset"), h(&AdminService::static_asset));
  if (opts_.proxy_graphite) add("GET", bp("/render"), h(&AdminService::render_proxy));

  add("GET", bp("/api/topics"), h(&AdminService::topics));
  add("GET", bp("/api/topics/:topic"), h(&AdminService::topic));
  add("GET", bp("/api/topics/:topic/:channel"), h(&AdminService::channel));
  add("GET", bp("/api/nodes"), h(&AdminService::nodes));
  add("GET", bp("/api/nodes/:node"), h(&AdminService::node));
  add("POST", bp("/api/topics"), h(&AdminService::create_topic_channel));
  add("POST", bp("/api/topics/:topic"),
      [this](Request& q, Response& r) { topic_channel_action(q, r, false); });
  add("POST", bp("/api/topics/:topic/:channel"),
      [this](Request& q, Response& r) { topic_channel_action(q, r, true); });
  add("DELETE", bp("/api/nodes/:node"), h(&AdminService::tombstone_node_for_topic));
  add("DELETE", bp("/api/topics/:topic"), h(&AdminService::delete_topic));
  add("DELETE", bp("/api/topics/:topic/:channel"), h(&AdminService::delete_channel));
  add("GET", bp("/api/counter"), h(&AdminService::counter));
  add("GET", bp("/api/graphite"), h(&AdminService::graphite));
  add("GET", bp("/config/:opt"), h(&AdminService::config));
  add("PUT", bp("/config/:opt"), h(&AdminService::config));
}

std::optional<AdminOptions> AdminService::admin_options(const Request& req, Response& resp) const {
  AdminOptions o = options();
  if (is_admin(req, o)) return o;
  http::v1_error(resp, 403, "FORBIDDEN");
  return std::nullopt;
}

bool AdminService::is_admin(const Request& req, const AdminOptions& o) const {
  if (o.admin_users.empty()) return true;
  const std::string user(req.header(o.acl_http_header));
  for (const auto& u : o.admin_users) {
    if (u == user) return true;
  }
  return false;
}

void AdminService::notify(const std::string& action, const std::string& topic,
                          const std::string& channel, const std::string& node, const Request& req) {
  const AdminOptions o = options();
  if (o.notification_http_endpoint.empty()) return;
  const bool https = req.header("X-Scheme") == "https";
  std::string url = std::string(https ? "https" : "http") + "://" +
                    std::string(req.header("Host")) + http::path_escape(req.path);
  if (!req.raw_query.empty()) url += "?" + req.raw_query;
  gocompat::JsonWriter w;
  w.begin_object();
  w.key("action").string(action);
  w.key("topic").string(topic);
  if (!channel.empty()) w.key("channel").string(channel);
  if (!node.empty()) w.key("node").string(node);
  w.key("timestamp")
      .number(static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count()));
  const std::string user = basic_auth_user(req);
  if (!user.empty()) w.key("user").string(user);
  w.key("remote_ip").string(req.remote_address);
  w.key("user_agent").string(req.header("User-Agent"));
  w.key("url").string(url);
  w.key("via").string(hostname_);
  w.end_object();
  UpstreamCall c;
  c.method = "POST";
  c.url = o.notification_http_endpoint;
  c.body = w.take();
  c.headers = {{"Content-Type", "application/json"}};
  c.v1 = false;
  upstream_.post(std::move(c));
}

// ---- UI ----

void AdminService::index(Request& req, Response& resp) {
  const AdminOptions o = options();
  const StaticAsset* a = find_static_asset("index.html");
  std::string page = a ? std::string(a->data) : std::string("<!doctype html><div id=app></div>");
  const std::string base_attr = o.base_path == "/" ? "" : o.base_path;
  gocompat::JsonWriter w;
  w.begin_object();
  w.key("version").string(NSQ_COMPAT_VERSION);
  w.key("base_path").string(o.base_path);
  w.key("nsqlookupd");
  write_string_list(w, o.lookupd_http_addresses, false);
  w.key("is_admin").boolean(is_admin(req, o));
  w.key("user_agent").string("nsqadmin/v" NSQ_COMPAT_VERSION);
  w.key("graphite_url").string(o.proxy_graphite ? "" : o.graphite_url);
  w.key("graph_enabled").boolean(!o.graphite_url.empty());
  w.key("statsd_prefix").string(o.statsd_prefix);
  w.key("statsd_counter_format").string(o.statsd_counter_format);
  w.key("statsd_gauge_format").string(o.statsd_gauge_format);
  w.key("statsd_interval")
      .number(static_cast<int64_t>(
          std::chrono::duration_cast<std::chrono::seconds>(o.statsd_interval).count()));
  w.end_object();
  std::string cfg =
      w.take();  // gocompat::JsonWriter already escapes <, > and & (safe inside <script>)
  std::string attr;
  for (char c : base_attr) {
    if (c == '&')
      attr += "&amp;";
    else if (c == '"')
      attr += "&quot;";
    else if (c == '<')
      attr += "&lt;";
    else
      attr += c;
  }
  auto replace_all = [](std::string& s, const std::string& from, const std::string& to) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
      s.replace(pos, from.size(), to);
    }
  };
  replace_all(page, "__NSQADMIN_BASE_PATH__", attr);
  replace_all(page, "__NSQADMIN_CONFIG__", cfg);
  resp.status = 200;
  resp.set_header("Content-Type", "text/html");
  resp.body = std::move(page);
}

void AdminService::static_asset(Request& req, Response& resp) {
  const std::string name(req.param("asset"));
  const AdminOptions o = options();
  std::string data;
  bool found = false;
  if (!o.dev_static_dir.empty()) {
    log::debug("using dev dir {:?} for static asset {:?}", o.dev_static_dir, name);
    std::ifstream in(o.dev_static_dir + "/" + name, std::ios::binary);
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      data = ss.str();
      found = true;
    }
  } else if (const StaticAsset* a = find_static_asset(name)) {
    data = std::string(a->data);
    found = true;
  }
  if (!found) {
    if (auto target = reference_asset_replacement(name)) {
      const std::string location = bp("/static/" + std::string(*target));
      resp.status = 301;
      resp.set_header("Location", location);
      resp.set_header("Content-Type", "text/html; charset=utf-8");
      resp.body = "<a href=\"" + location + "\">Moved Permanently</a>.\n\n";
      return;
    }
    http::plain_text(resp, 404, "NOT_FOUND");
    return;
  }
  if (auto ct = content_type_for(name); !ct.empty()) resp.set_header("Content-Type", ct);
  resp.set_header("Cache-Control", "no-cache");
  http::plain_text(resp, 200, std::move(data));
}

// ---- reads ----

void AdminService::topics(Request& req, Response& resp) {
  std::vector<std::string> msgs;
  auto params = http::parse_query(req.raw_query);
  if (!params) {
    http::v1_error(resp, 400, params.error());
    return;
  }
  const AdminOptions o = options();
  CiError err;
  std::vector<std::string> topics = !o.lookupd_http_addresses.empty()
                                        ? ci_.lookupd_topics(o.lookupd_http_addresses, err)
                                        : ci_.nsqd_topics(o.nsqd_http_addresses, err);
  if (upstream_failed(err, "get topics", msgs, resp)) return;

  gocompat::JsonWriter w;
  w.begin_object();
  auto inactive = params->get("inactive");
  if (inactive && *inactive == "true") {
    w.key("topics").begin_object();
    if (!o.lookupd_http_addresses.empty()) {
      for (const auto& [t, channels] :
           ci_.lookupd_inactive_topics(topics, o.lookupd_http_addresses)) {
        w.key(t);
        write_string_list(w, channels, true);
      }
    }
    w.end_object();
  } else {
    w.key("topics");
    write_string_list(w, topics, true);
  }
  w.key("message").string(maybe_warn(msgs));
  w.end_object();
  http::v1_json(resp, w.take());
}

void AdminService::topic(Request& req, Response& resp) {
  std::vector<std::string> msgs;
  const std::string name(req.param("topic"));
  const AdminOptions o = options();
  CiError err;
  auto producers = ci_.topic_producers(name, o.lookupd_http_addresses, o.nsqd_http_addresses, err);
  if (upstream_failed(err, "get topic producers", msgs, resp)) return;
  CiError serr;
  auto stats = ci_.nsqd_stats(producers, name, "", false, serr);
  if (upstream_failed(serr, "get topic metadata", msgs, resp)) return;

  TopicStats all;
  all.topic_name = name;
  for (const auto& t : stats.topics) all.add(t);
  gocompat::JsonWriter w;
  w.begin_object();
  write_topic_fields(w, all);
  w.key("message").string(maybe_warn(msgs));
  w.end_object();
  http::v1_json(resp, w.take());
}

void AdminService::channel(Request& req, Response& resp) {
  std::vector<std::string> msgs;
  const std::string topic(req.param("topic"));
  const std::string channel(req.param("channel"));
  const AdminOptions o = options();
  CiError err;
  auto producers = ci_.topic_producers(topic, o.lookupd_http_addresses, o.nsqd_http_addresses, err);
  if (upstream_failed(err, "get topic producers", msgs, resp)) return;
  CiError serr;
  auto stats = ci_.nsqd_stats(producers, topic, channel, true, serr);
  if (upstream_failed(serr, "get channel metadata", msgs, resp)) return;

  gocompat::JsonWriter w;
  w.begin_object();
  // An unknown channel: the reference embeds a nil struct, so only "message" is written.
  if (auto it = stats.channels.find(channel); it != stats.channels.end()) {
    write_channel_fields(w, *it->second);
  }
  w.key("message").string(maybe_warn(msgs));
  w.end_object();
  http::v1_json(resp, w.take());
}

void AdminService::nodes(Request&, Response& resp) {
  std::vector<std::string> msgs;
  const AdminOptions o = options();
  CiError err;
  auto producers = ci_.producers(o.lookupd_http_addresses, o.nsqd_http_addresses, err);
  if (upstream_failed(err, "get nodes", msgs, resp)) return;
  gocompat::JsonWriter w;
  w.begin_object().key("nodes");
  if (producers.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& p : producers) write_producer(w, *p);
    w.end_array();
  }
  w.key("message").string(maybe_warn(msgs));
  w.end_object();
  http::v1_json(resp, w.take());
}

void AdminService::node(Request& req, Response& resp) {
  std::vector<std::string> msgs;
  const std::string node(req.param("node"));
  const AdminOptions o = options();
  CiError err;
  auto producers = ci_.producers(o.lookupd_http_addresses, o.nsqd_http_addresses, err);
  if (upstream_failed(err, "get producers", msgs, resp)) return;
  ProducerPtr producer;
  for (const auto& p : producers) {
    if (p->http_address() == node) {
      producer = p;
      break;
    }
  }
  if (!producer) {
    http::v1_error(resp, 404, "NODE_NOT_FOUND");
    return;
  }
  CiError serr;
  auto stats = ci_.nsqd_stats({producer}, "", "", true, serr);
  if (serr.fatal_error()) {
    log::error("failed to get nsqd stats - {}", serr.text());
    http::v1_error(resp, 502, "UPSTREAM_ERROR: " + serr.text());
    return;
  }
  int64_t total_clients = 0, total_messages = 0;
  for (const auto& t : stats.topics) {
    for (const auto& c : t->channels) total_clients += static_cast<int64_t>(c->clients.size());
    total_messages += t->message_count;
  }
  gocompat::JsonWriter w;
  w.begin_object();
  w.key("node").string(node);
  w.key("topics");
  if (stats.topics.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& t : stats.topics) write_topic(w, *t);
    w.end_array();
  }
  w.key("total_messages").number(total_messages);
  w.key("total_clients").number(total_clients);
  w.key("message").string(maybe_warn(msgs));
  w.end_object();
  http::v1_json(resp, w.take());
}

void AdminService::counter(Request&, Response& resp) {
  std::vector<std::string> msgs;
  const AdminOptions o = options();
  CiError err;
  auto producers = ci_.producers(o.lookupd_http_addresses, o.nsqd_http_addresses, err);
  if (upstream_failed(err, "get counter producer list", msgs, resp)) return;
  CiError serr;
  auto stats = ci_.nsqd_stats(producers, "", "", false, serr);
  if (upstream_failed(serr, "get nsqd stats", msgs, resp)) return;

  struct Counter {
    std::string node, topic, channel;
    int64_t count = 0;
  };
  std::map<std::string, Counter> counters;  // Go sorts map keys when encoding
  for (const auto& [key, cs] : stats.channels) {
    for (const auto& n : cs->nodes) {
      auto& c = counters[cs->topic_name + ":" + cs->channel_name + ":" + n->node];
      c.node = n->node;
      c.topic = cs->topic_name;
      c.channel = cs->channel_name;
      c.count += n->message_count;
    }
  }
  gocompat::JsonWriter w;
  w.begin_object().key("stats").begin_object();
  for (const auto& [k, c] : counters) {
    w.key(k).begin_object();
    w.key("node").string(c.node);
    w.key("topic_name").string(c.topic);
    w.key("channel_name").string(c.channel);
    w.key("message_count").number(c.count);
    w.end_object();
  }
  w.end_object();
  w.key("message").string(maybe_warn(msgs));
  w.end_object();
  http::v1_json(resp, w.take());
}

void AdminService::graphite(Request& req, Response& resp) {
  auto params = http::parse_query(req.raw_query);
  if (!params) {
    http::v1_error(resp, 400, "INVALID_REQUEST");
    return;
  }
  auto metric = params->get("metric");
  if (!metric || *metric != "rate") {
    http::v1_error(resp, 400, "INVALID_ARG_METRIC");
    return;
  }
  auto target = params->get("target");
  if (!target) {
    http::v1_error(resp, 400, "INVALID_ARG_TARGET");
    return;
  }
  const AdminOptions o = options();
  const int64_t interval =
      std::chrono::duration_cast<std::chrono::seconds>(o.statsd_interval).count();
  // url.Values.Encode: keys sorted.
  const std::string query =
      "format=json&from=" + http::query_escape("-" + std::to_string(interval * 2) + "sec") +
      "&target=" + http::query_escape(*target) +
      "&until=" + http::query_escape("-" + std::to_string(interval) + "sec");
  const std::string url = o.graphite_url + "/render?" + query;
  log::info("GRAPHITE: {}", url);
  auto r = upstream_.call(UpstreamCall{"GET", url, "", {}});
  json j;
  if (r.ok) j = json::parse(r.body, nullptr, false);
  if (!r.ok || j.is_discarded() || !j.is_array() || j.empty() || !j[0].is_object() ||
      !j[0].contains("datapoints") || !j[0]["datapoints"].is_array() ||
      j[0]["datapoints"].empty() || !j[0]["datapoints"][0].is_array() ||
      j[0]["datapoints"][0].empty() || !j[0]["datapoints"][0][0].is_number()) {
    log::error("graphite request failed - {}", r.ok ? "bad response" : r.error);
    http::v1_error(resp, 500, "INTERNAL_ERROR");
    return;
  }
  const double rate = j[0]["datapoints"][0][0].get<double>();
  std::string rate_str = "N/A";
  if (rate >= 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", rate / static_cast<double>(interval ? interval : 1));
    rate_str = buf;
  }
  gocompat::JsonWriter w;
  w.begin_object().key("rate").string(rate_str).end_object();
  http::v1_json(resp, w.take());
}

void AdminService::render_proxy(Request& req, Response& resp) {
  const AdminOptions o = options();
  auto u = http::parse_url(o.graphite_url);
  std::string base = o.graphite_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (u) {
    auto scheme_end = base.find("://");
    auto path_start = base.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    if (path_start != std::string::npos) base = base.substr(0, path_start);
  }
  UpstreamCall c{"GET", base + req.target.substr(req.target.find("/render")), "", {}, false};
  auto r = upstream_.call(std::move(c));
  if (r.status == 0) {
    resp.status = 502;
    return;
  }
  resp.status = r.status;
  resp.set_header("Content-Type", "application/json");
  resp.body = std::move(r.body);
}

// ---- writes ----

void AdminService::tombstone_node_for_topic(Request& req, Response& resp) {
  std::vector<std::string> msgs;
  const auto admin = admin_options(req, resp);
  if (!admin) return;
  const AdminOptions& o = *admin;
  const std::string node(req.param("node"));
  const auto fields = body_fields(req.body, {"topic"});
  if (!fields) {
    http::v1_error(resp, 400, "INVALID_BODY");
    return;
  }
  const std::string& topic = (*fields)[0];
  if (!protocol::is_valid_topic_name(topic)) {
    http::v1_error(resp, 400, "INVALID_TOPIC");
    return;
  }
  auto err = ci_.tombstone_node_for_topic(topic, node, o.lookupd_http_addresses);
  if (upstream_failed(err, "tombstone node for topic", msgs, resp)) return;
  notify("tombstone_topic_producer", topic, "", node, req);
  message_only(resp, msgs);
}

void AdminService::create_topic_channel(Request& req, Response& resp) {
  std::vector<std::string> msgs;
  const auto admin = admin_options(req, resp);
  if (!admin) return;
  const AdminOptions& o = *admin;
  const auto fields = body_fields(req.body, {"topic", "channel"});
  if (!fields) {
    http::v1_error(resp, 400, fields.error());
    return;
  }
  const std::string& topic = (*fields)[0];
  const std::string& channel = (*fields)[1];
  if (!protocol::is_valid_topic_name(topic)) {
    http::v1_error(resp, 400, "INVALID_TOPIC");
    return;
  }
  if (!channel.empty() && !protocol::is_valid_channel_name(channel)) {
    http::v1_error(resp, 400, "INVALID_CHANNEL");
    return;
  }
  auto err = ci_.create_topic_channel(topic, channel, o.lookupd_http_addresses);
  if (upstream_failed(err, "create topic/channel", msgs, resp)) return;
  notify("create_topic", topic, "", "", req);
  if (!channel.empty()) notify("create_channel", topic, channel, "", req);
  message_only(resp, msgs);
}

void AdminService::delete_topic(Request& req, Response& resp) {
  std::vector<std::string> msgs;
  const auto admin = admin_options(req, resp);
  if (!admin) return;
  const AdminOptions& o = *admin;
  const std::string topic(req.param("topic"));
  auto err = ci_.delete_topic(topic, o.lookupd_http_addresses, o.nsqd_http_addresses);
  if (upstream_failed(err, "delete topic", msgs, resp)) return;
  notify("delete_topic", topic, "", "", req);
  message_only(resp, msgs);
}

void AdminService::delete_channel(Request& req, Response& resp) {
  std::vector<std::string> msgs;
  const auto admin = admin_options(req, resp);
  if (!admin) return;
  const AdminOptions& o = *admin;
  const std::string topic(req.param("topic"));
  const std::string channel(req.param("channel"));
  auto err = ci_.delete_channel(topic, channel, o.lookupd_http_addresses, o.nsqd_http_addresses);
  if (upstream_failed(err, "delete channel", msgs, resp)) return;
  notify("delete_channel", topic, channel, "", req);
  message_only(resp, msgs);
}

void AdminService::topic_channel_action(Request& req, Response& resp, bool with_channel) {
  std::vector<std::string> msgs;
  const auto admin = admin_options(req, resp);
  if (!admin) return;
  const AdminOptions& o = *admin;
  const std::string topic(req.param("topic"));
  const std::string channel = with_channel ? std::string(req.param("channel")) : std::string();
  const auto fields = body_fields(req.body, {"action"});
  if (!fields) {
    http::v1_error(resp, 400, fields.error());
    return;
  }
  const std::string& action = (*fields)[0];
  if (action != "pause" && action != "unpause" && action != "empty") {
    http::v1_error(resp, 400, "INVALID_ACTION");
    return;
  }
  const std::string kind = channel.empty() ? "topic" : "channel";
  auto err = ci_.topic_channel_action(topic, channel, kind + "/" + action, o.lookupd_http_addresses,
                                      o.nsqd_http_addresses);
  // The reference notifies before it looks at the outcome.
  notify(action + "_" + kind, topic, channel, "", req);
  if (err.fatal_error()) {
    log::error("failed to {} topic/channel - {}", action, err.text());
    http::v1_error(resp, 502, "UPSTREAM_ERROR: " + err.text());
    return;
  }
  if (err.partial()) {
    log::warn("{}", err.text());
    msgs.push_back(err.text());
  }
  message_only(resp, msgs);
}

// ---- /config ----

void AdminService::config(Request& req, Response& resp) {
  const std::string opt(req.param("opt"));
  AdminOptions o = options();
  if (!o.allow_config_from_cidr.empty()) {
    const std::string& ra = req.remote_address;
    auto colon = ra.rfind(':');
    std::string ip = colon == std::string::npos ? "" : ra.substr(0, colon);
    if (ip.size() >= 2 && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
    Cidr probe;
    if (ip.empty() || !parse_cidr(ip + "/0", probe)) {
      log::error("failed to parse RemoteAddr {}", ra);
      http::v1_error(resp, 400, "INVALID_REMOTE_ADDR");
      return;
    }
    if (!has_config_cidr_ || !config_cidr_.contains(ip)) {
      http::v1_error(resp, 403, "FORBIDDEN");
      return;
    }
  }
  if (req.method_text == "PUT") {
    const size_t read_max = 1024 * 1024 + 1;
    if (req.body.size() >= read_max || req.body.empty()) {
      http::v1_error(resp, 413, "INVALID_VALUE");
      return;
    }
    if (opt == "nsqlookupd_http_addresses") {
      json j = json::parse(req.body, nullptr, false);
      if (j.is_discarded() || !(j.is_array() || j.is_null())) {
        http::v1_error(resp, 400, "INVALID_VALUE");
        return;
      }
      std::vector<std::string> v;
      for (const auto& s : j) {
        if (!s.is_string()) {
          http::v1_error(resp, 400, "INVALID_VALUE");
          return;
        }
        v.push_back(s.get<std::string>());
      }
      std::lock_guard lock(mu_);
      opts_.lookupd_http_addresses = v;
    } else if (opt == "log_level") {
      log::Level level;
      if (!log::parse_level(req.body, level)) {
        http::v1_error(resp, 400, "INVALID_VALUE");
        return;
      }
      log::logger().set_level(level == log::Level::kDebug   ? spdlog::level::debug
                              : level == log::Level::kInfo  ? spdlog::level::info
                              : level == log::Level::kWarn  ? spdlog::level::warn
                              : level == log::Level::kError ? spdlog::level::err
                                                            : spdlog::level::critical);
      std::lock_guard lock(mu_);
      opts_.log_level = req.body;
    } else {
      http::v1_error(resp, 400, "INVALID_OPTION");
      return;
    }
    o = options();
  }
  // A string value is written as is (the reference's RespondV1), anything else as JSON.
  const std::map<std::string, const std::string*> text_opts = {
      {"log_prefix", &o.log_prefix},
      {"http_address", &o.http_address},
      {"base_path", &o.base_path},
      {"dev_static_dir", &o.dev_static_dir},
      {"graphite_url", &o.graphite_url},
      {"statsd_prefix", &o.statsd_prefix},
      {"statsd_counter_format", &o.statsd_counter_format},
      {"statsd_gauge_format", &o.statsd_gauge_format},
      {"http_client_tls_root_ca_file", &o.http_client_tls_root_ca_file},
      {"http_client_tls_cert", &o.http_client_tls_cert},
      {"http_client_tls_key", &o.http_client_tls_key},
      {"allow_config_from_cidr", &o.allow_config_from_cidr},
      {"notification_http_endpoint", &o.notification_http_endpoint},
      {"acl_http_header", &o.acl_http_header},
  };
  if (auto it = text_opts.find(opt); it != text_opts.end()) {
    http::v1_text(resp, *it->second);
    return;
  }
  gocompat::JsonWriter w;
  auto dur = [](Duration d) { return static_cast<int64_t>(d.count()); };
  if (opt == "log_level") {
    w.number(level_number(o.log_level));
  } else if (opt == "proxy_graphite") {
    w.boolean(o.proxy_graphite);
  } else if (opt == "statsd_interval") {
    w.number(dur(o.statsd_interval));
  } else if (opt == "nsqlookupd_http_addresses") {
    write_string_list(w, o.lookupd_http_addresses, false);
  } else if (opt == "nsqd_http_addresses") {
    write_string_list(w, o.nsqd_http_addresses, false);
  } else if (opt == "http_client_connect_timeout") {
    w.number(dur(o.http_client_connect_timeout));
  } else if (opt == "http_client_request_timeout") {
    w.number(dur(o.http_client_request_timeout));
  } else if (opt == "http_client_tls_insecure_skip_verify") {
    w.boolean(o.http_client_tls_insecure_skip_verify);
  } else if (opt == "admin_users") {
    write_string_list(w, o.admin_users, false);
  } else {
    http::v1_error(resp, 400, "INVALID_OPTION");
    return;
  }
  http::v1_json(resp, w.take());
}

}  // namespace nsq::nsqadmin
