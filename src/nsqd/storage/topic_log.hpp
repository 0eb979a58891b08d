// TopicLog: a topic's append-only message log in durable mode (-durable, docs/persistence.md,
// "Durable mode"). Every record carries a logical offset (0, 1, 2, ... per topic, never reused),
// so channels are cursors over one copy of each message and a second process can replay the
// log from any offset it remembers.
//
// On disk, in `dir` (nsqd uses <data-path>/<topic>.log/):
//   <%020 base offset>.seg   a 16-byte header, then records; named by the offset of its first
//                            record, so a reader finds an offset's segment from the names alone.
//   header  "NSQL" | u16 format version | u16 0 | u64 base offset          (big-endian)
//   record  u32 L | u32 CRC-32C of the L payload bytes |
//           payload: u64 offset | 16-byte message id | i64 timestamp ns |
//                    i64 due time ns (0 = at once; DPUB) | body (L - 40 bytes)
//
// Durability: append() only writes into the page cache (pwrite) and returns the offsets;
// sync() (the group-commit thread, GroupCommitter) fsyncs and then runs the callbacks of every
// append it covered. A new segment is only started by sync(), before its fsyncs, so at most the
// last two segments can hold unsynced bytes; open() checks those two record by record and cuts
// the log at the first torn or corrupt record (wrong length, CRC or offset), deleting any later
// segment. Earlier segments were fsynced whole before a later one existed and are trusted.
// After a failed fsync the log refuses every further append and sync (the page cache may have
// dropped the dirty pages: retrying could report a write durable that is lost).
//
// Preallocation: after a small commit (<= 64 KiB), sync() keeps zero-filled, fsynced space
// ahead of the last segment's end (sized by the commit's volume, at most
// options.preallocate_bytes), so the next commits overwrite blocks the file system has already
// allocated and fdatasync flushes data only, without a journal commit for the size: ~100 us
// instead of ~180 us per commit on this project's ext4/virtio machines (docs/persistence.md,
// "Group commit"). The zeros end the log on recovery (a record length of 0 is invalid, so the
// scan stops there and cuts them), and preallocation never passes segment_bytes, where the
// next segment starts: only the last segment ever has a zero tail.
//
// Owner: the topic (shared with the commit thread). Threads: every method is safe from any
// thread; append/read/trim take a short mutex and never fsync; sync() fsyncs outside it.
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

#include "common/disk/file_ops.hpp"
#include "common/util/result.hpp"
#include "nsq/protocol/wire.hpp"

namespace nsq::nsqd {

inline constexpr uint16_t kTopicLogFormatVersion = 1;
inline constexpr size_t kTopicLogSegmentHeaderSize = 16;
inline constexpr size_t kTopicLogRecordHeaderSize = 48;  // length, crc, offset, id, ts, due

// One message to append.
struct LogAppend {
  protocol::MessageId id;
  int64_t timestamp_ns = 0;
  int64_t due_ns = 0;
  std::string_view body;
};

// One message read back.
struct LogRecord {
  uint64_t offset = 0;
  protocol::MessageId id{};
  int64_t timestamp_ns = 0;
  int64_t due_ns = 0;
  std::string body;
};

struct TopicLogOptions {
  std::string dir;
  // sync() starts a new segment once the current one holds at least this many bytes.
  int64_t segment_bytes = 64 * 1024 * 1024;
  // Records with a longer payload are corrupt (a torn length field).
  uint32_t max_payload = 64 * 1024 * 1024;
  // The most zero-filled bytes kept ahead of the last segment's end (0: no preallocation);
  // also at most segment_bytes / 8, so small segments (-max-bytes-per-topic) get none.
  int64_t preallocate_bytes = 1024 * 1024;
  disk::FileOps* ops = nullptr;  // null: the real syscalls
};

class TopicLog {
 public:
  // Runs on the commit thread once the appended records are durable (error empty) or can
  // never be (error says why). Must not block.
  using DurableCallback = std::function<void(const std::string& error)>;

  // Opens or creates the log and recovers its tail.
  static util::Result<std::shared_ptr<TopicLog>> open(const TopicLogOptions& options);
  ~TopicLog();
  TopicLog(const TopicLog&) = delete;
  TopicLog& operator=(const TopicLog&) = delete;

