#include "nsqd/nsqd.hpp"

#include <algorithm>
#include <chrono>

#include "common/disk/atomic_file.hpp"
#include "common/gocompat/go_path.hpp"
#include "common/log/logger.hpp"
#include "nsq/protocol/names.hpp"
#include "nsqd/storage/group_committer.hpp"
#include "nsqd/storage/metadata.hpp"
#include "nsqd/storage/takeover.hpp"

namespace nsq::nsqd {

namespace {
// Disk worker threads: fsyncs of one queue should not hold up refills of another.
constexpr size_t kDiskWorkerThreads = 2;
// -max-bytes-per-topic: queue files and log segments of at most 1/kLimitParts of the limit
// (and at least kMinPartBytes, so a tiny limit does not mean a file per message).
constexpr int64_t kLimitParts = 8;
constexpr int64_t kMinPartBytes = 4096;
}  // namespace

Nsqd::Nsqd(NsqdOptions opts)
    : opts_(std::move(opts)),
      guids_(opts_.node_id),
      disk_worker_(kDiskWorkerThreads),
      lookupd_addresses_(opts_.lookupd_tcp_addresses) {
  if (opts_.durable) committer_ = std::make_unique<GroupCommitter>();
  disk_ctx_ = make_disk_context();
}

std::shared_ptr<const DiskContext> Nsqd::make_disk_context() {
  auto ctx = std::make_shared<DiskContext>();
  ctx->data_path = opts_.data_path;
  ctx->queue_options.max_bytes_per_file = opts_.max_bytes_per_file;
  // As the reference: a record holds the 26-byte header and a body of up to --max-msg-size.
  ctx->queue_options.min_msg_size = static_cast<int32_t>(MessageBackend::kHeaderSize);
  ctx->queue_options.max_msg_size =
      static_cast<int32_t>(opts_.max_msg_size + static_cast<int64_t>(MessageBackend::kHeaderSize));
  ctx->queue_options.sync_every = std::max<int64_t>(1, opts_.sync_every);
  ctx->worker = &disk_worker_;
  ctx->committer = committer_.get();
  if (opts_.max_bytes_per_topic > 0) {
    // Space comes back a whole file at a time (a read queue file, a trimmed log segment), so
    // under a limit no file may be a large part of it, and a drained queue gives its last
    // file back at once: otherwise a topic could stay full with everything consumed
    // (docs/persistence.md, "Disk limits").
    ctx->max_bytes_per_topic = opts_.max_bytes_per_topic;
    const int64_t part = std::max<int64_t>(opts_.max_bytes_per_topic / kLimitParts, kMinPartBytes);
    ctx->queue_options.max_bytes_per_file = std::min(ctx->queue_options.max_bytes_per_file, part);
    ctx->queue_options.roll_when_drained = true;
    ctx->log_segment_bytes = std::min(ctx->log_segment_bytes, part);
  }
  ctx->report_health = [this](const std::string& error) { set_health_error(error); };
  ctx->metadata_changed = [this] { persist_metadata_async(); };
  return ctx;
}

Nsqd::~Nsqd() {
  close_all();
  // The listed channels go with the topics, before the disk worker they may still post to.
  timers_.take(timer_batch_);
  timer_batch_.clear();
  topic_retries_.take(retry_batch_);
  retry_batch_.clear();
}

ChannelLimits Nsqd::channel_limits() const {
  ChannelLimits l;
  l.mem_queue_size = opts_.mem_queue_size;
  l.max_msg_timeout_ns = opts_.max_msg_timeout.count();
  l.max_channel_consumers = opts_.max_channel_consumers;
  // The reference keeps the percentile list sorted descending (its flag type sorts it).
  l.e2e_percentiles = opts_.e2e_processing_latency_percentiles;
  std::sort(l.e2e_percentiles.begin(), l.e2e_percentiles.end(), std::greater<>());
  l.e2e_window_ns = opts_.e2e_processing_latency_window_time.count();
  l.disk = disk_ctx_;
  l.timers = &timers_;
  l.topic_retries = &topic_retries_;
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
        [this](Topic& t) { delete_topic(t.name(), &t); },  // #ephemeral, no channels left
        [this](Topic& t, const std::string& channel, bool created) {
          // The reference's words; a deletion logs its own lines (Topic::delete_channel).
          if (created) log::info("TOPIC({}): new channel({})", t.name(), channel);
          notify(
              created ? RegistryEvent::Kind::kChannelCreated : RegistryEvent::Kind::kChannelDeleted,
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
  // As the reference: every durable create/delete rewrites nsqd.dat (not while loading it).
  if (!loading_.load() && !protocol::is_ephemeral_name(topic) &&
      (channel.empty() || !protocol::is_ephemeral_name(channel))) {
    persist_metadata_async();
  }
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
  log::info("TOPIC({}): deleting", name);
  topic->close();
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
  // Every channel with a deadline is checked every tick, so timeouts fire within one tick
  // instead of the reference's probabilistic sampling; channels without one are not visited.
  timers_.take(timer_batch_);
  for (auto& channel : timer_batch_) {
    if (channel->run_timers(now_steady_ns)) timer_keep_.push_back(std::move(channel));
  }
  timer_batch_.clear();
  timers_.put_back(timer_keep_);
  topic_retries_.take(retry_batch_);
  for (const auto& topic : retry_batch_) topic->pump_if_due();
  retry_batch_.clear();
  // --sync-timeout: every queue that changed since its last fsync gets one, on the disk worker.
  if (now_steady_ns - last_sync_ns_ >= opts_.sync_timeout.count()) {
    last_sync_ns_ = now_steady_ns;
    if (!sync_pending_.exchange(true)) {
      disk_worker_.post([this] {
        sync_pending_.store(false);
        sync_all_backends();
      });
    }
  }
}

void Nsqd::sync_all_backends() {
  for (const auto& topic : topics()) topic->sync_backends_if_dirty();
}

util::Status Nsqd::load_metadata() {
  std::vector<std::string> warnings;
  const std::string dat = metadata_file_path(opts_.data_path);
  if (const size_t stale = disk::remove_stale_temp_files(dat); stale > 0) {
    log::info("NSQ: removed {} temp file(s) of {} left by a crash", stale, dat);
  }
  auto md = load_metadata_file(opts_.data_path, &warnings);
  for (const auto& w : warnings) log::warn("{}", w);
  if (!md) return util::fail(md.error());
  // A data dir of the other mode (or of the reference) is switched before any topic opens it.
  if (auto switched = opts_.durable ? take_over_disk_queues(*md, *disk_ctx_)
                                    : move_logs_to_disk_queues(*md, *disk_ctx_);
      !switched) {
    return switched;
  }
  loading_.store(true);
  for (const auto& t : md->topics) {
    auto topic = get_topic(t.name);
    if (!topic) continue;
    if (t.paused) topic->pause();
    for (const auto& c : t.channels) {
      auto channel = topic->get_channel(c.name);
      if (channel && c.paused) channel->pause();
    }
  }
  loading_.store(false);
  return {};
}

util::Status Nsqd::persist_metadata() {
  std::lock_guard persist(persist_mu_);
  log::info("NSQ: persisting topic/channel metadata to {}",
            gocompat::go_path_join(opts_.data_path, "nsqd.dat"));
  Metadata md;
  for (const auto& topic : topics()) {
    if (topic->ephemeral() || topic->exiting()) continue;
    TopicMetadata tm;
    tm.name = topic->name();
    tm.paused = topic->paused();
    for (const auto& ch : topic->channels()) {
      if (ch->ephemeral()) continue;
      tm.channels.push_back(ChannelMetadata{ch->name(), ch->paused()});
    }
    md.topics.push_back(std::move(tm));
  }
  auto saved = save_metadata_file(opts_.data_path, md);
  if (!saved) log::error("failed to persist metadata - {}", saved.error());
  return saved;
}

void Nsqd::persist_metadata_async() {
  if (loading_.load() || persist_pending_.exchange(true)) return;
  disk_worker_.post([this] {
    persist_pending_.store(false);
    static_cast<void>(persist_metadata());  // a failure is logged; the next change retries
  });
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
  {
    std::lock_guard lock(mu_);
    if (closing_) return;
  }
  // Finish the disk task in progress (a refill holding messages) before flushing.
  disk_worker_.stop();
  // The reference persists before closing its topics; a failure is logged and shutdown goes on.
  static_cast<void>(persist_metadata());
  std::map<std::string, std::shared_ptr<Topic>> topics;
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    topics.swap(topics_);
  }
  log::info("NSQ: closing topics");
  for (auto& [name, topic] : topics) topic->shutdown();
  // Publishes stopped with the topics: the last commit answers whoever still waits.
  if (committer_) committer_->stop();
}

uint64_t Nsqd::durable_fsync_count() const {
  return committer_ ? committer_->fsync_count() : 0;
}

}  // namespace nsq::nsqd
