#include "nsqd/storage/group_committer.hpp"

#include <algorithm>

namespace nsq::nsqd {

GroupCommitter::GroupCommitter() : thread_([this] { run(); }) {}

GroupCommitter::~GroupCommitter() {
  stop();
}

void GroupCommitter::request(const std::shared_ptr<TopicLog>& log) {
  {
    std::lock_guard lock(mu_);
    // A log already waiting for the next cycle is synced once for all its appends.
    if (std::find(pending_.begin(), pending_.end(), log) != pending_.end()) return;
    pending_.push_back(log);
  }
  cv_.notify_one();
}

void GroupCommitter::set_after_sync(const TopicLog* log, AfterSync hook) {
  std::lock_guard lock(mu_);
  hooks_[log] = std::move(hook);
}

void GroupCommitter::clear_after_sync(const TopicLog* log) {
  std::lock_guard lock(mu_);
  hooks_.erase(log);
}

void GroupCommitter::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void GroupCommitter::run() {
  std::vector<std::shared_ptr<TopicLog>> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, nothing left
      batch.swap(pending_);
    }
    // Everything requested while this cycle fsyncs lands in pending_ for the next one. The log
    // counts its own fsyncs before it answers its publishers.
    uint64_t fsyncs = 0;
    for (const auto& log : batch) {
      log->sync(&fsyncs_);
      AfterSync hook;
      {
        std::lock_guard lock(mu_);
        if (auto it = hooks_.find(log.get()); it != hooks_.end()) hook = it->second;
      }
      if (hook) fsyncs += static_cast<uint64_t>(std::max(0, hook()));
    }
    batch.clear();
    fsyncs_.fetch_add(fsyncs, std::memory_order_relaxed);
    cycles_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace nsq::nsqd
