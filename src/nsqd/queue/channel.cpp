#include "nsqd/queue/channel.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "common/log/logger.hpp"
#include "nsq/protocol/names.hpp"
#include "nsqd/storage/disk_worker.hpp"
#include "nsqd/storage/group_committer.hpp"

namespace nsq::nsqd {

namespace {
// Most messages one refill moves from disk to memory. Refills take only what ready consumers
// can take, so a queue nobody reads stays on disk (durable) instead of moving into memory.
constexpr size_t kRefillBatch = 256;

int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t coarse_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Channel::Channel(std::string topic_name, std::string name, ChannelLimits limits,
                 EmptyCallback on_ephemeral_empty)
    : topic_name_(std::move(topic_name)),
      name_(std::move(name)),
      ephemeral_(protocol::is_ephemeral_name(name_)),
      limits_(limits),
      on_ephemeral_empty_(std::move(on_ephemeral_empty)),
      e2e_(limits_.e2e_percentiles.empty()
               ? nullptr
               : std::make_unique<E2eLatency>(limits_.e2e_percentiles, limits_.e2e_window_ns)),
      durable_(limits_.disk && limits_.disk->committer != nullptr && !ephemeral_) {
  // Ephemeral channels never touch the disk: past the memory bound they drop [compat].
  // Durable channels read the topic log instead of keeping a disk queue (attach_log).
  if (durable_ && MessageBackend::left_behind(*limits_.disk, topic_name_ + ":" + name_)) {
    log::warn(
        "CHANNEL({}): -durable took over no disk queue {}:{}.diskqueue.* at this start (the "
        "channel was not in nsqd.dat); its messages wait there for the next start",
        name_, topic_name_, name_);
  }
  if (limits_.disk && !ephemeral_ && !durable_) {
    // The reference names a channel's queue "<topic>:<channel>".
    // Held until FIN: a message read from disk and in memory or in flight at a crash is
    // delivered again after the restart, not lost.
    auto opened =
        MessageBackend::open(topic_name_ + ":" + name_, limits_.disk, /*hold_until_ack=*/true);
    if (opened) {
      backend_ = std::move(*opened);
    } else {
      log::error("CHANNEL({}): failed to open disk queue - {}", name_, opened.error());
    }
  }
}

Channel::~Channel() = default;

bool Channel::attach_log(const std::shared_ptr<TopicLog>& log, uint64_t start_if_new,
                         uint64_t held_from) {
  if (!durable_ || !log) return false;
  auto opened = ChannelJournal::open(log->dir(), name_);
  if (!opened) {
    log::error("CHANNEL({}): failed to open the ack journal - {}", name_, opened.error());
    return false;
  }
  std::unique_ptr<ChannelJournal> journal = std::move(*opened);
  // A new journal's name must be durable before any publish after this point gets its OK.
  if (!journal->existed()) log->directory_changed();
  AckState state = journal->durable_state();
  uint64_t read_from = state.floor;
  if (!state.started) {
    // A journal that exists without its START lost it in a crash before the commit cycle
    // wrote it: start at the log's first offset (duplicates, never a loss).
    const uint64_t start =
        journal->existed() ? log->start_offset() : std::min(start_if_new, held_from);
    journal->record(AckRecord::kStart, start);
    state.apply(AckRecord::kStart, start, 0);
    // A new channel takes the held backlog from its topic at unpause, not from the log now.
    read_from = journal->existed() ? start : start_if_new;
  }
  // Rebuild the backlog: every offset from the floor that is not acknowledged. In flight at
  // a crash means not acknowledged, so those come back too.
  const uint64_t end = log->next_offset();
  const int64_t wall = wall_clock_ns();
  const int64_t steady = coarse_now_ns();
  std::vector<LogRecord> records;
  size_t queued = 0;
  size_t deferred = 0;
  std::lock_guard lock(mu_);
  for (uint64_t at = read_from; at < end;) {
    records.clear();
    if (auto read = log->read(at, 1024, records); !read) {
      log::error("CHANNEL({}): failed to read the topic log at {} - {}", name_, at, read.error());
      break;
    }
    if (records.empty()) break;
    for (auto& r : records) {
      at = r.offset + 1;
      const auto req = state.deferred.find(r.offset);
      const bool held = r.due_ns != 0 || req != state.deferred.end();
      if (state.is_acked(r.offset)) {
        if (has_tail_locked()) tail_skip_.insert(r.offset);
        continue;
      }
      ++message_count_;
      const bool to_tail = !held && (has_tail_locked() ||
                                     static_cast<int64_t>(queue_.size()) >= limits_.mem_queue_size);
      if (to_tail) {
        tail_.add(r.offset);
        continue;
      }
      // Deferred ones (and DPUBs already due) stay in memory: the refill skips them.
      if (held && has_tail_locked() && req != state.deferred.end()) tail_skip_.insert(r.offset);
      MessagePtr m = Message::create(r.id, r.timestamp_ns, r.body);
      m->set_log_offset(r.offset);
      const int64_t due = req != state.deferred.end() ? req->second : r.due_ns;
      if (due > wall) {
        defer_locked(Queued{std::move(m), 0}, steady + (due - wall));
        ++deferred;
      } else {
        queue_.push_back(Queued{std::move(m), 0});
        ++queued;
      }
    }
  }
  if (queued + deferred + static_cast<size_t>(tail_.count) > 0) {
    log::info(
        "CHANNEL({}): recovered {} messages in memory, {} in the log and {} deferred from the "
        "topic log (floor {})",
        name_, queued, tail_.count, deferred, state.floor);
  }
  log_ = log;
  journal_ = std::move(journal);
  return true;
}

int Channel::flush_journal(uint64_t synced) {
  ChannelJournal* journal = nullptr;
  {
    std::lock_guard lock(mu_);
    journal = journal_.get();
  }
  if (journal == nullptr) return 0;
  const auto fsyncs = journal->flush(synced);
  if (!fsyncs) {
    log::error("CHANNEL({}): failed to write the ack journal - {}", name_, fsyncs.error());
    return -1;
  }
  return *fsyncs;
}

std::optional<uint64_t> Channel::journal_floor() const {
  std::lock_guard lock(mu_);
  if (!journal_) return std::nullopt;
  return journal_->durable_floor();
}

bool Channel::take_log_range(const LogRange& range) {
  std::lock_guard lock(mu_);
  if (exiting_) return true;  // deleted meanwhile: nothing to hand over
  if (!log_ || (has_tail_locked() && range.from < tail_.end)) return false;
  // Every record between the tail's end and range.from is a DPUB (the refill skips it) or was
  // put into this tail already: the topic hands its held backlog over in log order.
  tail_.append(range);
  message_count_ += static_cast<uint64_t>(range.count);
  dispatch_locked(coarse_now_ns());
  return true;
}

size_t Channel::log_refill_target_locked() const {
  if (!log_ || paused_ || exiting_ || !has_tail_locked()) return 0;
  // Memory up to --mem-queue-size, or what the ready consumers can take now when that is
  // more (--mem-queue-size=0 still delivers), at most kRefillBatch per read.
  int64_t capacity = 0;
  for (const auto& slot : consumers_) capacity += slot.consumer->ready_capacity();
  const int64_t room = std::max(limits_.mem_queue_size, capacity);
  const int64_t want =
      std::min(room - static_cast<int64_t>(queue_.size()), static_cast<int64_t>(kRefillBatch));
  return want > 0 ? static_cast<size_t>(want) : 0;
}

void Channel::refill_from_log() {
  size_t want = 0;
  uint64_t from = 0;
  uint64_t end = 0;
  uint64_t epoch = 0;
  {
    std::lock_guard lock(mu_);
    want = log_refill_target_locked();
    if (want == 0) {
      refill_pending_ = false;
      return;
    }
    from = tail_.from;
    end = tail_.end;
    epoch = epoch_;
  }
  // Read without the channel lock (a cold segment may take a while). Skipped offsets make a
  // refill deliver fewer than `want`; the next dispatch asks for more.
  thread_local std::vector<LogRecord> records;
  records.clear();
  const auto read = log_->read(from, std::min<uint64_t>(want, end - from), records);
  std::lock_guard lock(mu_);
  refill_pending_ = false;
  if (!read || records.empty()) {
    // The timer loop retries (process_timers); never a spin on a failing read.
    if (!read) {
      log::error("CHANNEL({}): failed to read the topic log at {} - {}", name_, from, read.error());
    }
    note_timer_work_locked();
    return;
  }
  if (exiting_ || epoch != epoch_ || tail_.from != from) return;  // emptied or deleted meanwhile
  uint64_t next = from;
  for (auto& r : records) {
    if (r.offset >= end) break;
    next = r.offset + 1;
    // A DPUB went to the deferred heap when it was put; acked/deferred ones before a restart.
    if (r.due_ns != 0 || tail_skip_.erase(r.offset) > 0) continue;
    MessagePtr m = Message::create(r.id, r.timestamp_ns, r.body);
    m->set_log_offset(r.offset);
    queue_.push_back(Queued{std::move(m), 0});
    --tail_.count;
  }
  records.clear();
  tail_.from = next;
  tail_skip_.erase(tail_skip_.begin(), tail_skip_.lower_bound(tail_.from));
  if (!has_tail_locked()) {
    tail_.count = 0;
    tail_skip_.clear();
  }
  dispatch_locked(coarse_now_ns());
}

void Channel::record_locked(AckRecord type, const Message& msg, int64_t due_wall_ns) {
  if (!journal_ || msg.log_offset() == Message::kNoLogOffset) return;
  journal_->record(type, msg.log_offset(), due_wall_ns);
  // The commit thread writes it with the next cycle (one fsync for every FIN meanwhile).
  limits_.disk->committer->request(log_);
}

int64_t Channel::free_capacity() const {
  std::lock_guard lock(mu_);
  // Durable: past --mem-queue-size the log tail takes them (put).
  if (ephemeral_ || backend_ || durable_) return INT64_MAX;
  return std::max<int64_t>(0, limits_.mem_queue_size - static_cast<int64_t>(queue_.size()));
}

int64_t Channel::memory_room() const {
  std::lock_guard lock(mu_);
  if (!backend_) return INT64_MAX;
  return std::max<int64_t>(0, limits_.mem_queue_size - static_cast<int64_t>(queue_.size()));
}

int64_t Channel::disk_bytes() const {
  return backend_ ? backend_->disk_bytes() : 0;
}

std::string Channel::put(std::span<const MessagePtr> msgs, int64_t defer_ns) {
  // What does not fit in memory; `msgs` keeps the messages alive meanwhile.
  thread_local std::vector<MessageBackend::Outgoing> overflow;
  overflow.clear();
  {
    std::lock_guard lock(mu_);
    if (exiting_) return "";
    const int64_t now = coarse_now_ns();
    for (const auto& m : msgs) {
      ++message_count_;
      if (defer_ns > 0) {
        defer_locked(Queued{m, 0}, now + defer_ns);
      } else if (log_ && m->log_offset() != Message::kNoLogOffset &&
                 (has_tail_locked()
                      ? m->log_offset() >= tail_.end
                      : static_cast<int64_t>(queue_.size()) >= limits_.mem_queue_size)) {
        // The log holds it; refill_from_log reads it. An offset below the tail's end cannot
        // join the tail (it would cut the tail short): memory takes it, past the bound.
        tail_.add(m->log_offset());
      } else if (!backend_ || static_cast<int64_t>(queue_.size()) < limits_.mem_queue_size) {
        enqueue_locked(Queued{m, 0});
      } else {
        overflow.push_back(MessageBackend::Outgoing{m.get(), 0, 0});
      }
    }
    dispatch_locked(now);
  }
  if (overflow.empty()) return "";
  // The write runs outside the channel lock: consumers keep being served meanwhile.
  std::string error = backend_->write(overflow);
  std::lock_guard lock(mu_);
  if (!error.empty()) {
    message_count_ -= overflow.size();
    overflow.clear();
    return error;
  }
  overflow.clear();
  maybe_refill_locked();
  return "";
}

size_t Channel::refill_target_locked() const {
  if (durable_) return log_refill_target_locked();
  if (!backend_ || paused_ || exiting_ || !backend_->has_data()) return 0;
  // Only what the ready consumers can take now (at most kRefillBatch): what leaves the disk
  // queue is in memory only, and a crash would lose it once the read position is synced.
  int64_t capacity = 0;
  for (const auto& slot : consumers_) capacity += slot.consumer->ready_capacity();
  capacity = std::min<int64_t>(capacity, static_cast<int64_t>(kRefillBatch));
  const auto queued = static_cast<int64_t>(queue_.size());
  return capacity > queued ? static_cast<size_t>(capacity - queued) : 0;
}

void Channel::maybe_refill_locked() {
  if (refill_pending_ || !limits_.disk || limits_.disk->worker == nullptr) return;
  if (refill_target_locked() == 0) return;
  refill_pending_ = true;
  limits_.disk->worker->post([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->refill_from_backend();
  });
}

void Channel::refill_from_backend() {
  if (durable_) {
    refill_from_log();
    return;
  }
  size_t want = 0;
  uint64_t epoch = 0;
  {
    std::lock_guard lock(mu_);
    want = refill_target_locked();
    epoch = epoch_;
    if (want == 0) {
      refill_pending_ = false;
      return;
    }
  }
  // Read without the channel lock: a cold file may take a while.
  thread_local std::vector<MessageBackend::Incoming> got;
  got.clear();
  backend_->read(want, got);
  std::lock_guard lock(mu_);
  refill_pending_ = false;
  // Nothing read although depth > 0 (a corrupt file was just set aside): the timer loop
  // retries, rather than spinning here.
  if (got.empty()) {
    note_timer_work_locked();
    return;
  }
  if (exiting_ || epoch != epoch_) {  // deleted or emptied meanwhile
    got.clear();
    return;
  }
  const int64_t now = coarse_now_ns();
  for (auto& in : got) {
    if (in.defer_ns > 0) {
      defer_locked(Queued{std::move(in.msg), in.attempts}, now + in.defer_ns);
    } else {
      queue_.push_back(Queued{std::move(in.msg), in.attempts});
    }
  }
  got.clear();
  dispatch_locked(now);
}

void Channel::enqueue_locked(Queued item) {
  // Ephemeral channels have no disk: past the memory bound messages are dropped [compat].
  if (ephemeral_ && static_cast<int64_t>(queue_.size()) >= limits_.mem_queue_size) return;
  queue_.push_back(std::move(item));
}

void Channel::defer_locked(Queued item, int64_t due_ns) {
  deferred_.push_back(DeferredEntry{due_ns, timer_seq_++, std::move(item)});
  std::push_heap(deferred_.begin(), deferred_.end(), std::greater<>());
  note_timer_work_locked();
}

void Channel::note_timer_work_locked() {
  if (timer_listed_ || limits_.timers == nullptr) return;
  // Null only while the channel is not owned by a shared_ptr yet (its constructor).
  if (auto self = weak_from_this().lock()) {
    timer_listed_ = true;
    limits_.timers->add(std::move(self));
  }
}

Channel::AddResult Channel::add_consumer(const std::shared_ptr<Consumer>& consumer) {
  std::lock_guard lock(mu_);
  if (exiting_) return AddResult::kExiting;
  const int64_t id = consumer->consumer_id();
  if (find_consumer_locked(id) != nullptr) return AddResult::kOk;
  if (limits_.max_channel_consumers != 0 &&
      static_cast<int64_t>(consumers_.size()) >= limits_.max_channel_consumers) {
    return AddResult::kTooMany;
  }
  consumers_.push_back(ConsumerSlot{id, consumer});
  return AddResult::kOk;
}

void Channel::remove_consumer(int64_t consumer_id) {
  bool now_empty_ephemeral = false;
  {
    std::lock_guard lock(mu_);
    if (exiting_) return;
    auto it = std::find_if(consumers_.begin(), consumers_.end(),
                           [&](const ConsumerSlot& s) { return s.id == consumer_id; });
    if (it == consumers_.end()) return;
    consumers_.erase(it);
    if (next_consumer_ >= consumers_.size()) next_consumer_ = 0;
    if (consumers_.empty() && ephemeral_) {
      exiting_ = true;
      drop_all_locked();
      now_empty_ephemeral = true;
    }
  }
  // The consumer's in-flight messages stay until they time out (as the reference does).
  if (now_empty_ephemeral && on_ephemeral_empty_) on_ephemeral_empty_(*this);
}

void Channel::consumer_ready(int64_t) {
  std::lock_guard lock(mu_);
  if (exiting_) return;
  dispatch_locked(coarse_now_ns());
}

Consumer* Channel::find_consumer_locked(int64_t id) const {
  for (const auto& slot : consumers_) {
    if (slot.id == id) return slot.consumer.get();
  }
  return nullptr;
}

Consumer* Channel::next_ready_consumer_locked() {
  const size_t n = consumers_.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t idx = (next_consumer_ + k) % n;
    Consumer* c = consumers_[idx].consumer.get();
    if (c->ready_for_message()) {
      next_consumer_ = (idx + 1) % n;
      return c;
    }
  }
  return nullptr;
}

void Channel::dispatch_locked(int64_t now_ns) {
  dispatch_queue_locked(now_ns);
  if (backend_ || has_tail_locked()) maybe_refill_locked();
}

void Channel::dispatch_queue_locked(int64_t now_ns) {
  if (paused_) return;
  while (!queue_.empty()) {
    Consumer* consumer = next_ready_consumer_locked();
    if (consumer == nullptr) return;
    Queued item = std::move(queue_.front());
    queue_.pop_front();
    const int32_t rate = consumer->sample_rate();
    if (rate > 0 && static_cast<int32_t>(sample_rng_() % 100) > rate) {
      continue;  // sampled out: consumed and dropped [compat]
    }
    const uint16_t attempts = static_cast<uint16_t>(item.attempts + 1);
    if (!in_flight_.insert(item.msg, attempts, consumer->consumer_id(), now_ns,
                           consumer->msg_timeout_ns())) {
      // Two live copies of one id in a channel cannot be tracked apart; the reference fails
      // the delivery too ("ID already in flight"). Keep this one queued for later.
      queue_.push_front(std::move(item));
      return;
    }
    note_timer_work_locked();  // its timeout is a deadline to watch
    consumer->deliver(item.msg, attempts);
  }
}

std::optional<std::string> Channel::finish(int64_t consumer_id, const MessageId& id) {
  std::vector<FinishError> errors;
  std::vector<MessagePtr> release;
  finish_many(consumer_id, std::span<const MessageId>(&id, 1), errors, release);
  if (!errors.empty()) return std::move(errors.front().reason);
  return std::nullopt;
}

void Channel::finish_many(int64_t consumer_id, std::span<const MessageId> ids,
                          std::vector<FinishError>& errors, std::vector<MessagePtr>& release) {
  std::lock_guard lock(mu_);
  Consumer* consumer = find_consumer_locked(consumer_id);
  const size_t released_before = release.size();
  for (size_t i = 0; i < ids.size(); ++i) {
    InFlightQueue::Entry entry;
    if (auto err = in_flight_.take(ids[i], consumer_id, entry)) {
      errors.push_back(FinishError{i, std::string(*err)});
      continue;
    }
    if (e2e_) e2e_->insert(entry.msg->timestamp_ns());
    if (backend_) backend_->ack(entry.msg->id());
    record_locked(AckRecord::kAck, *entry.msg);
    if (consumer != nullptr) consumer->message_done(Consumer::Outcome::kFinished);
    release.push_back(std::move(entry.msg));
  }
  if (release.size() != released_before) dispatch_locked(coarse_now_ns());
}

std::optional<std::string> Channel::requeue(int64_t consumer_id, const MessageId& id,
                                            int64_t delay_ns) {
  std::lock_guard lock(mu_);
  InFlightQueue::Entry entry;
  if (auto err = in_flight_.take(id, consumer_id, entry)) return std::string(*err);
  ++requeue_count_;
  if (Consumer* c = find_consumer_locked(consumer_id)) {
    c->message_done(Consumer::Outcome::kRequeued);
  }
  const int64_t now = coarse_now_ns();
  Queued item{std::move(entry.msg), entry.attempts};
  if (exiting_) return std::string("exiting");
  if (delay_ns <= 0) {
    queue_.push_back(std::move(item));  // never dropped: it was already accepted once
  } else {
    record_locked(AckRecord::kDefer, *item.msg, wall_clock_ns() + delay_ns);
    defer_locked(std::move(item), now + delay_ns);
  }
  dispatch_locked(now);
  return std::nullopt;
}

std::optional<std::string> Channel::touch(int64_t consumer_id, const MessageId& id,
                                          int64_t timeout_ns) {
  std::lock_guard lock(mu_);
  if (auto err = in_flight_.touch(id, consumer_id, coarse_now_ns(), timeout_ns,
                                  limits_.max_msg_timeout_ns)) {
    return std::string(*err);
  }
  return std::nullopt;
}

bool Channel::process_timers(int64_t now_ns) {
  std::lock_guard lock(mu_);
  return process_timers_locked(now_ns);
}

bool Channel::run_timers(int64_t now_ns) {
  std::lock_guard lock(mu_);
  process_timers_locked(now_ns);
  // A disk refill that found nothing lists the channel again from refill_from_backend.
  timer_listed_ = !exiting_ && (in_flight_.size() > 0 || !deferred_.empty());
  return timer_listed_;
}

bool Channel::process_timers_locked(int64_t now_ns) {
  if (exiting_) return false;
  bool any = false;
  in_flight_.pop_expired(now_ns, [&](InFlightQueue::Entry&& expired) {
    ++timeout_count_;
    if (Consumer* c = find_consumer_locked(expired.consumer_id)) {
      c->message_done(Consumer::Outcome::kTimedOut);
    }
    queue_.push_back(Queued{std::move(expired.msg), expired.attempts});
    any = true;
  });
  while (!deferred_.empty() && deferred_.front().due_ns <= now_ns) {
    std::pop_heap(deferred_.begin(), deferred_.end(), std::greater<>());
    queue_.push_back(std::move(deferred_.back().item));
    deferred_.pop_back();
    any = true;
  }
  if (any) {
    dispatch_locked(now_ns);
  } else if (backend_ || has_tail_locked()) {
    maybe_refill_locked();  // retries a refill that found nothing to read
  }
  return any;
}

void Channel::pause() {
  {
    std::lock_guard lock(mu_);
    paused_ = true;
  }
  if (limits_.disk && limits_.disk->metadata_changed && !ephemeral_) {
    limits_.disk->metadata_changed();
  }
}

void Channel::unpause() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
    dispatch_locked(coarse_now_ns());
  }
  if (limits_.disk && limits_.disk->metadata_changed && !ephemeral_) {
    limits_.disk->metadata_changed();
  }
}

