#include "nsqd/queue/topic.hpp"

#include <algorithm>
#include <chrono>

#include "common/log/logger.hpp"
#include "nsq/protocol/names.hpp"
#include "nsqd/memory/heap_prefaulter.hpp"
#include "nsqd/storage/disk_worker.hpp"
#include "nsqd/storage/group_committer.hpp"

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
      on_channel_event_(std::move(on_channel_event)) {
  if (limits_.disk && limits_.disk->committer && !ephemeral_) {
    // Durable: the log is the topic's only store (no disk queue); channels are cursors.
    durable_ = true;
    TopicLogOptions o;
    o.dir = limits_.disk->data_path + "/" + name_ + ".log";
    o.segment_bytes = limits_.disk->log_segment_bytes;
    if (auto opened = TopicLog::open(o); opened) {
      log_ = std::move(*opened);
      untaken_from_ = log_->start_offset();
    } else {
      log_error_ = opened.error();
      log::error("TOPIC({}): failed to open the durable log - {}", name_, log_error_);
    }
    if (MessageBackend::left_behind(*limits_.disk, name_)) {
      log::warn(
          "TOPIC({}): -durable took over no disk queue {}.diskqueue.* at this start (the "
          "topic was not in nsqd.dat); its messages wait there for the next start",
          name_, name_);
    }
  } else if (limits_.disk && !ephemeral_) {
    if (auto opened = MessageBackend::open(name_, limits_.disk); opened) {
      backend_ = std::move(*opened);
    } else {
      log::error("TOPIC({}): failed to open disk queue - {}", name_, opened.error());
    }
  }
}

namespace {
// Messages one pump moves from the topic's disk queue to its channels.
constexpr size_t kPumpBatch = 256;
// Messages a backlog flush hands to each channel per call.
constexpr size_t kFlushRun = 4096;
}  // namespace

Topic::~Topic() {
  if (log_) limits_.disk->committer->clear_after_sync(log_.get());
}

void Topic::ensure_commit_hook_locked() {
  // Not in the constructor: weak_from_this() is empty until the shared_ptr owns the topic.
  if (!log_ || commit_hook_set_) return;
  commit_hook_set_ = true;
  limits_.disk->committer->set_after_sync(log_.get(), [weak = weak_from_this()] {
    auto self = weak.lock();
    return self ? self->commit_journals() : 0;
  });
}

int Topic::commit_journals() {
  std::vector<std::shared_ptr<Channel>> list;
  uint64_t floor = 0;
  {
    std::lock_guard lock(mu_);
    if (!log_) return 0;
    list = channel_list_;
    // A held backlog is in no channel yet (a new channel's journal may start above it).
    floor = std::min(untaken_from_, backlog_floor_locked());
  }
  const uint64_t synced = log_->synced_offset();
  int fsyncs = 0;
  for (const auto& ch : list) {
    fsyncs += std::max(0, ch->flush_journal(synced));
    if (auto f = ch->journal_floor()) floor = std::min(floor, *f);
  }
  {
    // Never trim at shutdown or deletion: the channel list is gone then, not the channels.
    std::lock_guard lock(mu_);
    if (exiting_) return fsyncs;
  }
  log_->trim_below(floor);
  return fsyncs;
}

int64_t Topic::free_capacity_locked(size_t wanted) const {
  if (ephemeral_ || backend_ || durable_) return static_cast<int64_t>(wanted);
  if (channel_list_.empty() || paused_) {
    return std::max<int64_t>(0, limits_.mem_queue_size - static_cast<int64_t>(pending_.size()));
  }
  int64_t room = INT64_MAX;
  for (const auto& ch : channel_list_) room = std::min(room, ch->free_capacity());
  return room;
}

int64_t Topic::max_disk_bytes() const {
  return limits_.disk && !ephemeral_ ? limits_.disk->max_bytes_per_topic : 0;
}

