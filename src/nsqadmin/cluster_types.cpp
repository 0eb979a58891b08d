#include "nsqadmin/cluster_types.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "common/gocompat/go_int.hpp"

namespace nsq::nsqadmin {

using nlohmann::json;

namespace {

int64_t get_int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  if (it->is_number_float()) {
    // Converting a double outside int64's range (or NaN) is undefined behaviour: such a
    // value counts as 0, like a missing one (found by fuzz/nsqadmin_stats_fuzz.cpp).
    const double d = it->get<double>();
    if (!(d >= -0x1p63 && d < 0x1p63)) return 0;
    return static_cast<int64_t>(d);
  }
  if (it->is_number_unsigned()) return static_cast<int64_t>(it->get<uint64_t>());
  return it->get<int64_t>();
}
std::string get_str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
bool get_bool(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}
// nsqd's counts are whatever the peer sent: sums wrap as Go's do (found by
// fuzz/nsqadmin_stats_fuzz.cpp).
void add_wrapping(int64_t& sum, int64_t value) {
  sum = gocompat::go_add(sum, value);
}

double get_double(const json& j) {
  return j.is_number() ? j.get<double>() : 0.0;
}

std::string join_host_port(const std::string& host, int64_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool parse_num(std::string_view s, int64_t& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

SemVer SemVer::parse(const std::string& text) {
  SemVer v;
  std::string core = text;
  std::string pre;
  if (auto plus = core.find('+'); plus != std::string::npos) core = core.substr(0, plus);
  if (auto dash = core.find('-'); dash != std::string::npos) {
    pre = core.substr(dash + 1);
    core = core.substr(0, dash);
  }
  int64_t parts[3];
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    size_t dot = core.find('.', start);
    if ((i < 2) != (dot != std::string::npos)) return SemVer{};
    std::string_view piece(core.data() + start, (i < 2 ? dot : core.size()) - start);
    if (!parse_num(piece, parts[i])) return SemVer{};
    start = dot + 1;
  }
  v.major = parts[0];
  v.minor = parts[1];
  v.patch = parts[2];
  v.has_pre = !pre.empty();
  v.pre = pre;
  return v;
}

bool SemVer::operator<(const SemVer& o) const {
  if (major != o.major) return major < o.major;
  if (minor != o.minor) return minor < o.minor;
  if (patch != o.patch) return patch < o.patch;
  if (has_pre != o.has_pre) return has_pre;  // a pre-release precedes its release
  return pre < o.pre;
}

std::string Producer::http_address() const {
  return join_host_port(broadcast_address, http_port);
}
std::string Producer::tcp_address() const {
  return join_host_port(broadcast_address, tcp_port);
}

Producer Producer::from_lookupd(const json& j) {
  Producer p;
  p.remote_address = get_str(j, "remote_address");
  p.hostname = get_str(j, "hostname");
  p.broadcast_address = get_str(j, "broadcast_address");
  p.tcp_port = get_int(j, "tcp_port");
  p.http_port = get_int(j, "http_port");
  p.version = get_str(j, "version");
  p.version_obj = SemVer::parse(p.version);
  auto t = j.find("topics");
  auto ts = j.find("tombstones");
  if (t != j.end() && t->is_array()) {
    for (size_t i = 0; i < t->size(); ++i) {
      ProducerTopic pt;
      if ((*t)[i].is_string()) pt.topic = (*t)[i].get<std::string>();
      if (ts != j.end() && ts->is_array() && i < ts->size() && (*ts)[i].is_boolean()) {
        pt.tombstoned = (*ts)[i].get<bool>();
      }
      p.topics.push_back(std::move(pt));
    }
  }
  return p;
}

E2ePtr E2eAggregate::from_nsqd(const json& j) {
  if (!j.is_object()) return nullptr;
  auto e = std::make_shared<E2eAggregate>();
  e->count = get_int(j, "count");
  e->topic = get_str(j, "topic");
  e->channel = get_str(j, "channel");
  e->host = get_str(j, "host");
  auto p = j.find("percentiles");
  if (p != j.end() && p->is_array()) {
    e->percentiles_null = false;
    for (const auto& item : *p) {
      std::map<std::string, double> m;
      if (item.is_object()) {
        for (auto it = item.begin(); it != item.end(); ++it) m[it.key()] = get_double(it.value());
      }
      // The reference's UnmarshalJSON seeds the aggregate fields from the node's value.
      const double value = m.count("value") ? m["value"] : 0.0;
      m["min"] = value;
      m["max"] = value;
      m["average"] = value;
      m["count"] = static_cast<double>(e->count);
      e->percentiles.push_back(std::move(m));
    }
  }
  return e;
}

void E2eAggregate::add(const E2eAggregate* o) {
  host = "*";
  if (!o) return;  // the reference would dereference nil here; nsqd always sends the object
  add_wrapping(count, o->count);
  auto val = [](const std::map<std::string, double>& m, const char* k) {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : it->second;
  };
  for (const auto& value : o->percentiles) {
    size_t i = percentiles.size();
    for (size_t j = 0; j < percentiles.size(); ++j) {
      if (val(value, "quantile") == val(percentiles[j], "quantile")) {
        i = j;
        break;
      }
    }
    if (i == percentiles.size()) {
      percentiles.emplace_back();
      percentiles_null = false;
      percentiles[i]["quantile"] = val(value, "quantile");
    }
    auto& p = percentiles[i];
    p["max"] = std::max(val(value, "max"), p["max"]);
    // [quirk] the reference takes min of the two maxima.
    p["min"] = std::min(val(value, "max"), p["max"]);
    p["count"] += val(value, "count");
    if (p["count"] == 0) {
      p["average"] = 0;
      continue;
    }
    const double delta = val(value, "average") - p["average"];
    p["average"] = p["average"] + delta * val(value, "count") / p["count"];
  }
  // The reference then sorts by a key that does not exist: the order is left as is.
}

namespace {

// (to - from) seconds in nanoseconds, saturating at the int64 bounds as Go's time.Time.Sub
// does: an nsqd that reports an absurd connect_ts must not overflow (found by the
// nsqadmin_stats fuzz target).
int64_t seconds_between_as_ns(int64_t from, int64_t to) {
  int64_t seconds = 0;
  int64_t ns = 0;
  if (__builtin_sub_overflow(to, from, &seconds) ||
      __builtin_mul_overflow(seconds, int64_t{1000000000}, &ns)) {
    return to >= from ? INT64_MAX : INT64_MIN;
  }
  return ns;
}

}  // namespace

ClientPtr ClientStats::from_nsqd(const json& j, int64_t now_unix) {
  auto c = std::make_shared<ClientStats>();
  c->node = get_str(j, "node");
  c->remote_address = get_str(j, "remote_address");
  c->version = get_str(j, "version");
  c->client_id = get_str(j, "client_id");
  c->hostname = get_str(j, "hostname");
  c->user_agent = get_str(j, "user_agent");
  c->connect_ts = get_int(j, "connect_ts");
  c->connected_ns = seconds_between_as_ns(c->connect_ts, now_unix);
  c->in_flight_count = get_int(j, "in_flight_count");
  c->ready_count = get_int(j, "ready_count");
  c->finish_count = get_int(j, "finish_count");
  c->requeue_count = get_int(j, "requeue_count");
  c->message_count = get_int(j, "message_count");
  c->sample_rate = get_int(j, "sample_rate");
  c->deflate = get_bool(j, "deflate");
  c->snappy = get_bool(j, "snappy");
  c->authed = get_bool(j, "authed");
  c->auth_identity = get_str(j, "auth_identity");
  c->auth_identity_url = get_str(j, "auth_identity_url");
  c->tls = get_bool(j, "tls");
  c->tls_cipher_suite = get_str(j, "tls_cipher_suite");
  c->tls_version = get_str(j, "tls_version");
  c->tls_negotiated_protocol = get_str(j, "tls_negotiated_protocol");
  c->tls_negotiated_protocol_is_mutual = get_bool(j, "tls_negotiated_protocol_is_mutual");
  return c;
}

ChannelPtr ChannelStats::from_nsqd(const json& j, int64_t now_unix) {
  auto c = std::make_shared<ChannelStats>();
  c->node = get_str(j, "node");
  c->hostname = get_str(j, "hostname");
  c->topic_name = get_str(j, "topic_name");
  c->channel_name = get_str(j, "channel_name");
  c->depth = get_int(j, "depth");
  c->memory_depth = get_int(j, "memory_depth");
  c->backend_depth = get_int(j, "backend_depth");
  c->in_flight_count = get_int(j, "in_flight_count");
  c->deferred_count = get_int(j, "deferred_count");
  c->requeue_count = get_int(j, "requeue_count");
  c->timeout_count = get_int(j, "timeout_count");
  c->message_count = get_int(j, "message_count");
  c->client_count = get_int(j, "client_count");
  c->paused = get_bool(j, "paused");
  if (auto it = j.find("clients"); it != j.end() && it->is_array()) {
    c->clients_null = false;
    for (const auto& cj : *it) c->clients.push_back(ClientStats::from_nsqd(cj, now_unix));
  }
  if (auto it = j.find("e2e_processing_latency"); it != j.end()) {
    c->e2e = E2eAggregate::from_nsqd(*it);
  }
  return c;
}

void ChannelStats::add(const ChannelPtr& a) {
  node = "*";
  add_wrapping(depth, a->depth);
  add_wrapping(memory_depth, a->memory_depth);
  add_wrapping(backend_depth, a->backend_depth);
  add_wrapping(in_flight_count, a->in_flight_count);
  add_wrapping(deferred_count, a->deferred_count);
  add_wrapping(requeue_count, a->requeue_count);
  add_wrapping(timeout_count, a->timeout_count);
  add_wrapping(message_count, a->message_count);
  add_wrapping(client_count, a->client_count);
  if (a->paused) paused = true;
  nodes.push_back(a);
  sort_by_host(nodes);
  if (!e2e) {
    e2e = std::make_shared<E2eAggregate>();
    e2e->host = node;
    e2e->topic = topic_name;
    e2e->channel = channel_name;
  }
  e2e->add(a->e2e.get());
  if (!a->clients.empty()) {
    clients_null = false;
    clients.insert(clients.end(), a->clients.begin(), a->clients.end());
  }
  sort_by_host(clients);
}

TopicPtr TopicStats::from_nsqd(const json& j, int64_t now_unix) {
  auto t = std::make_shared<TopicStats>();
  t->node = get_str(j, "node");
  t->hostname = get_str(j, "hostname");
  t->topic_name = get_str(j, "topic_name");
  t->depth = get_int(j, "depth");
  t->memory_depth = get_int(j, "memory_depth");
  t->backend_depth = get_int(j, "backend_depth");
  t->message_count = get_int(j, "message_count");
  t->paused = get_bool(j, "paused");
  if (j.contains("max_disk_bytes")) {
    t->has_disk_limit = true;
    t->disk_bytes = get_int(j, "disk_bytes");
    t->max_disk_bytes = get_int(j, "max_disk_bytes");
    t->disk_full = get_bool(j, "disk_full");
    t->disk_limit_refused_count = get_int(j, "disk_limit_refused_count");
  }
  if (auto it = j.find("channels"); it != j.end() && it->is_array()) {
    t->channels_null = false;
    for (const auto& cj : *it) t->channels.push_back(ChannelStats::from_nsqd(cj, now_unix));
  }
  if (auto it = j.find("e2e_processing_latency"); it != j.end()) {
    t->e2e = E2eAggregate::from_nsqd(*it);
  }
  return t;
}

void TopicStats::add(const TopicPtr& a) {
  node = "*";
  add_wrapping(depth, a->depth);
  add_wrapping(memory_depth, a->memory_depth);
  add_wrapping(backend_depth, a->backend_depth);
  add_wrapping(message_count, a->message_count);
  if (a->paused) paused = true;
  if (a->has_disk_limit) {
    has_disk_limit = true;  // the cluster's sum: a topic is full when any node's part is
    add_wrapping(disk_bytes, a->disk_bytes);
    add_wrapping(max_disk_bytes, a->max_disk_bytes);
    add_wrapping(disk_limit_refused_count, a->disk_limit_refused_count);
    if (a->disk_full) disk_full = true;
  }
  for (const auto& ac : a->channels) {
    bool found = false;
    for (const auto& c : channels) {
      if (ac->channel_name == c->channel_name) {
        found = true;
        c->add(ac);
      }
    }
    if (!found) {
      channels.push_back(ac);
      channels_null = false;
    }
  }
  nodes.push_back(a);
  sort_by_host(nodes);
  if (!e2e) {
    e2e = std::make_shared<E2eAggregate>();
    e2e->host = node;
    e2e->topic = topic_name;
  }
  e2e->add(a->e2e.get());
}

template <typename T>
static void stable_by_host(std::vector<T>& v) {
  std::stable_sort(v.begin(), v.end(),
                   [](const T& a, const T& b) { return a->hostname < b->hostname; });
}
void sort_by_host(std::vector<TopicPtr>& v) {
  stable_by_host(v);
}
void sort_by_host(std::vector<ChannelPtr>& v) {
  stable_by_host(v);
}
void sort_by_host(std::vector<ClientPtr>& v) {
  stable_by_host(v);
}
void sort_by_host(Producers& v) {
  stable_by_host(v);
}

// ---- encoding ----

// A Go slice: `null` when nil, else `write_one(w, item)` for each element inside [...].
template <class List, class WriteOne>
static void write_slice(gocompat::JsonWriter& w, const List& items, bool nil, WriteOne write_one) {
  if (nil) {
    w.null();
    return;
  }
  w.begin_array();
  for (const auto& item : items) write_one(w, item);
  w.end_array();
}

// The same for slices of pointers (the reference's []*TopicStats and so on).
template <class List, class Write>
static void write_ptr_slice(gocompat::JsonWriter& w, const List& items, bool nil, Write write) {
  write_slice(w, items, nil, [&](gocompat::JsonWriter& out, const auto& p) { write(out, *p); });
}

void write_producer(gocompat::JsonWriter& w, const Producer& p) {
  w.begin_object();
  w.key("remote_addresses");
  write_slice(w, p.remote_addresses, p.remote_addresses.empty(),
              [](gocompat::JsonWriter& out, const std::string& a) { out.string(a); });
  w.key("remote_address").string(p.remote_address);
  w.key("hostname").string(p.hostname);
  w.key("broadcast_address").string(p.broadcast_address);
  w.key("tcp_port").number(p.tcp_port);
  w.key("http_port").number(p.http_port);
  w.key("version").string(p.version);
  w.key("topics");
  write_slice(w, p.topics, p.topics.empty(), [](gocompat::JsonWriter& out, const auto& t) {
    out.begin_object().key("topic").string(t.topic).key("tombstoned").boolean(t.tombstoned);
    out.end_object();
  });
  w.key("out_of_date").boolean(p.out_of_date);
  w.end_object();
}

static void write_e2e(gocompat::JsonWriter& w, const E2eAggregate* e) {
  if (!e) {
    w.null();
    return;
  }
  w.begin_object();
  w.key("count").number(e->count);
  w.key("percentiles");
  write_slice(w, e->percentiles, e->percentiles_null && e->percentiles.empty(),
              [](gocompat::JsonWriter& out, const auto& m) {
                out.begin_object();
                for (const auto& [k, v] : m) out.key(k).number(v);
                out.end_object();
              });
  w.key("topic").string(e->topic);
  w.key("channel").string(e->channel);
  w.key("host").string(e->host);
  w.end_object();
}

static void write_client(gocompat::JsonWriter& w, const ClientStats& c) {
  w.begin_object();
  w.key("node").string(c.node);
  w.key("remote_address").string(c.remote_address);
  w.key("version").string(c.version);
  w.key("client_id").string(c.client_id);
  w.key("hostname").string(c.hostname);
  w.key("user_agent").string(c.user_agent);
  w.key("connect_ts").number(c.connect_ts);
  w.key("connected").number(c.connected_ns);
  w.key("in_flight_count").number(c.in_flight_count);
  w.key("ready_count").number(c.ready_count);
  w.key("finish_count").number(c.finish_count);
  w.key("requeue_count").number(c.requeue_count);
  w.key("message_count").number(c.message_count);
  w.key("sample_rate").number(c.sample_rate);
  w.key("deflate").boolean(c.deflate);
  w.key("snappy").boolean(c.snappy);
  w.key("authed").boolean(c.authed);
  w.key("auth_identity").string(c.auth_identity);
  w.key("auth_identity_url").string(c.auth_identity_url);
  w.key("tls").boolean(c.tls);
  w.key("tls_cipher_suite").string(c.tls_cipher_suite);
  w.key("tls_version").string(c.tls_version);
  w.key("tls_negotiated_protocol").string(c.tls_negotiated_protocol);
  w.key("tls_negotiated_protocol_is_mutual").boolean(c.tls_negotiated_protocol_is_mutual);
  w.end_object();
}

void write_channel_fields(gocompat::JsonWriter& w, const ChannelStats& c) {
  w.key("node").string(c.node);
  w.key("hostname").string(c.hostname);
  w.key("topic_name").string(c.topic_name);
  w.key("channel_name").string(c.channel_name);
  w.key("depth").number(c.depth);
  w.key("memory_depth").number(c.memory_depth);
  w.key("backend_depth").number(c.backend_depth);
  w.key("in_flight_count").number(c.in_flight_count);
  w.key("deferred_count").number(c.deferred_count);
  w.key("requeue_count").number(c.requeue_count);
  w.key("timeout_count").number(c.timeout_count);
  w.key("message_count").number(c.message_count);
  w.key("client_count").number(c.client_count);
  w.key("nodes");
  write_ptr_slice(w, c.nodes, c.nodes.empty(), write_channel);
  w.key("clients");
  write_ptr_slice(w, c.clients, c.clients_null && c.clients.empty(), write_client);
  w.key("paused").boolean(c.paused);
  w.key("e2e_processing_latency");
  write_e2e(w, c.e2e.get());
}

void write_channel(gocompat::JsonWriter& w, const ChannelStats& c) {
  w.begin_object();
  write_channel_fields(w, c);
  w.end_object();
}

void write_topic_fields(gocompat::JsonWriter& w, const TopicStats& t) {
  w.key("node").string(t.node);
  w.key("hostname").string(t.hostname);
  w.key("topic_name").string(t.topic_name);
  w.key("depth").number(t.depth);
  w.key("memory_depth").number(t.memory_depth);
  w.key("backend_depth").number(t.backend_depth);
  w.key("message_count").number(t.message_count);
  w.key("nodes");
  write_ptr_slice(w, t.nodes, t.nodes.empty(), write_topic);
  w.key("channels");
  write_ptr_slice(w, t.channels, t.channels_null && t.channels.empty(), write_channel);
  w.key("paused").boolean(t.paused);
  w.key("e2e_processing_latency");
  write_e2e(w, t.e2e.get());
  if (t.has_disk_limit) {
    w.key("disk_bytes").number(t.disk_bytes);
    w.key("max_disk_bytes").number(t.max_disk_bytes);
    w.key("disk_full").boolean(t.disk_full);
    w.key("disk_limit_refused_count").number(t.disk_limit_refused_count);
  }
}

void write_topic(gocompat::JsonWriter& w, const TopicStats& t) {
  w.begin_object();
  write_topic_fields(w, t);
  w.end_object();
}

}  // namespace nsq::nsqadmin
