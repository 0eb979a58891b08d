// Topic: a named stream of messages fanned out to every one of its channels. Publishing
// creates each message once (one refcounted buffer, docs/architecture.md) and hands the same
// pointer to every channel under one topic lock, so an MPUB is one lock and one splice per
// channel. While the topic has no channel, or is paused, messages wait in the topic's own
// queue and flow to the channels once one exists / the topic is unpaused. -durable: at most
// --mem-queue-size of them wait in memory; the rest stay only in the topic log (the
// "overflow", handed to each channel as the end of its log tail at unpause).
//
// Owner: Nsqd's topic map (shared_ptr). Threads: any event-loop thread, HTTP handlers, the
// scanner. Lock order: Nsqd registry -> Topic -> Channel -> client output buffer.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nsqd/queue/channel.hpp"
#include "nsqd/queue/guid.hpp"
#include "nsqd/queue/message.hpp"
#include "nsqd/storage/topic_log.hpp"

namespace nsq::nsqd {

struct TopicStats {
  std::string name;
  int64_t depth = 0;
  int64_t backend_depth = 0;
  uint64_t message_count = 0;
  uint64_t message_bytes = 0;
  bool paused = false;
  std::vector<ChannelStats> channels;
  // -max-bytes-per-topic (max_disk_bytes 0: unlimited, and /stats shows none of these).
  int64_t disk_bytes = 0;
  int64_t max_disk_bytes = 0;
  bool disk_full = false;
  uint64_t disk_limit_refusals = 0;  // publishes refused for the limit since start
};

// Why a publish is refused at -max-bytes-per-topic: E_PUB_FAILED "PUB failed <this>".
inline constexpr std::string_view kTopicDiskLimitReached = "topic disk limit reached";

class Topic : public std::enable_shared_from_this<Topic> {
 public:
  // Called outside every lock when an #ephemeral topic loses its last channel.
  using EmptyCallback = std::function<void(Topic&)>;
  // Called outside every lock after a channel was created (true) or deleted (false).
  using ChannelEventCallback =
      std::function<void(Topic&, const std::string& channel, bool created)>;

  Topic(std::string name, ChannelLimits limits, GuidFactory& guids, EmptyCallback on_empty,
        ChannelEventCallback on_channel_event = nullptr);
  ~Topic();

  const std::string& name() const { return name_; }
  bool ephemeral() const { return ephemeral_; }

  // Publishes `bodies` in order, each deferred by `defer_ns` (0 = now). Returns "" on success
  // or the failure reason used in E_PUB_FAILED / E_MPUB_FAILED ("exiting", ...;
  // kTopicDiskLimitReached when it needs disk and the topic is at -max-bytes-per-topic).
  // A durable topic (durable()) also appends them to its log; `on_durable` then runs on the
  // commit thread once they are fsynced (or can never be), and only then may the publisher
  // hear OK. Consumers may get them before that (docs/persistence.md, "Durable mode").
  std::string publish(std::span<const std::string_view> bodies, int64_t defer_ns,
                      TopicLog::DurableCallback on_durable = nullptr);
  // -durable and not #ephemeral: publishes are answered only once their commit completes.
  bool durable() const { return durable_; }
  // The topic's log (null unless durable and open).
  const std::shared_ptr<TopicLog>& log() const { return log_; }

  // Returns the channel, creating it if needed (never null unless the topic is exiting).
  std::shared_ptr<Channel> get_channel(const std::string& name);
  std::shared_ptr<Channel> find_channel(const std::string& name) const;
  // Deletes the named channel (only if it is `only_if`, when given).
  bool delete_channel(const std::string& name, const Channel* only_if = nullptr);
  std::vector<std::shared_ptr<Channel>> channels() const;