bool Topic::publish_needs_disk_locked(size_t n, int64_t defer_ns) const {
  if (log_) return true;  // -durable: every message is appended to the log
  if (!backend_) return false;
  const auto wanted = static_cast<int64_t>(n);
  if (channel_list_.empty() || paused_) {
    return wanted > limits_.mem_queue_size - static_cast<int64_t>(pending_.size());
  }
  if (defer_ns > 0) return false;  // deferred messages wait in memory (the deferred heap)
  return std::any_of(channel_list_.begin(), channel_list_.end(),
                     [&](const auto& ch) { return ch->memory_room() < wanted; });
}

int64_t Topic::disk_bytes_locked() const {
  if (log_) return log_->disk_bytes();
  int64_t bytes = backend_ ? backend_->disk_bytes() : 0;
  for (const auto& ch : channel_list_) bytes += ch->disk_bytes();
  return bytes;
}

std::string Topic::publish(std::span<const std::string_view> bodies, int64_t defer_ns,
                           TopicLog::DurableCallback on_durable) {
  std::lock_guard lock(mu_);
  if (exiting_) return "exiting";
  if (durable_ && !log_) return "durable log unavailable: " + log_error_;
  // Without a disk queue (memory-only unit tests) refuse what does not fit rather than drop
  // it, so the publisher knows (E_PUB_FAILED) and nothing acknowledged is lost.
  if (free_capacity_locked(bodies.size()) < static_cast<int64_t>(bodies.size())) {
    return "queue full (mem-queue-size reached)";
  }
  // Checked before anything is stored, so a refusal leaves nothing half-published; what is
  // accepted is written whole even if that takes the topic past the limit (by at most this
  // publish, once per channel; docs/persistence.md, "Disk limits").
  if (const int64_t limit = max_disk_bytes(); limit > 0 &&
                                              publish_needs_disk_locked(bodies.size(), defer_ns) &&
                                              disk_bytes_locked() >= limit) {
    ++disk_limit_refusals_;
    return std::string(kTopicDiskLimitReached);
  }
  const int64_t ts = wall_now_ns();
  const uint64_t first = guids_.reserve(bodies.size());
  batch_.clear();
  batch_.reserve(bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    batch_.push_back(Message::create(guids_.id_at(first, i), ts, bodies[i]));
    batch_.back()->prefetch_successors();
    message_bytes_ += bodies[i].size();
  }
  HeapPrefaulter::note_heap_use();  // the loop above may have grown the heap
  std::string error;
  if (log_) {
    // The log first: a message reaches a channel only once it has its offset (the channel's
    // acks name offsets). "" from here means exactly that `on_durable` will run.
    ensure_commit_hook_locked();
    const int64_t due = defer_ns > 0 ? ts + defer_ns : 0;
    log_batch_.clear();
    for (size_t i = 0; i < batch_.size(); ++i) {
      log_batch_.push_back(LogAppend{batch_[i]->id(), ts, due, bodies[i]});
    }
    const auto first_offset = log_->append(log_batch_, std::move(on_durable));
    if (!first_offset) {
      // Named like a disk queue's write error, for the publisher and for /ping alike.
      error = "write " + log_->dir() + ": " + first_offset.error();
      log::error("TOPIC({}): failed to append to the durable log - {}", name_, error);
      limits_.disk->report_write(error);
      for (auto b : bodies) message_bytes_ -= b.size();
      batch_.clear();
      return error;
    }
    limits_.disk->report_write("");  // a full disk that has room again: /ping OK
    for (size_t i = 0; i < batch_.size(); ++i) batch_[i]->set_log_offset(*first_offset + i);
    limits_.disk->committer->request(log_);
    if (channel_list_.empty() && !holds_backlog_locked()) {
      // No channel yet: the log alone holds them; the first channel starts at untaken_from_.
      message_count_ += bodies.size();
      batch_.clear();
      return "";
    }
    untaken_from_ = log_->next_offset();
  }
  message_count_ += bodies.size();

  if (log_ && (channel_list_.empty() || paused_)) {
    hold_in_backlog_locked(defer_ns);  // the log has them: no disk write can fail here
    batch_.clear();
    return "";
  }

  if (channel_list_.empty() || paused_) {
    const auto room = static_cast<size_t>(
        std::max<int64_t>(0, limits_.mem_queue_size - static_cast<int64_t>(pending_.size())));
    size_t in_memory = batch_.size();
    if (backend_ && batch_.size() > room) {
      // The overflow goes to disk first, so a failed write leaves nothing half-published.
      in_memory = room;
      std::vector<MessageBackend::Outgoing> out;
      out.reserve(batch_.size() - room);
      const int64_t due = defer_ns > 0 ? wall_now_ns() + defer_ns : 0;
      for (size_t i = room; i < batch_.size(); ++i) {
        out.push_back(MessageBackend::Outgoing{batch_[i].get(), 0, due});
      }
      error = backend_->write(out);
      if (!error.empty()) {
        message_count_ -= bodies.size();
        for (auto b : bodies) message_bytes_ -= b.size();
        batch_.clear();
        return error;
      }
    }
    for (size_t i = 0; i < in_memory; ++i) {
      // Ephemeral topics have no disk: past the memory bound they drop [compat].
      if (ephemeral_ && static_cast<int64_t>(pending_.size()) >= limits_.mem_queue_size) break;
      pending_.push_back(Pending{std::move(batch_[i]), defer_ns});
    }
  } else {
    // A failed disk write on one channel does not stop the others: the publisher sees the
    // error and retries, so a channel may get a message twice but none loses it.
    for (const auto& ch : channel_list_) {
      std::string e = ch->put(batch_, defer_ns);
      if (error.empty()) error = std::move(e);
    }
  }
  batch_.clear();
  return error;
}

