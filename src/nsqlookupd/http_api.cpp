#include "nsqlookupd/http_api.hpp"

#include <map>
#include <optional>
#include <string>

#include "common/gocompat/json_writer.hpp"
#include "common/http/query.hpp"
#include "common/log/logger.hpp"
#include "nsq/protocol/names.hpp"

namespace nsq::nsqlookupd {

namespace {

// The reference reads no request bodies; 1 MiB bounds what a connection can make us buffer.
constexpr uint64_t kBodyLimit = 1 << 20;

// Query parameters the way http_api.NewReqParams reads them; nullopt = answered 400.
std::optional<http::QueryParams> params_or_400(const http::Request& req, http::Response& resp) {
  auto params = http::parse_query(req.raw_query);
  if (!params) {
    http::v1_error(resp, 400, "INVALID_REQUEST");
    return std::nullopt;
  }
  return std::move(*params);
}

// http_api.GetTopicChannelArgs: its error text is the message.
bool topic_channel_args(const http::QueryParams& q, http::Response& resp, std::string& topic,
                        std::string& channel) {
  auto t = q.get("topic");
  if (!t) return http::v1_error(resp, 400, "MISSING_ARG_TOPIC"), false;
  if (!protocol::is_valid_topic_name(*t))
    return http::v1_error(resp, 400, "INVALID_ARG_TOPIC"), false;
  auto c = q.get("channel");
  if (!c) return http::v1_error(resp, 400, "MISSING_ARG_CHANNEL"), false;
  if (!protocol::is_valid_channel_name(*c)) {
    return http::v1_error(resp, 400, "INVALID_ARG_CHANNEL"), false;
  }
  topic = std::string(*t);
  channel = std::string(*c);
  return true;
}

// PeerInfo's JSON fields in the reference's struct order.
void write_peer_fields(gocompat::JsonWriter& w, const PeerInfo& p) {
  w.key("remote_address").string(p.remote_address);
  w.key("hostname").string(p.hostname);
  w.key("broadcast_address").string(p.broadcast_address);
  w.key("tcp_port").number(p.tcp_port);
  w.key("http_port").number(p.http_port);
  w.key("version").string(p.version);
}

void write_string_array(gocompat::JsonWriter& w, const std::vector<std::string>& items) {
  w.begin_array();
  for (const auto& s : items) w.string(s);
  w.end_array();
}

Registration topic_key(std::string topic) {
  return Registration{std::string(kCategoryTopic), std::move(topic), {}};
}

}  // namespace

LookupHttpService::LookupHttpService(Nsqlookupd& lookupd)
    : RoutedService(kBodyLimit), lookupd_(lookupd) {
  auto bind = [this](void (LookupHttpService::*fn)(http::Request&, http::Response&)) {
    return [this, fn](http::Request& req, http::Response& resp) { (this->*fn)(req, resp); };
  };
  add("GET", "/ping", bind(&LookupHttpService::ping));
  add("GET", "/info", bind(&LookupHttpService::info));
  add("GET", "/debug", bind(&LookupHttpService::debug));
  add("GET", "/lookup", bind(&LookupHttpService::lookup));
  add("GET", "/topics", bind(&LookupHttpService::topics));
  add("GET", "/channels", bind(&LookupHttpService::channels));
  add("GET", "/nodes", bind(&LookupHttpService::nodes));
  add("POST", "/topic/create", bind(&LookupHttpService::create_topic));
  add("POST", "/topic/delete", bind(&LookupHttpService::delete_topic));
  add("POST", "/channel/create", bind(&LookupHttpService::create_channel));
  add("POST", "/channel/delete", bind(&LookupHttpService::delete_channel));
  add("POST", "/topic/tombstone", bind(&LookupHttpService::tombstone_topic_producer));
}

void LookupHttpService::ping(http::Request&, http::Response& resp) {
  http::plain_text(resp, 200, "OK");
}

void LookupHttpService::info(http::Request&, http::Response& resp) {
  gocompat::JsonWriter w;
  w.begin_object().key("version").string(NSQ_COMPAT_VERSION).end_object();
  http::v1_json(resp, w.take());
}

void LookupHttpService::topics(http::Request&, http::Response& resp) {
  std::vector<std::string> names;
  for (auto& r : lookupd_.db().find_registrations(kCategoryTopic, "*", "")) {
    names.push_back(std::move(r.key));
  }
  gocompat::JsonWriter w;
  w.begin_object().key("topics");
  write_string_array(w, names);
  w.end_object();
  http::v1_json(resp, w.take());
}

void LookupHttpService::channels(http::Request& req, http::Response& resp) {
  auto q = params_or_400(req, resp);
  if (!q) return;
  auto topic = q->get("topic");
  if (!topic) return http::v1_error(resp, 400, "MISSING_ARG_TOPIC");
  std::vector<std::string> names;
  for (auto& r : lookupd_.db().find_registrations(kCategoryChannel, *topic, "*")) {
    names.push_back(std::move(r.subkey));
  }
  gocompat::JsonWriter w;
  w.begin_object().key("channels");
  write_string_array(w, names);
  w.end_object();
  http::v1_json(resp, w.take());
}

void LookupHttpService::lookup(http::Request& req, http::Response& resp) {
  auto q = params_or_400(req, resp);
  if (!q) return;
  auto topic = q->get("topic");
  if (!topic) return http::v1_error(resp, 400, "MISSING_ARG_TOPIC");
  auto& db = lookupd_.db();
  if (db.find_registrations(kCategoryTopic, *topic, "").empty()) {
    return http::v1_error(resp, 404, "TOPIC_NOT_FOUND");
  }
  std::vector<std::string> channels;
  for (auto& r : db.find_registrations(kCategoryChannel, *topic, "*")) {
    channels.push_back(std::move(r.subkey));
  }
  const auto producers =
      filter_active(db.find_producers(kCategoryTopic, *topic, ""), unix_now_ns(),
                    lookupd_.inactive_timeout_ns(), lookupd_.tombstone_lifetime_ns());
  gocompat::JsonWriter w;
  w.begin_object().key("channels");
  write_string_array(w, channels);
  w.key("producers").begin_array();
  for (const auto& p : producers) {
    w.begin_object();
    write_peer_fields(w, *p.peer);
    w.end_object();
  }
  w.end_array().end_object();
  http::v1_json(resp, w.take());
}

void LookupHttpService::nodes(http::Request&, http::Response& resp) {
  // Tombstoned producers stay listed here (with their flags); only inactive ones are hidden.
  const auto nodes = lookupd_.db().nodes(unix_now_ns(), lookupd_.inactive_timeout_ns(),
                                         lookupd_.tombstone_lifetime_ns());
  gocompat::JsonWriter w;
  w.begin_object().key("producers").begin_array();
  for (const auto& n : nodes) {
    w.begin_object();
    write_peer_fields(w, *n.peer);
    w.key("tombstones").begin_array();
    for (bool t : n.tombstones) w.boolean(t);
    w.end_array();
    w.key("topics");
    write_string_array(w, n.topics);
    w.end_object();
  }
  w.end_array().end_object();
  http::v1_json(resp, w.take());
}

void LookupHttpService::debug(http::Request&, http::Response& resp) {
  // A Go map of maps: outer keys "category:key:subkey" sorted, inner keys sorted too.
  auto dump = lookupd_.db().dump();
  std::map<std::string, const std::vector<Producer>*> sorted;
  for (const auto& [k, producers] : dump) {
    sorted.emplace(k.category + ":" + k.key + ":" + k.subkey, &producers);
  }
  gocompat::JsonWriter w;
  w.begin_object();
  for (const auto& [key, producers] : sorted) {
    w.key(key).begin_array();
    for (const auto& p : *producers) {
      const PeerInfo& peer = *p.peer;
      w.begin_object();
      w.key("broadcast_address").string(peer.broadcast_address);
      w.key("hostname").string(peer.hostname);
      w.key("http_port").number(peer.http_port);
      w.key("id").string(peer.id);
      w.key("last_update").number(peer.last_update_ns.load(std::memory_order_relaxed));
      w.key("tcp_port").number(peer.tcp_port);
      w.key("tombstoned").boolean(p.tombstoned);
      w.key("tombstoned_at").number(p.tombstoned_at_ns);
      w.key("version").string(peer.version);
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  http::v1_json(resp, w.take());
}

void LookupHttpService::create_topic(http::Request& req, http::Response& resp) {
  auto q = params_or_400(req, resp);
  if (!q) return;
  auto topic = q->get("topic");
  if (!topic) return http::v1_error(resp, 400, "MISSING_ARG_TOPIC");
  if (!protocol::is_valid_topic_name(*topic)) return http::v1_error(resp, 400, "INVALID_ARG_TOPIC");
  log::info("DB: adding topic({})", *topic);
  lookupd_.db().add_registration(topic_key(std::string(*topic)));
  http::v1_empty(resp);
}

void LookupHttpService::delete_topic(http::Request& req, http::Response& resp) {
  auto q = params_or_400(req, resp);
  if (!q) return;
  auto topic = q->get("topic");
  if (!topic) return http::v1_error(resp, 400, "MISSING_ARG_TOPIC");
  auto& db = lookupd_.db();
  for (const auto& r : db.find_registrations(kCategoryChannel, *topic, "*")) {
    log::info("DB: removing channel({}) from topic({})", r.subkey, *topic);
    db.remove_registration(r);
  }
  for (const auto& r : db.find_registrations(kCategoryTopic, *topic, "")) {
    log::info("DB: removing topic({})", *topic);
    db.remove_registration(r);
  }
  http::v1_empty(resp);
}

void LookupHttpService::tombstone_topic_producer(http::Request& req, http::Response& resp) {
  auto q = params_or_400(req, resp);
  if (!q) return;
  auto topic = q->get("topic");
  if (!topic) return http::v1_error(resp, 400, "MISSING_ARG_TOPIC");
  auto node = q->get("node");
  if (!node) return http::v1_error(resp, 400, "MISSING_ARG_NODE");
  log::info("DB: setting tombstone for producer@{} of topic({})", *node, *topic);
  lookupd_.db().tombstone_topic_producer(*topic, *node, unix_now_ns());
  http::v1_empty(resp);
}

void LookupHttpService::create_channel(http::Request& req, http::Response& resp) {
  auto q = params_or_400(req, resp);
  if (!q) return;
  std::string topic, channel;
  if (!topic_channel_args(*q, resp, topic, channel)) return;
  auto& db = lookupd_.db();
  log::info("DB: adding channel({}) in topic({})", channel, topic);
  db.add_registration(Registration{std::string(kCategoryChannel), topic, channel});
  log::info("DB: adding topic({})", topic);
  db.add_registration(topic_key(topic));
  http::v1_empty(resp);
}

void LookupHttpService::delete_channel(http::Request& req, http::Response& resp) {
  auto q = params_or_400(req, resp);
  if (!q) return;
  std::string topic, channel;
  if (!topic_channel_args(*q, resp, topic, channel)) return;
  auto& db = lookupd_.db();
  const auto regs = db.find_registrations(kCategoryChannel, topic, channel);
  if (regs.empty()) return http::v1_error(resp, 404, "CHANNEL_NOT_FOUND");
  log::info("DB: removing channel({}) from topic({})", channel, topic);
  for (const auto& r : regs) db.remove_registration(r);
  http::v1_empty(resp);
}

}  // namespace nsq::nsqlookupd