  void pause();
  void unpause();
  bool paused() const;
  void empty();
  // /channel/empty of one of this topic's channels. -durable: under the topic lock, and the
  // channel's EMPTY record stays below a backlog the topic holds (paused): the channel gets
  // that at unpause, so it must not count as acknowledged (a crash, the log trim).
  void empty_channel(Channel& channel);
  // Deletion: closes every channel and removes the disk queues.
  void close();
  // Shutdown: writes the memory queue to the disk queue, shuts every channel down (each
  // flushes its own), syncs and closes.
  void shutdown();
  bool exiting() const;
  // Timer loop (TopicRetrySet): starts draining the disk queue into the channels if that is
  // due; a topic whose last pump read nothing lists itself for this retry.
  void pump_if_due();
  // Disk worker: fsyncs this topic's and its channels' disk queues if they changed.
  void sync_backends_if_dirty();
  // Disk worker: moves a batch from the topic's disk queue to its channels.
  void pump_backend();

  TopicStats stats() const;

  // -durable, commit thread (after each sync of the log): writes the channels' ack journals,
  // then deletes the log segments every channel has acknowledged. Returns the fsyncs made.
  int commit_journals();

 private:
  struct Pending {
    MessagePtr msg;
    int64_t defer_ns;
  };

  // Hands pending_ and the log overflow to the channels (unless paused or channel-less).
  void flush_pending_locked();
  // -durable: the messages just appended (batch_) wait for the unpause (or a channel): in
  // pending_ up to --mem-queue-size (DPUBs always), past it only in the log overflow.
  void hold_in_backlog_locked(int64_t defer_ns);
  void hand_overflow_locked();
  // Fallback for a channel that cannot take a log range (no journal): reads the overflow from
  // the log and put()s it into the channel's memory.
  void put_overflow_from_log_locked(Channel& ch);
  bool holds_backlog_locked() const { return !pending_.empty() || !overflow_.empty(); }
  // The lowest log offset of the held backlog; UINT64_MAX without one (or without a log).
  uint64_t backlog_floor_locked() const;
  // Puts `msgs` into every channel; a channel's failure is logged, the others still get them.
  void put_to_channels_locked(std::span<const MessagePtr> msgs, int64_t defer_ns);
  void maybe_pump_locked();
  void notify_metadata_changed();
  void ensure_commit_hook_locked();
  int64_t free_capacity_locked(size_t wanted) const;
  // -max-bytes-per-topic: whether publishing `n` messages now writes any of them to disk, and
  // the bytes of the topic's files (its disk queue and its channels', or its log).
  bool publish_needs_disk_locked(size_t n, int64_t defer_ns) const;
  int64_t disk_bytes_locked() const;
  int64_t max_disk_bytes() const;

  const std::string name_;
  const bool ephemeral_;
  const ChannelLimits limits_;
  GuidFactory& guids_;
  EmptyCallback on_empty_;
  ChannelEventCallback on_channel_event_;

  mutable std::mutex mu_;
  bool exiting_ = false;
  bool paused_ = false;
  std::map<std::string, std::shared_ptr<Channel>> channels_;
  std::vector<std::shared_ptr<Channel>> channel_list_;  // fan-out order, same members
  std::deque<Pending> pending_;                         // no channel yet, or paused
  uint64_t message_count_ = 0;
  uint64_t message_bytes_ = 0;
  std::vector<MessagePtr> batch_;            // scratch for publish, reused under mu_
  std::shared_ptr<MessageBackend> backend_;  // null for ephemeral / memory-only topics
  bool pump_pending_ = false;
  // -durable: every message is appended here before any channel gets it.
  bool durable_ = false;
  std::shared_ptr<TopicLog> log_;
  std::string log_error_;             // why log_ could not be opened: publishes fail with it
  std::vector<LogAppend> log_batch_;  // scratch for publish, reused under mu_
  // The first offset no channel took: where the first channel of the topic starts. While
  // channels exist (or a backlog is held) every publish is taken, so it follows the log end.
  uint64_t untaken_from_ = 0;
  // -durable, held backlog past --mem-queue-size (paused, or its channels all deleted while
  // paused): only in the log, as one range whose records are its counted messages plus DPUBs
  // (those wait in pending_). Once it started, every later non-deferred publish joins it
  // (order). The log trim keeps it.
  LogRange overflow_;
  bool commit_hook_set_ = false;
  bool retry_listed_ = false;  // in limits_.topic_retries
  uint64_t disk_limit_refusals_ = 0;
};

// Wall clock in nanoseconds since the Unix epoch: the message timestamp.
int64_t wall_now_ns();

}  // namespace nsq::nsqd