void Topic::hold_in_backlog_locked(int64_t defer_ns) {
  for (auto& m : batch_) {
    const bool in_memory =
        defer_ns > 0 ||
        (overflow_.empty() && static_cast<int64_t>(pending_.size()) < limits_.mem_queue_size);
    if (in_memory) {
      // DPUBs always: a channel's log refill skips DPUB records (they go to its deferred heap).
      pending_.push_back(Pending{std::move(m), defer_ns});
      continue;
    }
    overflow_.add(m->log_offset());
  }
}

uint64_t Topic::backlog_floor_locked() const {
  uint64_t floor = overflow_.empty() ? UINT64_MAX : overflow_.from;
  // pending_ is in publish order: its front has its lowest offset.
  if (!pending_.empty() && pending_.front().msg->log_offset() != Message::kNoLogOffset) {
    floor = std::min(floor, pending_.front().msg->log_offset());
  }
  return floor;
}

void Topic::hand_overflow_locked() {
  if (overflow_.empty()) return;
  for (const auto& ch : channel_list_) {
    // #ephemeral channels have no journal and drop past --mem-queue-size anyway [compat]:
    // they get pending_ only.
    if (ch->ephemeral()) continue;
    if (!ch->take_log_range(overflow_)) {
      put_overflow_from_log_locked(*ch);
    }
  }
  overflow_.clear();
}

void Topic::put_overflow_from_log_locked(Channel& ch) {
  // Rare (a journal that could not be opened): reads under the topic lock, and the channel
  // holds the whole overflow in memory, as it held all of pending_ before the bound.
  std::vector<LogRecord> records;
  std::vector<MessagePtr> run;
  for (uint64_t at = overflow_.from; at < overflow_.end;) {
    records.clear();
    if (auto read = log_->read(at, std::min<uint64_t>(kFlushRun, overflow_.end - at), records);
        !read || records.empty()) {
      log::error("TOPIC({}): failed to read the paused backlog for channel {} at {} - {}", name_,
                 ch.name(), at, read ? "nothing read" : read.error());
      return;
    }
    run.clear();
    for (const auto& r : records) {
      at = r.offset + 1;
      if (r.offset >= overflow_.end) break;
      if (r.due_ns != 0) continue;  // DPUBs went through pending_
      run.push_back(Message::create(r.id, r.timestamp_ns, r.body));
      run.back()->set_log_offset(r.offset);
    }
    if (std::string e = ch.put(run, 0); !e.empty()) {
      log::error("TOPIC({}): failed to put msg to channel - {}", name_, e);
    }
  }
}

