// Channel: one consumer group of a topic. Holds the channel's copy of every message of its
// topic (a shared MessagePtr + per-channel attempts), spreads them over its ready consumers
// round-robin, and tracks in-flight (FIN/REQ/TOUCH, timeouts) and deferred messages.
//
// Owner: its Topic (shared_ptr; clients hold one too while subscribed).
// Threads: any event-loop thread and the queue scanner; all state is behind one mutex whose
// critical sections are short (no I/O inside: deliveries only append to a client's buffer).
// Lifecycle: created by Topic::get_channel, deleted by Topic::delete_channel (or when an
// #ephemeral channel loses its last consumer); after close() every operation is refused.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "nsqd/queue/consumer.hpp"
#include "nsqd/queue/e2e_latency.hpp"
#include "nsqd/queue/in_flight_queue.hpp"
#include "nsqd/queue/log_range.hpp"
#include "nsqd/queue/message.hpp"
#include "nsqd/queue/timer_set.hpp"
#include "nsqd/storage/channel_journal.hpp"
#include "nsqd/storage/message_backend.hpp"
#include "nsqd/storage/topic_log.hpp"

namespace nsq::nsqd {

struct ChannelLimits {
  int64_t mem_queue_size = 10000;
  int64_t max_msg_timeout_ns = 15LL * 60 * 1000 * 1000 * 1000;
  int64_t max_channel_consumers = 0;
  // --e2e-processing-latency-percentile (descending) and -window-time; none = not tracked.
  std::vector<double> e2e_percentiles;
  int64_t e2e_window_ns = 10LL * 60 * 1000 * 1000 * 1000;
  // Disk queues for durable topics and channels; null = memory only (unit tests).
  std::shared_ptr<const DiskContext> disk;
  // The timer loop's sets (timer_set.hpp): channels with deadlines, topics whose disk pump
  // must be retried. Null: whoever owns the channel or topic drives it itself (unit tests).
  ChannelTimerSet* timers = nullptr;
  TopicRetrySet* topic_retries = nullptr;
};

struct ChannelStats {
  std::string name;
  int64_t depth = 0;
  int64_t backend_depth = 0;
  int64_t in_flight_count = 0;
  int64_t deferred_count = 0;
  uint64_t message_count = 0;
  uint64_t requeue_count = 0;
  uint64_t timeout_count = 0;
  size_t client_count = 0;
  bool paused = false;
  std::vector<int64_t> consumer_ids;  // subscribed consumers, for /stats client lists
};

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  // Called (outside the channel lock) when an #ephemeral channel loses its last consumer.
  using EmptyCallback = std::function<void(Channel&)>;

  Channel(std::string topic_name, std::string name, ChannelLimits limits,
          EmptyCallback on_ephemeral_empty);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  const std::string& name() const { return name_; }
  const std::string& topic_name() const { return topic_name_; }
  bool ephemeral() const { return ephemeral_; }

  // --- publishing side (called by the Topic) ---
  // Messages accepted right now: the free memory without a disk queue; unbounded with one
  // (overflow goes to disk) and for ephemeral channels (they drop overflow silently, as the
  // reference does).
  int64_t free_capacity() const;
  // With a disk queue: how many of the next messages would still go to memory rather than to
  // disk (-max-bytes-per-topic asks before a publish); INT64_MAX without one.
  int64_t memory_room() const;
  // Bytes of this channel's disk queue files (0 without one).
  int64_t disk_bytes() const;
  // Queues copies of `msgs` (or defers them by `defer_ns`) and delivers what it can. What
  // does not fit in memory goes to the disk queue in one write (-durable: stays only in the
  // topic log, the channel's log tail); returns "" or the write error (nothing of `msgs` past
  // the memory queue was stored then).
  std::string put(std::span<const MessagePtr> msgs, int64_t defer_ns);

