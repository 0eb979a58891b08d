#include "nsqadmin/cluster_info.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "common/gocompat/go_int.hpp"
#include "common/gocompat/go_json.hpp"
#include "common/http/query.hpp"
#include "common/log/logger.hpp"
#include "common/util/result.hpp"

namespace nsq::nsqadmin {

using nlohmann::json;

std::string CiError::text() const {
  if (kind == Kind::kFatal) return fatal;
  std::string out;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i) out += "\n";
    out += errors[i];
  }
  return out;
}

bool CiError::absorb(const CiError& other) {
  if (other.kind == Kind::kFatal) {
    *this = other;
    return false;
  }
  if (other.kind == Kind::kPartial) {
    kind = Kind::kPartial;
    errors.insert(errors.end(), other.errors.begin(), other.errors.end());
  }
  return true;
}

namespace {

// Go's json.Unmarshal into a struct: the body must be valid JSON; its error text otherwise.
util::Result<json> decode(const UpstreamResult& r) {
  if (!r.ok) return util::fail(r.error);
  if (auto e = gocompat::go_json_syntax_error(r.body); !e.empty()) return util::fail(e);
  json out = json::parse(gocompat::go_json_coerce_utf8(r.body), nullptr, false);
  if (out.is_discarded()) return util::fail("invalid JSON");
  if (!out.is_object()) {
    return util::fail("json: cannot unmarshal " +
                      std::string(out.is_array() ? "array" : out.type_name()) +
                      " into Go value of type struct");
  }
  return out;
}

// The loop every fan-out runs over its answers: `use(i, body)` for each answer i that decodes,
// the error text of each other one appended to `errs` (for finish()).
template <class Use>
void decode_each(const std::vector<UpstreamResult>& results, std::vector<std::string>& errs,
                 Use&& use) {
  for (size_t i = 0; i < results.size(); ++i) {
    auto j = decode(results[i]);
    if (!j) {
      errs.push_back(j.error());
      continue;
    }
    use(i, *j);
  }
}

// The end of a fan-out: all failed -> fatal, some failed -> partial.
void finish(CiError& err, const std::vector<std::string>& errs, size_t total, const char* what) {
  if (errs.size() == total) {
    err.kind = CiError::Kind::kFatal;
    std::string list;
    for (size_t i = 0; i < errs.size(); ++i) list += (i ? "\n" : "") + errs[i];
    err.fatal = std::string("failed to query any ") + what + ": " + list;
  } else if (!errs.empty()) {
    err.kind = CiError::Kind::kPartial;
    err.errors = errs;
  } else {
    err.kind = CiError::Kind::kNone;
  }
}

std::vector<UpstreamCall> gets(const std::vector<std::string>& addrs, const std::string& path) {
  std::vector<UpstreamCall> calls;
  for (const auto& a : addrs) calls.push_back(UpstreamCall{"GET", "http://" + a + path, "", {}});
  return calls;
}

std::vector<std::string> strings_of(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& s : *it) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

std::vector<std::string> topic_names(const json& stats) {
  std::vector<std::string> out;
  auto it = stats.find("topics");
  if (it == stats.end() || !it->is_array()) return out;
  for (const auto& t : *it) {
    if (t.is_object()) out.push_back(t.value("topic_name", std::string()));
  }
  return out;
}

// A fan-out whose every answer lists names (topics): their sorted union, or nothing on a fatal
// error.
template <class NamesOf>
std::vector<std::string> names_union(const std::vector<UpstreamResult>& results, const char* what,
                                     CiError& err, NamesOf names_of) {
  std::vector<std::string> errs;
  std::set<std::string> names;
  decode_each(results, errs, [&](size_t, const json& j) {
    for (auto& n : names_of(j)) names.insert(std::move(n));
  });
  finish(err, errs, results.size(), what);
  if (err.fatal_error()) return {};
  return {names.begin(), names.end()};
}

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::vector<std::string> ClusterInfo::lookupd_topics(const std::vector<std::string>& lookupds,
                                                     CiError& err) {
  return names_union(up_.call_all(gets(lookupds, "/topics")), "nsqlookupd", err,
                     [](const json& j) { return strings_of(j, "topics"); });
}

Producers ClusterInfo::lookupd_producers(const std::vector<std::string>& lookupds, CiError& err) {
  auto results = up_.call_all(gets(lookupds, "/nodes"));
  std::vector<std::string> errs;
  Producers producers;
  std::map<std::string, ProducerPtr> by_addr;
  SemVer max_version;
  decode_each(results, errs, [&](size_t i, const json& j) {
    auto it = j.find("producers");
    if (it == j.end() || !it->is_array()) return;
    for (const auto& pj : *it) {
      auto producer = std::make_shared<Producer>(Producer::from_lookupd(pj));
      const std::string key = producer->tcp_address();
      auto found = by_addr.find(key);
      ProducerPtr p;
      if (found == by_addr.end()) {
        by_addr[key] = producer;
        producers.push_back(producer);
        if (max_version < producer->version_obj) max_version = producer->version_obj;
        std::stable_sort(producer->topics.begin(), producer->topics.end(),
                         [](const auto& a, const auto& b) { return a.topic < b.topic; });
        p = producer;
      } else {
        p = found->second;
      }
      p->remote_addresses.push_back(lookupds[i] + "/" + producer->address());
    }
  });
  finish(err, errs, lookupds.size(), "nsqlookupd");
  if (err.fatal_error()) return {};
  for (auto& p : producers) {
    if (p->version_obj < max_version) p->out_of_date = true;
  }
  sort_by_host(producers);
  return producers;
}

Producers ClusterInfo::lookupd_topic_producers(const std::string& topic,
                                               const std::vector<std::string>& lookupds,
                                               CiError& err) {
  auto results = up_.call_all(gets(lookupds, "/lookup?topic=" + http::query_escape(topic)));
  std::vector<std::string> errs;
  Producers producers;
  decode_each(results, errs, [&](size_t, const json& j) {
    auto it = j.find("producers");
    if (it == j.end() || !it->is_array()) return;
    for (const auto& pj : *it) {
      auto p = std::make_shared<Producer>(Producer::from_lookupd(pj));
      bool dup = false;
      for (const auto& pp : producers) dup = dup || pp->http_address() == p->http_address();
      if (!dup) producers.push_back(p);
    }
  });
  finish(err, errs, lookupds.size(), "nsqlookupd");
  if (err.fatal_error()) return {};
  return producers;
}

std::map<std::string, std::vector<std::string>> ClusterInfo::lookupd_inactive_topics(
    const std::vector<std::string>& topics, const std::vector<std::string>& lookupds) {
  std::vector<UpstreamCall> calls;
  for (const auto& t : topics) {
    for (auto& c : gets(lookupds, "/lookup?topic=" + http::query_escape(t))) {
      calls.push_back(std::move(c));
    }
  }
  auto results = up_.call_all(std::move(calls));
  std::vector<std::string> inactive;
  for (size_t i = 0; i < topics.size(); ++i) {
    bool has_producers = false;
    for (size_t k = 0; k < lookupds.size(); ++k) {
      auto j = decode(results[i * lookupds.size() + k]);
      if (!j) continue;
      auto it = j->find("producers");
      if (it != j->end() && it->is_array() && !it->empty()) has_producers = true;
    }
    if (!has_producers) inactive.push_back(topics[i]);
  }
  calls.clear();
  for (const auto& t : inactive) {
    for (auto& c : gets(lookupds, "/channels?topic=" + http::query_escape(t))) {
      calls.push_back(std::move(c));
    }
  }
  results = up_.call_all(std::move(calls));
  std::map<std::string, std::vector<std::string>> out;
  for (size_t i = 0; i < inactive.size(); ++i) {
    std::set<std::string> channels;
    for (size_t k = 0; k < lookupds.size(); ++k) {
      auto j = decode(results[i * lookupds.size() + k]);
      if (!j) continue;
      for (auto& c : strings_of(*j, "channels")) channels.insert(std::move(c));
    }
    out[inactive[i]] = std::vector<std::string>(channels.begin(), channels.end());
  }
  return out;
}

std::vector<std::string> ClusterInfo::nsqd_topics(const std::vector<std::string>& nsqds,
                                                  CiError& err) {
  return names_union(up_.call_all(gets(nsqds, "/stats?format=json")), "nsqd", err, topic_names);
}

namespace {

ProducerPtr producer_from_info(const json& info, const std::vector<std::string>& topics) {
  auto p = std::make_shared<Producer>();
  p->version = info.value("version", std::string());
  p->version_obj = SemVer::parse(p->version);
  p->broadcast_address = info.value("broadcast_address", std::string());
  p->hostname = info.value("hostname", std::string());
  p->http_port = info.value("http_port", int64_t{0});
  p->tcp_port = info.value("tcp_port", int64_t{0});
  for (const auto& t : topics) p->topics.push_back(ProducerTopic{t, false});
  return p;
}

}  // namespace

Producers ClusterInfo::nsqd_producers(const std::vector<std::string>& nsqds, CiError& err) {
  // /info of every nsqd at once, then /stats of those that answered: like the reference's
  // per-node sequence, a dead or slow node costs one timeout.
  auto infos = up_.call_all(gets(nsqds, "/info"));
  std::vector<std::string> errs;
  std::vector<json> info_json(nsqds.size());
  std::vector<size_t> alive;
  std::vector<std::string> alive_addrs;
  decode_each(infos, errs, [&](size_t i, const json& info) {
    info_json[i] = info;
    alive.push_back(i);
    alive_addrs.push_back(nsqds[i]);
  });
  auto stats = up_.call_all(gets(alive_addrs, "/stats?format=json&include_clients=false"));
  Producers producers;
  decode_each(stats, errs, [&](size_t k, const json& st) {
    producers.push_back(producer_from_info(info_json[alive[k]], topic_names(st)));
  });
  finish(err, errs, nsqds.size(), "nsqd");
  if (err.fatal_error()) return {};
  return producers;
}

Producers ClusterInfo::nsqd_topic_producers(const std::string& topic,
                                            const std::vector<std::string>& nsqds, CiError& err) {
  auto stats = up_.call_all(gets(
      nsqds, "/stats?format=json&topic=" + http::query_escape(topic) + "&include_clients=false"));
  std::vector<std::string> errs;
  std::vector<size_t> having;
  std::vector<std::vector<std::string>> names(nsqds.size());
  decode_each(stats, errs, [&](size_t i, const json& st) {
    names[i] = topic_names(st);
    if (std::find(names[i].begin(), names[i].end(), topic) != names[i].end()) having.push_back(i);
  });
  std::vector<std::string> addrs;
  for (size_t i : having) addrs.push_back(nsqds[i]);
  auto infos = up_.call_all(gets(addrs, "/info"));
  Producers producers;
  decode_each(infos, errs, [&](size_t k, const json& info) {
    auto p = producer_from_info(info, names[having[k]]);
    const std::string& addr = addrs[k];
    const size_t colon = addr.rfind(':');
    if (p->broadcast_address.empty()) {
      // Older nsqd: the address we reached it at.
      p->broadcast_address = addr.substr(0, colon);
      p->http_port = std::atoll(addr.substr(colon + 1).c_str());
    }
    if (p->hostname.empty()) p->hostname = addr.substr(0, colon);
    producers.push_back(p);
  });
  finish(err, errs, nsqds.size(), "nsqd");
  if (err.fatal_error()) return {};
  return producers;
}

ChannelStatsResult ClusterInfo::nsqd_stats(const Producers& producers, const std::string& topic,
                                           const std::string& channel, bool include_clients,
                                           CiError& err) {
  std::vector<UpstreamCall> calls;
  for (const auto& p : producers) {
    std::string url = "http://" + p->http_address() + "/stats?format=json";
    if (!topic.empty()) {
      url += "&topic=" + http::query_escape(topic);
      if (!channel.empty()) url += "&channel=" + http::query_escape(channel);
    }
    if (!include_clients) url += "&include_clients=false";
    calls.push_back(UpstreamCall{"GET", url, "", {}});
  }
  auto results = up_.call_all(std::move(calls));
  const int64_t now = now_unix();
  std::vector<std::string> errs;
  ChannelStatsResult out;
  decode_each(results, errs, [&](size_t i, const json& j) {
    const auto& p = producers[i];
    const std::string addr = p->http_address();
    auto it = j.find("topics");
    if (it == j.end() || !it->is_array()) return;
    for (const auto& tj : *it) {
      auto t = TopicStats::from_nsqd(tj, now);
      t->node = addr;
      t->hostname = p->hostname;
      t->memory_depth = gocompat::go_sub(t->depth, t->backend_depth);
      if (!topic.empty() && t->topic_name != topic) continue;
      out.topics.push_back(t);
      for (auto& c : t->channels) {
        c->node = addr;
        c->hostname = p->hostname;
        c->topic_name = t->topic_name;
        c->memory_depth = gocompat::go_sub(c->depth, c->backend_depth);
        const std::string key =
            topic.empty() ? t->topic_name + ":" + c->channel_name : c->channel_name;
        auto& agg = out.channels[key];
        if (!agg) {
          agg = std::make_shared<ChannelStats>();
          agg->node = addr;
          agg->topic_name = t->topic_name;
          agg->channel_name = c->channel_name;
          out.channel_order.push_back(key);
        }
        for (auto& cl : c->clients) cl->node = addr;
        agg->add(c);
      }
    }
  });
  finish(err, errs, producers.size(), "nsqd");
  if (err.fatal_error()) return {};
  sort_by_host(out.topics);
  return out;
}

Producers ClusterInfo::producers(const std::vector<std::string>& lookupds,
                                 const std::vector<std::string>& nsqds, CiError& err) {
  if (!lookupds.empty()) return lookupd_producers(lookupds, err);
  return nsqd_producers(nsqds, err);
}

Producers ClusterInfo::topic_producers(const std::string& topic,
                                       const std::vector<std::string>& lookupds,
                                       const std::vector<std::string>& nsqds, CiError& err) {
  if (!lookupds.empty()) return lookupd_topic_producers(topic, lookupds, err);
  return nsqd_topic_producers(topic, nsqds, err);
}

CiError ClusterInfo::post_all(const std::vector<std::string>& addrs, const std::string& uri,
                              const std::string& qs) {
  std::vector<UpstreamCall> calls;
  for (const auto& a : addrs) {
    calls.push_back(UpstreamCall{"POST", "http://" + a + "/" + uri + "?" + qs, "", {}});
  }
  auto results = up_.call_all(std::move(calls));
  CiError err;
  for (const auto& r : results) {
    if (!r.ok) {
      err.kind = CiError::Kind::kPartial;
      err.errors.push_back(r.error);
    }
  }
  return err;
}

namespace {
std::vector<std::string> http_addrs(const Producers& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p->http_address());
  return out;
}
}  // namespace

