#include "nsqd/topic.hpp"

#include <algorithm>
#include <chrono>

#include "common/protocol/names.hpp"

namespace nsq::nsqd {

int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Topic::Topic(std::string name, ChannelLimits limits, GuidFactory& guids, EmptyCallback on_empty,
             ChannelEventCallback on_channel_event)
    : name_(std::move(name)),
      ephemeral_(protocol::is_ephemeral_name(name_)),
      limits_(limits),
      guids_(guids),
      on_empty_(std::move(on_empty)),
      on_channel_event_(std::move(on_channel_event)) {}

Topic::~Topic() = default;

int64_t Topic::free_capacity_locked(size_t wanted) const {
  if (ephemeral_) return static_cast<int64_t>(wanted);
  if (channel_list_.empty() || paused_) {
    return std::max<int64_t>(0, limits_.mem_queue_size - static_cast<int64_t>(pending_.size()));
  }
  int64_t room = INT64_MAX;
  for (const auto& ch : channel_list_) room = std::min(room, ch->free_capacity());
  return room;
}

std::string Topic::publish(std::span<const std::string_view> bodies, int64_t defer_ns) {
  std::lock_guard lock(mu_);
  if (exiting_) return "exiting";
  // Until the disk queue exists, memory is the only store: refuse what does not fit rather
  // than drop it, so the publisher knows (E_PUB_FAILED) and nothing acknowledged is lost.
  if (free_capacity_locked(bodies.size()) < static_cast<int64_t>(bodies.size())) {
    return "queue full (mem-queue-size reached)";
  }
  const int64_t ts = wall_now_ns();
  const uint64_t first = guids_.reserve(bodies.size());
  batch_.clear();
  batch_.reserve(bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    batch_.push_back(Message::create(guids_.id_at(first, i), ts, bodies[i]));
    message_bytes_ += bodies[i].size();
  }
  message_count_ += bodies.size();

  if (channel_list_.empty() || paused_) {
    for (auto& m : batch_) {
      if (ephemeral_ && static_cast<int64_t>(pending_.size()) >= limits_.mem_queue_size) break;
      pending_.push_back(Pending{std::move(m), defer_ns});
    }
  } else {
    for (const auto& ch : channel_list_) ch->put(batch_, defer_ns);
  }
  batch_.clear();
  return "";
}

void Topic::flush_pending_locked() {
  if (channel_list_.empty() || paused_) return;
  while (!pending_.empty()) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    const MessagePtr one[] = {p.msg};
    for (const auto& ch : channel_list_) ch->put(one, p.defer_ns);
  }
}

std::shared_ptr<Channel> Topic::get_channel(const std::string& name) {
  std::shared_ptr<Channel> channel;
  {
    std::lock_guard lock(mu_);
    if (exiting_) return nullptr;
    auto it = channels_.find(name);
    if (it != channels_.end()) {
      if (!it->second->exiting()) return it->second;
      // An #ephemeral channel on its way out: replace it.
      channel_list_.erase(std::find(channel_list_.begin(), channel_list_.end(), it->second));
      channels_.erase(it);
    }
    std::weak_ptr<Topic> weak = weak_from_this();
    channel = std::make_shared<Channel>(name_, name, limits_, [weak](Channel& ch) {
      if (auto topic = weak.lock()) topic->delete_channel(ch.name(), &ch);
    });
    channels_.emplace(name, channel);
    channel_list_.push_back(channel);
    flush_pending_locked();
  }
  if (on_channel_event_) on_channel_event_(*this, name, true);
  return channel;
}

std::shared_ptr<Channel> Topic::find_channel(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = channels_.find(name);
  return it == channels_.end() ? nullptr : it->second;
}

bool Topic::delete_channel(const std::string& name, const Channel* only_if) {
  std::shared_ptr<Channel> channel;
  bool now_empty_ephemeral = false;
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(name);
    if (it == channels_.end()) return false;
    if (only_if != nullptr && it->second.get() != only_if) return false;
    channel = it->second;
    channels_.erase(it);
    channel_list_.erase(std::find(channel_list_.begin(), channel_list_.end(), channel));
    now_empty_ephemeral = ephemeral_ && channels_.empty() && !exiting_;
    if (now_empty_ephemeral) exiting_ = true;
  }
  channel->close();
  if (on_channel_event_) on_channel_event_(*this, name, false);
  if (now_empty_ephemeral && on_empty_) on_empty_(*this);
  return true;
}

std::vector<std::shared_ptr<Channel>> Topic::channels() const {
  std::lock_guard lock(mu_);
  return channel_list_;
}

void Topic::pause() {
  std::lock_guard lock(mu_);
  paused_ = true;
}

void Topic::unpause() {
  std::lock_guard lock(mu_);
  paused_ = false;
  flush_pending_locked();
}

bool Topic::paused() const {
  std::lock_guard lock(mu_);
  return paused_;
}

void Topic::empty() {
  std::lock_guard lock(mu_);
  pending_.clear();
}

void Topic::close() {
  std::vector<std::shared_ptr<Channel>> to_close;
  {
    std::lock_guard lock(mu_);
    exiting_ = true;
    pending_.clear();
    to_close.swap(channel_list_);
    channels_.clear();
  }
  for (auto& ch : to_close) ch->close();
}

bool Topic::exiting() const {
  std::lock_guard lock(mu_);
  return exiting_;
}

TopicStats Topic::stats() const {
  std::vector<std::shared_ptr<Channel>> list;
  TopicStats s;
  {
    std::lock_guard lock(mu_);
    s.name = name_;
    s.depth = static_cast<int64_t>(pending_.size());
    s.message_count = message_count_;
    s.message_bytes = message_bytes_;
    s.paused = paused_;
    for (const auto& [n, ch] : channels_) list.push_back(ch);
  }
  for (const auto& ch : list) s.channels.push_back(ch->stats());
  return s;
}

}  // namespace nsq::nsqd