void Topic::flush_pending_locked() {
  if (channel_list_.empty() || paused_) return;
  // Runs under the topic lock, on the thread that created the first channel or unpaused:
  // hand the backlog over in runs that share a defer, so each channel is locked once per
  // run rather than once per message: 5 M messages into a first channel took 321 ms, now
  // 190 ms. Still a stall for huge --mem-queue-size backlogs (docs/architecture.md).
  std::vector<MessagePtr> run;
  run.reserve(std::min(pending_.size(), kFlushRun));
  while (!pending_.empty()) {
    const int64_t defer_ns = pending_.front().defer_ns;
    run.clear();
    while (!pending_.empty() && run.size() < kFlushRun && pending_.front().defer_ns == defer_ns) {
      run.push_back(std::move(pending_.front().msg));
      pending_.pop_front();
    }
    put_to_channels_locked(run, defer_ns);
  }
  hand_overflow_locked();  // after pending_: every overflow offset is above pending_'s
  maybe_pump_locked();
}

void Topic::put_to_channels_locked(std::span<const MessagePtr> msgs, int64_t defer_ns) {
  for (const auto& ch : channel_list_) {
    if (std::string e = ch->put(msgs, defer_ns); !e.empty()) {
      log::error("TOPIC({}): failed to put msg to channel - {}", name_, e);
    }
  }
}

void Topic::maybe_pump_locked() {
  if (!backend_ || pump_pending_ || exiting_ || channel_list_.empty() || paused_) return;
  if (!limits_.disk->worker || !backend_->has_data()) return;
  pump_pending_ = true;
  limits_.disk->worker->post([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->pump_backend();
  });
}

void Topic::pump_if_due() {
  std::lock_guard lock(mu_);
  retry_listed_ = false;  // pump_backend lists the topic again if it still reads nothing
  maybe_pump_locked();
}

void Topic::pump_backend() {
  {
    std::lock_guard lock(mu_);
    if (exiting_ || channel_list_.empty() || paused_) {
      pump_pending_ = false;
      return;
    }
  }
  std::vector<MessageBackend::Incoming> got;
  backend_->read(kPumpBatch, got);
  std::lock_guard lock(mu_);
  pump_pending_ = false;
  if (exiting_) return;
  if (got.empty()) {
    // Nothing read although the queue is not empty (a corrupt file was just set aside): the
    // timer loop retries on its next tick, rather than spinning here.
    if (!retry_listed_ && limits_.topic_retries != nullptr && backend_->has_data()) {
      retry_listed_ = true;
      limits_.topic_retries->add(shared_from_this());
    }
    return;
  }
  if (channel_list_.empty() || paused_) {
    // The channels went away meanwhile: keep the messages in memory until they come back.
    for (auto& in : got) pending_.push_back(Pending{std::move(in.msg), in.defer_ns});
    return;
  }
  std::vector<MessagePtr> now_batch;
  now_batch.reserve(got.size());
  for (auto& in : got) {
    if (in.defer_ns > 0) {
      const MessagePtr one[] = {in.msg};
      put_to_channels_locked(one, in.defer_ns);
    } else {
      now_batch.push_back(std::move(in.msg));
    }
  }
  put_to_channels_locked(now_batch, 0);
  maybe_pump_locked();
}

void Topic::sync_backends_if_dirty() {
  if (backend_) backend_->sync_if_dirty();
  for (const auto& ch : channels()) ch->sync_backend_if_dirty();
}

void Topic::notify_metadata_changed() {
  if (limits_.disk && limits_.disk->metadata_changed && !ephemeral_) {
    limits_.disk->metadata_changed();
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
    if (log_) {
      ensure_commit_hook_locked();
      // The first channel takes what no channel took; a later one starts at the log end, as
      // the reference's channels only see messages published after they exist.
      const bool first = std::none_of(channel_list_.begin(), channel_list_.end(),
                                      [](const auto& c) { return !c->ephemeral(); });
      // While a backlog is held (paused) a new channel gets it at unpause, as every channel
      // of the reference's paused topic does; its journal starts at the backlog (crashes).
      channel->attach_log(log_, first ? untaken_from_ : log_->next_offset(),
                          backlog_floor_locked());
      untaken_from_ = log_->next_offset();
    }
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
  log::info("TOPIC({}): deleting channel {}", name_, name);
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
  {
    std::lock_guard lock(mu_);
    paused_ = true;
  }
  notify_metadata_changed();
}

void Topic::unpause() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
    flush_pending_locked();
  }
  notify_metadata_changed();
}