CiError ClusterInfo::tombstone_node_for_topic(const std::string& topic, const std::string& node,
                                              const std::vector<std::string>& lookupds) {
  CiError errs;
  const std::string qs = "topic=" + http::query_escape(topic) + "&node=" + http::query_escape(node);
  if (!errs.absorb(post_all(lookupds, "topic/tombstone", qs))) return errs;
  CiError perr;
  auto producers = nsqd_producers({node}, perr);
  if (!errs.absorb(perr)) return errs;
  if (!errs.absorb(
          post_all(http_addrs(producers), "topic/delete", "topic=" + http::query_escape(topic)))) {
    return errs;
  }
  return errs;
}

CiError ClusterInfo::create_topic_channel(const std::string& topic, const std::string& channel,
                                          const std::vector<std::string>& lookupds) {
  CiError errs;
  if (!errs.absorb(post_all(lookupds, "topic/create", "topic=" + http::query_escape(topic)))) {
    return errs;
  }
  if (!channel.empty()) {
    const std::string qs =
        "topic=" + http::query_escape(topic) + "&channel=" + http::query_escape(channel);
    if (!errs.absorb(post_all(lookupds, "channel/create", qs))) return errs;
    CiError perr;
    auto producers = lookupd_topic_producers(topic, lookupds, perr);
    if (!errs.absorb(perr)) return errs;
    if (!errs.absorb(post_all(http_addrs(producers), "channel/create", qs))) return errs;
  }
  return errs;
}

