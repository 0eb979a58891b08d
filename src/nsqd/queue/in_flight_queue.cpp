#include "nsqd/queue/in_flight_queue.hpp"

#include <algorithm>
#include <array>

namespace nsq::nsqd {

namespace {
// Hex digit values; -1 (sign bit set) for every other byte.
constexpr std::array<int8_t, 256> kHexDigit = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - 'a' + 10);
  return t;
}();
}  // namespace

InFlightQueue::Key InFlightQueue::key_of(const MessageId& id) {
  uint64_t v = 0;
  int8_t invalid = 0;  // any -1 digit sets the sign bit; no branch per character
  for (char c : id) {
    const int8_t d = kHexDigit[static_cast<unsigned char>(c)];
    invalid = static_cast<int8_t>(invalid | d);
    v = (v << 4) | static_cast<uint64_t>(d & 0xF);
  }
  if (invalid >= 0) return Key{v, true};
  // FNV-1a of the bytes; a collision is only a refused duplicate, as ids are compared.
  uint64_t h = 1469598103934665603ULL;
  for (char b : id) h = (h ^ static_cast<unsigned char>(b)) * 1099511628211ULL;
  return Key{h, false};
}

InFlightQueue::Entry* InFlightQueue::find(const MessageId& id, Key key) {
  auto it = entries_.find(key.value);
  if (it == entries_.end()) return nullptr;
  Entry& e = it->second;
  if (!(key.exact && e.exact_key) && e.msg->id() != id) return nullptr;
  return &e;
}

bool InFlightQueue::insert(const MessagePtr& msg, uint16_t attempts, int64_t consumer_id,
                           int64_t now_ns, int64_t timeout_ns) {
  const Key k = key_of(msg->id());
  const uint64_t key = k.value;
  auto [it, inserted] = entries_.try_emplace(key);
  if (!inserted) return false;
  Entry& e = it->second;
  e.msg = msg;
  e.exact_key = k.exact;
  e.attempts = attempts;
  e.consumer_id = consumer_id;
  e.delivered_ns = now_ns;
  e.deadline_ns = now_ns + timeout_ns;
  e.generation = next_generation_++;
  schedule(Timeout{e.deadline_ns, key, e.generation}, timeout_ns);
  return true;
}

void InFlightQueue::schedule(const Timeout& t, int64_t timeout_ns) {
  ++timeout_entries_;
  for (auto& lane : lanes_) {
    if (lane.timeout_ns != timeout_ns) continue;
    if (lane.fifo.empty() || lane.fifo.back().deadline_ns <= t.deadline_ns) {
      lane.fifo.push_back(t);
      return;
    }
    break;  // out of order for its lane (clock or cap): the heap keeps it exact
  }
  const bool has_lane = std::any_of(lanes_.begin(), lanes_.end(),
                                    [&](const Lane& l) { return l.timeout_ns == timeout_ns; });
  if (!has_lane) {
    lanes_.push_back(Lane{timeout_ns, {}});
    lanes_.back().fifo.push_back(t);
    return;
  }
  irregular_.push_back(t);
  std::push_heap(irregular_.begin(), irregular_.end(), std::greater<>());
}

std::optional<std::string_view> InFlightQueue::take(const MessageId& id, int64_t consumer_id,
                                                    Entry& out) {
  const Key key = key_of(id);
  Entry* e = find(id, key);
  if (e == nullptr) return "ID not in flight";
  if (e->consumer_id != consumer_id) return "client does not own message";
  out = std::move(*e);
  entries_.erase(key.value);
  maybe_compact();
  return std::nullopt;
}

std::optional<std::string_view> InFlightQueue::touch(const MessageId& id, int64_t consumer_id,
                                                     int64_t now_ns, int64_t timeout_ns,
                                                     int64_t max_timeout_ns) {
  const Key key = key_of(id);
  Entry* e = find(id, key);
  if (e == nullptr) return "ID not in flight";
  if (e->consumer_id != consumer_id) return "client does not own message";
  int64_t deadline = now_ns + timeout_ns;
  if (deadline - e->delivered_ns >= max_timeout_ns) deadline = e->delivered_ns + max_timeout_ns;
  e->deadline_ns = deadline;
  e->generation = next_generation_++;
  // A capped deadline is earlier than its lane's newest: schedule() routes it to the heap.
  schedule(Timeout{deadline, key.value, e->generation}, timeout_ns);
  maybe_compact();
  return std::nullopt;
}

bool InFlightQueue::is_live(const Timeout& t) const {
  auto it = entries_.find(t.key);
  return it != entries_.end() && it->second.generation == t.generation;
}

void InFlightQueue::maybe_compact() {
  // Stale entries are bounded by the live ones (plus slack), so a message stuck in flight at
  // a lane's front cannot make the lane grow with every later FIN.
  if (timeout_entries_ <= 2 * entries_.size() + 1024) return;
  size_t kept = 0;
  for (auto& lane : lanes_) {
    std::erase_if(lane.fifo, [&](const Timeout& t) { return !is_live(t); });
    kept += lane.fifo.size();
  }
  std::erase_if(lanes_, [](const Lane& l) { return l.fifo.empty(); });
  std::erase_if(irregular_, [&](const Timeout& t) { return !is_live(t); });
  std::make_heap(irregular_.begin(), irregular_.end(), std::greater<>());
  timeout_entries_ = kept + irregular_.size();
}

void InFlightQueue::clear() {
  entries_.clear();
  lanes_.clear();
  irregular_.clear();
  timeout_entries_ = 0;
}

}  // namespace nsq::nsqd
