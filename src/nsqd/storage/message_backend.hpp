// MessageBackend: the disk queue behind one durable topic or channel (the reference's
// "backend"), speaking messages instead of records.
//
// Record layout, as the reference writes it (the reference's nsqd/message.go,
// writeMessageToBackend): 8-byte big-endian timestamp (ns), 2-byte attempts, 16-byte id, body. The
// 26-byte header is built per message and written beside the shared body with one pwritev per
// batch: the body is never copied.
//
// Deferred messages across a restart (beyond the reference): at shutdown a deferred message
// is written to the queue like any other (so the reference can still read the directory: it
// delivers such a message at once, as it would have itself) and its due time goes to a
// side file "<name>.diskqueue.deferred.dat" (lines "<16-character id> <due unix ns>"). When such a
// message is read back, it is deferred again for the remaining time. The reference ignores the
// side file; entries whose time has passed are dropped when it is loaded.
//
// Owner: a Topic or Channel (shared_ptr, so a queued sync task can outlive it safely).
// Threads: write() on publishing threads, read() on the disk worker, sync on the disk worker;
// all safe concurrently (DiskQueue has its own locks; the deferred index has a mutex).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/disk/disk_queue.hpp"
#include "nsqd/queue/message.hpp"

namespace nsq::nsqd {

class DiskWorker;
class GroupCommitter;

// What durable topics and channels share: where and how to store, who runs disk work, and
// whom to tell about disk health and metadata changes. Built once by Nsqd.
struct DiskContext {
  std::string data_path;
  disk::DiskQueueOptions queue_options;
  DiskWorker* worker = nullptr;  // null: syncs run inline (unit tests)
  // -durable: the commit thread; topics then keep a TopicLog (null: not durable).
  GroupCommitter* committer = nullptr;
  // -durable: a topic log starts a new segment past this size (trimming drops whole ones).
  int64_t log_segment_bytes = 64 * 1024 * 1024;
  // Every backend write reports here ("" = fine), as the reference's SetHealth(err).
  std::function<void(const std::string& error)> report_health;
  // -max-bytes-per-topic (0 = unlimited): a topic refuses a publish that needs disk while the
  // bytes of its files (its disk queue and its channels', or its -durable log) reach this.
  int64_t max_bytes_per_topic = 0;
  // A topic or channel was paused or unpaused: nsqd.dat should be rewritten.
  std::function<void()> metadata_changed;
  // Whether the last reported write or sync failed (so successes report only on recovery),
  // and likewise for reads (kIoError); /ping is OK again once neither is set.
  mutable std::atomic<bool> unhealthy{false};
  mutable std::atomic<bool> read_unhealthy{false};

  // A write (disk queue put, -durable log append) failed with `error`, or succeeded (""):
  // /ping turns NOK with the reason, and OK again at the next good write (unless a read
  // failure is still standing).
  void report_write(const std::string& error) const { report(unhealthy, read_unhealthy, error); }
  // Likewise for a read (kIoError from the disk queue), cleared by the next good read.
  void report_read(const std::string& error) const { report(read_unhealthy, unhealthy, error); }

 private:
  void report(std::atomic<bool>& failed, const std::atomic<bool>& other_failed,
              const std::string& error) const;
};

class MessageBackend : public std::enable_shared_from_this<MessageBackend> {
 public:
  // Header bytes in front of every body on disk.
  static constexpr size_t kHeaderSize = 26;

  // -durable takes over only the disk queues of nsqd.dat's topics and channels at start
  // (docs/persistence.md, "Switching modes"): true when "<name>.diskqueue" metadata is in
  // ctx.data_path all the same (a topic or channel created since), so the owner can warn.
  static bool left_behind(const DiskContext& ctx, const std::string& name);
  // Opens (or creates) "<name>.diskqueue.*" under ctx->data_path; fails on bad options.
  // hold_until_ack (channels): a message read stays in the persisted read position until
  // ack(id), so a crash delivers it again instead of losing it (DiskQueueOptions).
  static util::Result<std::shared_ptr<MessageBackend>> open(const std::string& name,
                                                            std::shared_ptr<const DiskContext> ctx,
                                                            bool hold_until_ack = false);
  ~MessageBackend();

  struct Outgoing {
    const Message* msg;
    uint16_t attempts = 0;
    int64_t deferred_until_wall_ns = 0;  // > 0: remembered in the side file at close()
  };
  // Appends every message or none; "" or the disk queue's error (also reported as health).
  std::string write(std::span<const Outgoing> msgs);

  struct Incoming {
    MessagePtr msg;
    uint16_t attempts = 0;
    int64_t defer_ns = 0;  // remaining delay of a message deferred before a restart
  };
  // Reads up to `max` messages into `out` (appended). Call from the disk worker.
  size_t read(size_t max, std::vector<Incoming>& out);

  // hold_until_ack: the message is done with (FIN); unknown ids are ignored.
  void ack(const MessageId& id);
  // hold_until_ack: every message read is safe elsewhere now (written back at shutdown).
  void release_reads();
  bool holds_reads() const { return hold_until_ack_; }

  int64_t depth() const { return queue_->depth(); }
  // Bytes of the disk queue's data files (-max-bytes-per-topic).
  int64_t disk_bytes() const { return queue_->disk_bytes(); }
  // Something may be readable: depth > 0, or records the metadata did not count (after a
  // crash the depth can be 0 while an unsynced tail waits to be salvaged; the reference's
  // reader also goes by positions, not depth).
  bool has_data() const { return depth() > 0 || salvage_.load(std::memory_order_relaxed); }
  const std::string& name() const { return queue_->name(); }

  // fsync + metadata when anything changed since the last sync (sync-timeout rule).
  void sync_if_dirty();
  // Syncs, saves the deferred side file and closes (shutdown).
  bool close();
  // Drops every message (/topic/empty, /channel/empty).
  void empty();
  // Removes every file (topic/channel deletion).
  void remove();

 private:
  MessageBackend(std::unique_ptr<disk::DiskQueue> queue, std::shared_ptr<const DiskContext> ctx,
                 bool hold_until_ack);
  void load_deferred_index();
  bool save_deferred_index();
  void schedule_sync_if_needed();
  void sync_now();
  std::string deferred_index_path() const;
  // The queue's FileOps (DiskQueueOptions::file_ops): the side file goes through it too.
  disk::FileOps& ops() const {
    return ctx_->queue_options.file_ops != nullptr ? *ctx_->queue_options.file_ops
                                                   : disk::real_file_ops();
  }

  std::unique_ptr<disk::DiskQueue> queue_;
  const std::shared_ptr<const DiskContext> ctx_;

  std::mutex deferred_mu_;
  std::unordered_map<MessageId, int64_t, MessageIdHash> deferred_until_;  // id -> unix ns
  std::atomic<bool> has_deferred_{false};
  std::atomic<bool> salvage_{false};

  const bool hold_until_ack_;
  std::mutex held_mu_;
  std::unordered_map<MessageId, uint64_t, MessageIdHash> held_;  // id -> DiskQueue read seq
  std::atomic<size_t> held_count_{0};                            // held_.size(), lock-free
};

}  // namespace nsq::nsqd