  // --- durable mode (-durable; docs/persistence.md, "Durable mode") ---
  // The channel becomes a cursor over its topic's log: opens its ChannelJournal in the log's
  // directory (a new channel starts at `start_if_new`; one whose journal existed but never
  // recorded its START, at the log's first offset) and takes back every offset from its ack
  // floor that is not acknowledged: deferred ones (REQ delay, DPUB) into the deferred heap
  // until their due time, the others into memory up to --mem-queue-size and past it into the
  // log tail (see put). The topic calls it under its lock, right after creating the channel,
  // so no publish interleaves. False if the journal cannot be opened (the channel then works
  // in memory only, logged).
  // `held_from`: the first offset of a paused topic's backlog (Topic::pending_ and its log
  // overflow), which the topic hands over only at unpause (put, take_log_range). A new journal
  // then starts there rather than at `start_if_new`, so a crash before the channel FINs them
  // gives them back (and the log keeps them), but nothing below `start_if_new` is taken now.
  bool attach_log(const std::shared_ptr<TopicLog>& log, uint64_t start_if_new,
                  uint64_t held_from = UINT64_MAX);
  // -durable, at a paused topic's unpause: `range`, whose counted messages are not DPUBs
  // (those went through put), becomes the end of this channel's log tail, read back in order
  // by refill_from_log. False when the channel cannot take it as a range: it has no journal
  // (memory only), or its tail already reaches past range.from (a tail is one contiguous
  // range); the topic then put()s the messages instead.
  bool take_log_range(const LogRange& range);
  // Commit thread: writes the acknowledgements below `synced`; returns fsyncs made.
  int flush_journal(uint64_t synced);
  // The durable ack floor; nullopt without a journal (nothing to keep in the log for it).
  std::optional<uint64_t> journal_floor() const;

  // --- consumers ---
  enum class AddResult { kOk, kExiting, kTooMany };
  AddResult add_consumer(const std::shared_ptr<Consumer>& consumer);
  void remove_consumer(int64_t consumer_id);
  // A consumer's readiness may have grown (RDY raised, a message finished): deliver.
  void consumer_ready(int64_t consumer_id);

  // --- responses; nullopt on success, else the reference's reason text ---
  std::optional<std::string> finish(int64_t consumer_id, const MessageId& id);
  // The FINs of one read, under one lock and with one dispatch: a consumer draining a backlog
  // sends dozens per packet, and two loops taking the lock per FIN made it the hottest futex
  // in nsqd. A failure is reported as (index in `ids`, reason) in `errors`. The finished
  // messages are moved into `release`, for the caller to free after the lock is gone.
  struct FinishError {
    size_t index;
    std::string reason;
  };
  void finish_many(int64_t consumer_id, std::span<const MessageId> ids,
                   std::vector<FinishError>& errors, std::vector<MessagePtr>& release);
  std::optional<std::string> requeue(int64_t consumer_id, const MessageId& id, int64_t delay_ns);
  std::optional<std::string> touch(int64_t consumer_id, const MessageId& id, int64_t timeout_ns);

  // --- maintenance ---
  // Requeues timed-out in-flight messages and releases due deferred ones; returns true if
  // anything was due.
  bool process_timers(int64_t now_steady_ns);
  // The timer loop (ChannelTimerSet): process_timers, then true if deadlines remain to watch
  // (the channel stays listed); false once it has none (it is unlisted and lists itself again
  // when it gets one).
  bool run_timers(int64_t now_steady_ns);
  void pause();
  void unpause();
  bool paused() const;
  // Drops queued, in-flight and deferred messages (HTTP /channel/empty, through
  // Topic::empty_channel). -durable: every offset below the log end, and below `keep_from`,
  // counts as acknowledged from now on.
  void empty(uint64_t keep_from = UINT64_MAX);
  // Refuses everything from now on and drops the messages, disk queue included (deletion).
  void close();
  // Shutdown: refuses everything from now on and writes the memory queue, in-flight and
  // deferred messages to the disk queue (as the reference's flush), then syncs and closes it.
  void shutdown();
  // fsyncs the disk queue if anything changed since its last sync (sync-timeout; disk worker).
  void sync_backend_if_dirty();
  // Disk worker: moves messages from the disk queue (-durable: the log tail) into memory (see
  // maybe_refill_locked).
  void refill_from_backend();
  bool exiting() const;