bool Topic::paused() const {
  std::lock_guard lock(mu_);
  return paused_;
}

void Topic::empty() {
  {
    std::lock_guard lock(mu_);
    pending_.clear();
    overflow_.clear();
    if (log_) untaken_from_ = log_->next_offset();
  }
  if (backend_) backend_->empty();
}

void Topic::empty_channel(Channel& channel) {
  if (!log_) {
    channel.empty();  // a disk queue's truncation: not under the topic lock
    return;
  }
  std::lock_guard lock(mu_);
  channel.empty(backlog_floor_locked());
}

void Topic::close() {
  // The reference's messagePump goroutine ends first and says so (nsqd/topic.go).
  log::info("TOPIC({}): closing ... messagePump", name_);
  std::vector<std::shared_ptr<Channel>> to_close;
  {
    std::lock_guard lock(mu_);
    exiting_ = true;
    pending_.clear();
    overflow_.clear();
    to_close.swap(channel_list_);
    channels_.clear();
  }
  for (auto& ch : to_close) ch->close();
  if (backend_) backend_->remove();
  if (log_) log_->remove_all();  // a topic created again under this name starts empty
}

void Topic::shutdown() {
  std::vector<std::shared_ptr<Channel>> to_flush;
  std::deque<Pending> pending;
  {
    std::lock_guard lock(mu_);
    if (exiting_) return;
    exiting_ = true;
    pending.swap(pending_);
    to_flush.swap(channel_list_);
    channels_.clear();
  }
  log::info("TOPIC({}): closing", name_);
  log::info("TOPIC({}): closing ... messagePump", name_);
  if (backend_ && !pending.empty()) {
    log::info("TOPIC({}): flushing {} memory messages to backend", name_, pending.size());
    std::vector<MessageBackend::Outgoing> out;
    out.reserve(pending.size());
    const int64_t wall = wall_now_ns();
    for (const auto& p : pending) {
      out.push_back(
          MessageBackend::Outgoing{p.msg.get(), 0, p.defer_ns > 0 ? wall + p.defer_ns : 0});
    }
    if (std::string e = backend_->write(out); !e.empty()) {
      log::error("TOPIC({}): failed to flush messages to backend - {}", name_, e);
    }
  }
  for (auto& ch : to_flush) ch->shutdown();
  if (backend_) backend_->close();
  if (log_) {
    // What was FINed before the shutdown is not delivered again after the restart.
    log_->sync();
    const uint64_t synced = log_->synced_offset();
    for (auto& ch : to_flush) ch->flush_journal(synced);
  }
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
    // -durable: the held overflow is the topic's "on disk" part, as a disk queue's depth.
    s.backend_depth = backend_ ? backend_->depth() : overflow_.count;
    s.depth = static_cast<int64_t>(pending_.size()) + s.backend_depth;
    // Durable without a channel: the log holds what the first channel will get.
    if (log_ && channel_list_.empty()) {
      s.depth += static_cast<int64_t>(log_->next_offset() - untaken_from_);
    }
    s.message_count = message_count_;
    s.message_bytes = message_bytes_;
    s.paused = paused_;
    s.max_disk_bytes = max_disk_bytes();
    if (s.max_disk_bytes > 0) {
      s.disk_bytes = disk_bytes_locked();
      s.disk_full = s.disk_bytes >= s.max_disk_bytes;
      s.disk_limit_refusals = disk_limit_refusals_;
    }
    for (const auto& [n, ch] : channels_) list.push_back(ch);
  }
  for (const auto& ch : list) s.channels.push_back(ch->stats());
  return s;
}

}  // namespace nsq::nsqd