bool Channel::paused() const {
  std::lock_guard lock(mu_);
  return paused_;
}

void Channel::drop_all_locked() {
  queue_.clear();
  in_flight_.clear();
  deferred_.clear();
  tail_.clear();  // the log keeps them; a restart reads them back unless emptied
  tail_skip_.clear();
}

void Channel::empty(uint64_t keep_from) {
  {
    std::lock_guard lock(mu_);
    drop_all_locked();
    ++epoch_;
    for (auto& slot : consumers_) slot.consumer->in_flight_reset();
    // Durable: everything in the log so far counts as acknowledged for this channel.
    if (journal_) {
      journal_->record(AckRecord::kEmpty, std::min(log_->next_offset(), keep_from));
      limits_.disk->committer->request(log_);
    }
  }
  if (backend_) backend_->empty();
}

void Channel::close() {
  log::info("CHANNEL({}): deleting", name_);
  {
    std::lock_guard lock(mu_);
    exiting_ = true;
    drop_all_locked();
    // Consumers of a deleted channel are disconnected, as the reference does.
    for (auto& slot : consumers_) slot.consumer->disconnect();
    consumers_.clear();
  }
  if (backend_) backend_->remove();
  if (journal_) journal_->remove();
}

void Channel::shutdown() {
  std::vector<MessageBackend::Outgoing> out;
  std::vector<MessagePtr> hold;  // keeps the messages alive after the queues are cleared
  size_t mem = 0;
  size_t in_flight = 0;
  size_t deferred = 0;
  {
    std::lock_guard lock(mu_);
    if (exiting_) return;
    exiting_ = true;
    log::info("CHANNEL({}): closing", name_);
    if (backend_) {
      // The reference's order: memory queue, in-flight, deferred.
      mem = queue_.size();
      in_flight = in_flight_.size();
      deferred = deferred_.size();
      out.reserve(mem + in_flight + deferred);
      hold.reserve(mem + in_flight + deferred);
      for (const auto& q : queue_) {
        out.push_back(MessageBackend::Outgoing{q.msg.get(), q.attempts, 0});
        hold.push_back(q.msg);
      }
      in_flight_.for_each([&](const InFlightQueue::Entry& e) {
        out.push_back(MessageBackend::Outgoing{e.msg.get(), e.attempts, 0});
        hold.push_back(e.msg);
      });
      // A deferred message keeps its remaining delay, as a wall-clock due time.
      const int64_t steady = coarse_now_ns();
      const int64_t wall = wall_clock_ns();
      std::vector<DeferredEntry> by_due = deferred_;
      std::sort(by_due.begin(), by_due.end(),
                [](const DeferredEntry& a, const DeferredEntry& b) { return b > a; });
      for (const auto& d : by_due) {
        const int64_t due = wall + std::max<int64_t>(1, d.due_ns - steady);
        out.push_back(MessageBackend::Outgoing{d.item.msg.get(), d.item.attempts, due});
        hold.push_back(d.item.msg);
      }
    }
    drop_all_locked();
    consumers_.clear();
  }
  if (!backend_) return;
  if (!out.empty()) {
    log::info("CHANNEL({}): flushing {} memory {} in-flight {} deferred messages to backend", name_,
              mem, in_flight, deferred);
    std::string error = backend_->write(out);
    if (!error.empty()) {
      log::error("CHANNEL({}): failed to flush messages to backend - {}", name_, error);
      // Not written again: the held read position brings them back after the restart.
      backend_->close();
      return;
    }
  }
  // Every message read from disk is written again above (or was finished): the read
  // position may move past them, or the restart would deliver them twice.
  backend_->release_reads();
  backend_->close();
}

void Channel::sync_backend_if_dirty() {
  if (backend_) backend_->sync_if_dirty();
}

bool Channel::exiting() const {
  std::lock_guard lock(mu_);
  return exiting_;
}

ChannelStats Channel::stats() const {
  std::lock_guard lock(mu_);
  ChannelStats s;
  s.name = name_;
  // -durable: the log tail is the channel's "on disk" part, as a disk queue's depth.
  s.backend_depth = backend_ ? backend_->depth() : tail_.count;
  s.depth = static_cast<int64_t>(queue_.size()) + s.backend_depth;
  s.in_flight_count = static_cast<int64_t>(in_flight_.size());
  s.deferred_count = static_cast<int64_t>(deferred_.size());
  s.message_count = message_count_;
  s.requeue_count = requeue_count_;
  s.timeout_count = timeout_count_;
  s.client_count = consumers_.size();
  s.paused = paused_;
  s.consumer_ids.reserve(consumers_.size());
  for (const auto& slot : consumers_) s.consumer_ids.push_back(slot.id);
  return s;
}

}  // namespace nsq::nsqd