  ChannelStats stats() const;
  // Publish-to-FIN latency quantiles; null unless percentiles are configured.
  E2eLatency* e2e_latency() const { return e2e_.get(); }

 private:
  struct Queued {
    MessagePtr msg;
    uint16_t attempts = 0;
  };
  struct DeferredEntry {
    int64_t due_ns;
    uint64_t seq;
    Queued item;
    bool operator>(const DeferredEntry& o) const {
      return due_ns != o.due_ns ? due_ns > o.due_ns : seq > o.seq;
    }
  };
  struct ConsumerSlot {
    int64_t id;
    std::shared_ptr<Consumer> consumer;
  };

  // All *_locked helpers require mu_.
  // Delivers what it can, then tops memory up from disk if that is due.
  void dispatch_locked(int64_t now_ns);
  void dispatch_queue_locked(int64_t now_ns);
  Consumer* next_ready_consumer_locked();
  Consumer* find_consumer_locked(int64_t id) const;
  void enqueue_locked(Queued item);
  void defer_locked(Queued item, int64_t due_ns);
  void drop_all_locked();
  // Schedules refill_from_backend when the disk queue holds messages and memory has room
  // (mem-queue-size > 0) or a consumer is ready (mem-queue-size = 0).
  void maybe_refill_locked();
  size_t refill_target_locked() const;
  bool process_timers_locked(int64_t now_ns);
  // Lists the channel in limits_.timers (if it is not yet): it has a deadline to watch.
  void note_timer_work_locked();

  const std::string topic_name_;
  const std::string name_;
  const bool ephemeral_;
  const ChannelLimits limits_;
  EmptyCallback on_ephemeral_empty_;
  const std::unique_ptr<E2eLatency> e2e_;  // own lock; taken inside mu_ on FIN

  mutable std::mutex mu_;
  bool exiting_ = false;
  bool paused_ = false;
  std::deque<Queued> queue_;
  InFlightQueue in_flight_;
  // Min-heap (std::push_heap with std::greater) of deferred messages by due time.
  std::vector<DeferredEntry> deferred_;
  uint64_t timer_seq_ = 0;
  bool timer_listed_ = false;  // in limits_.timers (ChannelTimerSet)
  std::vector<ConsumerSlot> consumers_;
  size_t next_consumer_ = 0;  // round-robin cursor
  std::minstd_rand sample_rng_{12345};

  std::shared_ptr<MessageBackend> backend_;  // null for ephemeral / memory-only channels
  // -durable: no disk queue; the topic's log holds the messages and this journal the acks.
  const bool durable_;
  std::shared_ptr<TopicLog> log_;
  std::unique_ptr<ChannelJournal> journal_;
  void record_locked(AckRecord type, const Message& msg, int64_t due_wall_ns = 0);
  // -durable memory bound: past --mem-queue-size a message is not kept in memory; it stays
  // only in the log, in the channel's "log tail", which refill_from_log reads back in order
  // on the disk worker. Once a tail exists every later message joins it (order). Deferred
  // messages (DPUB, REQ with a delay) stay in the deferred heap, so the refill skips DPUB
  // records and the offsets in tail_skip_ (acknowledged or deferred before a restart).
  LogRange tail_;  // count: messages still to read back (part of the depth)
  std::set<uint64_t> tail_skip_;
  bool has_tail_locked() const { return !tail_.empty(); }
  size_t log_refill_target_locked() const;
  void refill_from_log();
  bool refill_pending_ = false;
  uint64_t epoch_ = 0;  // bumped by empty(): a refill in progress drops what it read

  uint64_t message_count_ = 0;
  uint64_t requeue_count_ = 0;
  uint64_t timeout_count_ = 0;
};

// Monotonic clock in nanoseconds.
int64_t steady_now_ns();
// The same clock at its coarse (~1-4 ms) resolution, several times cheaper to read: in-flight
// and deferred deadlines are checked every 100 ms, so per-message bookkeeping uses this.
int64_t coarse_now_ns();

}  // namespace nsq::nsqd