  // Appends `items` in order (one write). Returns the offset of the first, or why nothing was
  // appended. `on_durable`, when given, runs after the sync that covers the last item.
  util::Result<uint64_t> append(std::span<const LogAppend> items,
                                DurableCallback on_durable = nullptr);

  // The commit thread: fsyncs whatever append() wrote, then completes the callbacks it covers.
  // Returns the number of fsync calls made (0 when nothing was dirty), and adds it to
  // `*fsync_count` (if given) BEFORE the callbacks run, so a publisher that got its OK reads a
  // count that includes its fsync (/metrics). After the callbacks it may extend the
  // preallocated space (one more fsync, counted the same way).
  int sync(std::atomic<uint64_t>* fsync_count = nullptr);

  // Appends `max_records` records at most, starting at `from` (clamped to start_offset()),
  // up to what was appended so far (synced or not). Fails on an I/O error or a corrupt record.
  util::Status read(uint64_t from, size_t max_records, std::vector<LogRecord>& out);

  // A file was created in the log directory (a new channel's journal): the next sync fsyncs
  // the directory before it reports anything durable, so no OK for a later offset can outlive
  // the file's name in a power loss.
  void directory_changed();
  // Deletes whole segments that only hold offsets below `offset` (never the last segment).
  void trim_below(uint64_t offset);
  // The topic was deleted: fails every waiting append with "exiting", refuses later ones,
  // and removes the segments and the directory.
  void remove_all();

  uint64_t start_offset() const;   // the first offset still stored
  uint64_t next_offset() const;    // the offset the next append gets
  uint64_t synced_offset() const;  // every offset below it is durable
  size_t segment_count() const;
  // Bytes of the segments' headers and records (the journals and the preallocated zeros
  // aside): what -max-bytes-per-topic limits. Lock-free; kept by append, new segments and
  // trimming.
  int64_t disk_bytes() const { return disk_bytes_.load(std::memory_order_relaxed); }
  bool has_waiters() const;
  const std::string& dir() const { return options_.dir; }

 private:
  struct Segment {
    uint64_t base = 0;
    disk::FileHandlePtr file;
    int64_t size = 0;       // bytes written, header included
    int64_t allocated = 0;  // file bytes: past `size`, zeros (preallocate_ahead)
    // Sparse (offset, file position) pairs for reads: one per kIndexEvery records.
    std::vector<std::pair<uint64_t, int64_t>> index;
    bool indexed = false;  // index covers the whole segment
    uint64_t records = 0;
  };
  struct Waiter {
    uint64_t end;  // durable once synced_ >= end
    DurableCallback callback;
  };

  explicit TopicLog(TopicLogOptions options);
  util::Status load();
  // Whether the segment had to be cut at a torn or corrupt record.
  util::Result<bool> recover_segment(Segment& seg);
  util::Status create_segment_locked(uint64_t base);
  util::Status index_segment_locked(Segment& seg);
  std::string segment_path(uint64_t base) const;
  int fsync_dir(const std::string& path);  // 0 or -errno
  // Commit thread, after a sync that covered `cycle_bytes`: zero-fills and fsyncs space ahead
  // of the last segment's end when less than ~16 such cycles are left. Returns fsyncs made.
  int preallocate_ahead(int64_t cycle_bytes);
  void fail_locked(const std::string& error, std::vector<Waiter>& to_fail);

  const TopicLogOptions options_;
  disk::FileOps& ops_;
  mutable std::mutex mu_;
  std::mutex sync_mu_;                    // one sync() at a time
  std::map<uint64_t, Segment> segments_;  // by base offset; never empty once open
  uint64_t next_offset_ = 0;
  uint64_t synced_ = 0;
  std::vector<disk::FileHandlePtr> unsynced_files_;  // written since the last sync
  int64_t unsynced_bytes_ = 0;                       // appended since the last sync
  bool dir_dirty_ = false;                           // a segment was created or deleted
  std::deque<Waiter> waiters_;                       // in offset order
  std::string failed_;                               // non-empty after a failed fsync
  std::string scratch_;                              // append's encode buffer
  std::atomic<int64_t> disk_bytes_{0};               // the sum of segments_' sizes
};

}  // namespace nsq::nsqd