CiError ClusterInfo::delete_topic(const std::string& topic,
                                  const std::vector<std::string>& lookupds,
                                  const std::vector<std::string>& nsqds) {
  CiError errs;
  CiError perr;
  auto producers = topic_producers(topic, lookupds, nsqds, perr);
  if (!errs.absorb(perr)) return errs;
  const std::string qs = "topic=" + http::query_escape(topic);
  if (!errs.absorb(post_all(lookupds, "topic/delete", qs))) return errs;
  if (!errs.absorb(post_all(http_addrs(producers), "topic/delete", qs))) return errs;
  return errs;
}

CiError ClusterInfo::delete_channel(const std::string& topic, const std::string& channel,
                                    const std::vector<std::string>& lookupds,
                                    const std::vector<std::string>& nsqds) {
  CiError errs;
  CiError perr;
  auto producers = topic_producers(topic, lookupds, nsqds, perr);
  if (!errs.absorb(perr)) return errs;
  const std::string qs =
      "topic=" + http::query_escape(topic) + "&channel=" + http::query_escape(channel);
  if (!errs.absorb(post_all(lookupds, "channel/delete", qs))) return errs;
  if (!errs.absorb(post_all(http_addrs(producers), "channel/delete", qs))) return errs;
  return errs;
}

CiError ClusterInfo::topic_channel_action(const std::string& topic, const std::string& channel,
                                          const std::string& uri,
                                          const std::vector<std::string>& lookupds,
                                          const std::vector<std::string>& nsqds) {
  CiError errs;
  CiError perr;
  auto producers = topic_producers(topic, lookupds, nsqds, perr);
  if (!errs.absorb(perr)) return errs;
  std::string qs = "topic=" + http::query_escape(topic);
  if (!channel.empty()) qs += "&channel=" + http::query_escape(channel);
  errs.absorb(post_all(http_addrs(producers), uri, qs));
  return errs;
}

}  // namespace nsq::nsqadmin
