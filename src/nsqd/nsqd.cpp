#include "nsqd/nsqd.hpp"

#include <algorithm>
#include <chrono>

#include "common/log/logger.hpp"

namespace nsq::nsqd {

Nsqd::Nsqd(NsqdOptions opts)
    : opts_(std::move(opts)), guids_(opts_.node_id), lookupd_addresses_(opts_.lookupd_tcp_addresses) {}

Nsqd::~Nsqd() { close_all(); }

ChannelLimits Nsqd::channel_limits() const {
  ChannelLimits l;
  l.mem_queue_size = opts_.mem_queue_size;
  l.max_msg_timeout_ns = opts_.max_msg_timeout.count();
  l.max_channel_consumers = opts_.max_channel_consumers;
  // The reference keeps the percentile list sorted descending (its flag type sorts it).
  l.e2e_percentiles = opts_.e2e_processing_latency_percentiles;
  std::sort(l.e2e_percentiles.begin(), l.e2e_percentiles.end(), std::greater<>());
  l.e2e_window_ns = opts_.e2e_processing_latency_window_time.count();
  return l;
}

std::shared_ptr<Topic> Nsqd::get_topic(const std::string& name) {
  std::shared_ptr<Topic> topic;
  {
    std::lock_guard lock(mu_);
    if (closing_) return nullptr;
    auto it = topics_.find(name);
    // An exiting entry is an #ephemeral topic on its way out: replace it, as the reference's
    // SUB retry ends up doing.
    if (it != topics_.end() && !it->second->exiting()) return it->second;
    topic = std::make_shared<Topic>(
        name, channel_limits(), guids_,
        [this](Topic& t) {
          log::info("TOPIC({}): deleting (ephemeral, no channels left)", t.name());
          delete_topic(t.name(), &t);
        },
        [this](Topic& t, const std::string& channel, bool created) {
          log::info("TOPIC({}): {} channel({})", t.name(), created ? "created" : "deleted",
                    channel);
          notify(created ? RegistryEvent::Kind::kChannelCreated
                         : RegistryEvent::Kind::kChannelDeleted,
                 t.name(), channel);
        });
    topics_.insert_or_assign(name, topic);
  }
  log::info("TOPIC({}): created", name);
  notify(RegistryEvent::Kind::kTopicCreated, name, "");
  if (channel_source_) {
    for (const auto& channel : channel_source_(name)) {
      // An ephemeral channel only exists while it has consumers.
      if (!channel.ends_with("#ephemeral")) topic->get_channel(channel);
    }
  }
  return topic;
}

void Nsqd::add_registry_observer(RegistryObserver observer) {
  observers_.push_back(std::move(observer));
}

void Nsqd::notify(RegistryEvent::Kind kind, const std::string& topic, const std::string& channel) {
  if (observers_.empty()) return;
  const RegistryEvent event{kind, topic, channel};
  for (const auto& observer : observers_) observer(event);
}

std::shared_ptr<Topic> Nsqd::find_topic(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second;
}

bool Nsqd::delete_topic(const std::string& name, const Topic* only_if) {
  std::shared_ptr<Topic> topic;
  {
    std::lock_guard lock(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return false;
    if (only_if != nullptr && it->second.get() != only_if) return false;
    topic = it->second;
    topics_.erase(it);
  }
  topic->close();
  log::info("TOPIC({}): deleted", name);
  notify(RegistryEvent::Kind::kTopicDeleted, name, "");
  return true;
}

std::vector<std::shared_ptr<Topic>> Nsqd::topics() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Topic>> out;
  out.reserve(topics_.size());
  for (const auto& [name, t] : topics_) out.push_back(t);
  return out;
}

void Nsqd::process_timers(int64_t now_steady_ns) {
  // Every channel is checked every tick: a heap-top comparison per channel is cheap, and
  // timeouts fire within one tick instead of the reference's probabilistic sampling.
  for (const auto& topic : topics()) {
    for (const auto& channel : topic->channels()) channel->process_timers(now_steady_ns);
  }
}

int64_t Nsqd::wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Nsqd::health() const {
  std::lock_guard lock(health_mu_);
  return health_error_.empty() ? std::string("OK") : "NOK - " + health_error_;
}

bool Nsqd::healthy() const {
  std::lock_guard lock(health_mu_);
  return health_error_.empty();
}

void Nsqd::set_health_error(std::string error) {
  std::lock_guard lock(health_mu_);
  health_error_ = std::move(error);
}

std::vector<std::string> Nsqd::lookupd_addresses() const {
  std::lock_guard lock(lookupd_mu_);
  return lookupd_addresses_;
}

void Nsqd::set_lookupd_addresses(std::vector<std::string> addresses) {
  {
    std::lock_guard lock(lookupd_mu_);
    lookupd_addresses_ = addresses;
  }
  for (const auto& observer : lookupd_observers_) observer(addresses);
}

void Nsqd::add_lookupd_addresses_observer(LookupdAddressesObserver observer) {
  lookupd_observers_.push_back(std::move(observer));
}

void Nsqd::add_pause_observer(PauseObserver observer) {
  pause_observers_.push_back(std::move(observer));
}

void Nsqd::notify_paused(const std::string& topic, const std::string& channel) {
  for (const auto& observer : pause_observers_) observer(topic, channel);
}

void Nsqd::close_all() {
  std::map<std::string, std::shared_ptr<Topic>> topics;
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    topics.swap(topics_);
  }
  for (auto& [name, topic] : topics) topic->close();
}

}  // namespace nsq::nsqd
