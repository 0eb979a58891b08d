// RegistrationDB: nsqlookupd's only state (the reference's nsqlookupd/registration_db.go). A
// registration key (category, key, subkey) — ("client","",""), ("topic",t,""), ("channel",t,c) —
// maps to the producers registered under it, by peer id (the nsqd connection's remote "ip:port").
// Each entry shares the peer's PeerInfo but has its own tombstone, so tombstoning a node for one
// topic leaves its other topics alone. Keys outlive their producers (a topic stays listed
// until deleted over HTTP), as in the reference.
//
// Beyond the reference: keys are kept ordered, so "every channel of topic t" is a range scan
// instead of a walk over the whole map, and a reverse index (peer id -> its keys) makes a
// disconnect and /nodes cost O(registrations of that peer) rather than O(all keys).
//
// Owner: Nsqlookupd. Threads: every TCP connection and HTTP handler; a shared_mutex guards
// the maps (readers are the common case: /lookup polls), PeerInfo::last_update is atomic.
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nsq::nsqlookupd {

// Go's time.Time{}.UnixNano(): what /debug shows as `tombstoned_at` for a never-tombstoned
// producer.
inline constexpr int64_t kGoZeroTimeUnixNano = -6795364578871345152LL;

inline constexpr std::string_view kCategoryClient = "client";
inline constexpr std::string_view kCategoryTopic = "topic";
inline constexpr std::string_view kCategoryChannel = "channel";

struct Registration {
  std::string category;
  std::string key;
  std::string subkey;

  auto operator<=>(const Registration&) const = default;
  bool operator==(const Registration&) const = default;
  // The reference's IsMatch: "*" in key or subkey matches anything.
  bool matches(std::string_view category, std::string_view key, std::string_view subkey) const;
};

// An identified nsqd, shared by all of its registrations.
struct PeerInfo {
  std::string id;  // remote "ip:port" of its lookupd connection
  std::string remote_address;
  std::string hostname;
  std::string broadcast_address;
  int64_t tcp_port = 0;
  int64_t http_port = 0;
  std::string version;
  std::atomic<int64_t> last_update_ns{0};  // wall clock, unix ns: IDENTIFY and every PING
};
using PeerPtr = std::shared_ptr<PeerInfo>;

// One peer under one registration key (a snapshot when returned by the DB).
struct Producer {
  PeerPtr peer;
  bool tombstoned = false;
  int64_t tombstoned_at_ns = kGoZeroTimeUnixNano;

  bool is_tombstoned(int64_t now_ns, int64_t lifetime_ns) const {
    return tombstoned && now_ns - tombstoned_at_ns < lifetime_ns;
  }
};

// FilterByActive: pinged within `inactive_timeout_ns` and not tombstoned within
// `tombstone_lifetime_ns` (0 keeps tombstoned producers).
std::vector<Producer> filter_active(std::vector<Producer> producers, int64_t now_ns,
                                    int64_t inactive_timeout_ns, int64_t tombstone_lifetime_ns);

// What /nodes shows for one peer: its topics and, per topic, whether it is tombstoned there.
struct NodeRegistrations {
  PeerPtr peer;
  std::vector<std::string> topics;
  std::vector<bool> tombstones;
};

class RegistrationDB {
 public:
  // Adds a key with no producers (HTTP /topic/create, /channel/create).
  void add_registration(const Registration& k);
  // Adds `peer` under `k` (creating the key); false if it was already there.
  bool add_producer(const Registration& k, const PeerPtr& peer);
  // Removes peer `id` from `k`: (was it there, producers left under k). The key stays.
  std::pair<bool, size_t> remove_producer(const Registration& k, const std::string& id);
  // Removes a key and all its producers.
  void remove_registration(const Registration& k);

  // Keys of `category` matching key/subkey ("*" = any), in key order.
  std::vector<Registration> find_registrations(std::string_view category, std::string_view key,
                                               std::string_view subkey) const;
  // Producers under the matching keys, one per peer id (the first key in order wins).
  std::vector<Producer> find_producers(std::string_view category, std::string_view key,
                                       std::string_view subkey) const;
  // Every key peer `id` is registered under.
  std::vector<Registration> lookup_registrations(const std::string& id) const;

  // Tombstones, for `topic`, every producer whose "<broadcast_address>:<http_port>" is `node`;
  // returns how many were marked.
  size_t tombstone_topic_producer(std::string_view topic, std::string_view node, int64_t now_ns);

  // /nodes: every active peer of the "client" key with its topics and tombstone flags.
  std::vector<NodeRegistrations> nodes(int64_t now_ns, int64_t inactive_timeout_ns,
                                       int64_t tombstone_lifetime_ns) const;
  // /debug: every key that has producers, with them.
  std::vector<std::pair<Registration, std::vector<Producer>>> dump() const;

  size_t size() const;

 private:
  using ProducerMap = std::map<std::string, Producer, std::less<>>;
  using RegistrationMap = std::map<Registration, ProducerMap>;

  // Calls f(key, producers) for every key matching (category, key, subkey); `Map` is
  // RegistrationMap or const RegistrationMap.
  template <typename Map, typename F>
  static void for_each_match(Map& map, std::string_view category, std::string_view key,
                             std::string_view subkey, F&& f);
  void unindex_locked(const std::string& id, const Registration& k);

  mutable std::shared_mutex mu_;
  RegistrationMap map_;
  std::map<std::string, std::set<Registration>, std::less<>> by_peer_;
};

}  // namespace nsq::nsqlookupd
