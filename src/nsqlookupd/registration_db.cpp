#include "nsqlookupd/registration_db.hpp"

#include <mutex>

namespace nsq::nsqlookupd {

bool Registration::matches(std::string_view c, std::string_view k, std::string_view s) const {
  if (category != c) return false;
  if (k != "*" && key != k) return false;
  if (s != "*" && subkey != s) return false;
  return true;
}

std::vector<Producer> filter_active(std::vector<Producer> producers, int64_t now_ns,
                                    int64_t inactive_timeout_ns, int64_t tombstone_lifetime_ns) {
  std::vector<Producer> out;
  out.reserve(producers.size());
  for (auto& p : producers) {
    const int64_t last = p.peer->last_update_ns.load(std::memory_order_relaxed);
    if (now_ns - last > inactive_timeout_ns || p.is_tombstoned(now_ns, tombstone_lifetime_ns)) {
      continue;
    }
    out.push_back(std::move(p));
  }
  return out;
}

template <typename Map, typename F>
void RegistrationDB::for_each_match(Map& map, std::string_view category, std::string_view key,
                                    std::string_view subkey, F&& f) {
  if (key != "*" && subkey != "*") {
    auto it = map.find(Registration{std::string(category), std::string(key), std::string(subkey)});
    if (it != map.end()) f(it->first, it->second);
    return;
  }
  // Keys sort by (category, key, subkey): a fixed key is one contiguous range, a wildcard key
  // the whole category.
  const bool fixed_key = key != "*";
  auto it = map.lower_bound(
      Registration{std::string(category), fixed_key ? std::string(key) : std::string(), {}});
  for (; it != map.end() && it->first.category == category; ++it) {
    if (fixed_key && it->first.key != key) break;
    if (it->first.matches(category, key, subkey)) f(it->first, it->second);
  }
}

void RegistrationDB::add_registration(const Registration& k) {
  std::unique_lock lock(mu_);
  map_.try_emplace(k);
}

bool RegistrationDB::add_producer(const Registration& k, const PeerPtr& peer) {
  std::unique_lock lock(mu_);
  auto& producers = map_[k];
  auto [it, inserted] = producers.try_emplace(peer->id, Producer{peer});
  if (inserted) by_peer_[peer->id].insert(k);
  return inserted;
}

void RegistrationDB::unindex_locked(const std::string& id, const Registration& k) {
  auto it = by_peer_.find(id);
  if (it == by_peer_.end()) return;
  it->second.erase(k);
  if (it->second.empty()) by_peer_.erase(it);
}

std::pair<bool, size_t> RegistrationDB::remove_producer(const Registration& k,
                                                        const std::string& id) {
  std::unique_lock lock(mu_);
  auto it = map_.find(k);
  if (it == map_.end()) return {false, 0};
  const bool removed = it->second.erase(id) > 0;
  if (removed) unindex_locked(id, k);
  return {removed, it->second.size()};
}

void RegistrationDB::remove_registration(const Registration& k) {
  std::unique_lock lock(mu_);
  auto it = map_.find(k);
  if (it == map_.end()) return;
  for (const auto& [id, p] : it->second) unindex_locked(id, k);
  map_.erase(it);
}

std::vector<Registration> RegistrationDB::find_registrations(std::string_view category,
                                                             std::string_view key,
                                                             std::string_view subkey) const {
  std::shared_lock lock(mu_);
  std::vector<Registration> out;
  for_each_match(map_, category, key, subkey,
                 [&](const Registration& k, const ProducerMap&) { out.push_back(k); });
  return out;
}

std::vector<Producer> RegistrationDB::find_producers(std::string_view category,
                                                     std::string_view key,
                                                     std::string_view subkey) const {
  std::shared_lock lock(mu_);
  std::vector<Producer> out;
  std::set<std::string_view> seen;
  const bool dedupe = key == "*" || subkey == "*";
  for_each_match(map_, category, key, subkey, [&](const Registration&, const ProducerMap& pm) {
    for (const auto& [id, p] : pm) {
      if (dedupe && !seen.insert(id).second) continue;
      out.push_back(p);
    }
  });
  return out;
}

std::vector<Registration> RegistrationDB::lookup_registrations(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = by_peer_.find(id);
  if (it == by_peer_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

size_t RegistrationDB::tombstone_topic_producer(std::string_view topic, std::string_view node,
                                                int64_t now_ns) {
  std::unique_lock lock(mu_);
  size_t marked = 0;
  std::set<std::string_view> seen;
  const bool dedupe = topic == "*";
  // Same walk as find_producers("topic", topic, ""), but marking the DB's own entries.
  for_each_match(map_, kCategoryTopic, topic, "", [&](const Registration&, ProducerMap& pm) {
    for (auto& [id, p] : pm) {
      if (dedupe && !seen.insert(id).second) continue;
      if (p.peer->broadcast_address + ":" + std::to_string(p.peer->http_port) != node) continue;
      p.tombstoned = true;
      p.tombstoned_at_ns = now_ns;
      ++marked;
    }
  });
  return marked;
}

std::vector<NodeRegistrations> RegistrationDB::nodes(int64_t now_ns, int64_t inactive_timeout_ns,
                                                     int64_t tombstone_lifetime_ns) const {
  std::shared_lock lock(mu_);
  std::vector<NodeRegistrations> out;
  auto clients = map_.find(Registration{std::string(kCategoryClient), {}, {}});
  if (clients == map_.end()) return out;
  for (const auto& [id, client] : clients->second) {
    const int64_t last = client.peer->last_update_ns.load(std::memory_order_relaxed);
    if (now_ns - last > inactive_timeout_ns) continue;
    NodeRegistrations node;
    node.peer = client.peer;
    if (auto regs = by_peer_.find(id); regs != by_peer_.end()) {
      for (const auto& k : regs->second) {
        if (k.category != kCategoryTopic || !k.subkey.empty()) continue;
        node.topics.push_back(k.key);
        bool tombstoned = false;
        if (auto m = map_.find(k); m != map_.end()) {
          if (auto p = m->second.find(id); p != m->second.end() && p->second.peer == client.peer) {
            tombstoned = p->second.is_tombstoned(now_ns, tombstone_lifetime_ns);
          }
        }
        node.tombstones.push_back(tombstoned);
      }
    }
    out.push_back(std::move(node));
  }
  return out;
}

std::vector<std::pair<Registration, std::vector<Producer>>> RegistrationDB::dump() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<Registration, std::vector<Producer>>> out;
  for (const auto& [k, pm] : map_) {
    if (pm.empty()) continue;
    std::vector<Producer> producers;
    producers.reserve(pm.size());
    for (const auto& [id, p] : pm) producers.push_back(p);
    out.emplace_back(k, std::move(producers));
  }
  return out;
}

size_t RegistrationDB::size() const {
  std::shared_lock lock(mu_);
  return map_.size();
}

}  // namespace nsq::nsqlookupd
