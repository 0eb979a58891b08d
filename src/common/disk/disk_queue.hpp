// DiskQueue: a file-backed FIFO of opaque records, byte-for-byte compatible with the
// reference's go-diskqueue v1.1.0 (go-diskqueue's diskqueue.go), so a data directory can move
// between the reference nsqd and ours in either direction.
//
// On disk, in `data_path`:
//   <name>.diskqueue.<%06d file number>.dat   records [int32 BE length][payload], mode 0600
//   <name>.diskqueue.meta.dat "<depth>\n<readFile>,<readPos>\n<writeFile>,<writePos>\n"
// A file rolls when the next record would take it past max_bytes_per_file (a record larger than
// that still goes whole into a fresh file). A fully read file is deleted. A record whose length
// is outside [min_msg_size, max_msg_size], or a read error, renames the file "<file>.bad" and
// reading resumes with the next file.
//
// Differences from the reference, none visible in the file format:
// * put is all-or-nothing, also for a batch: a failed or short write (ENOSPC) is truncated
//   away, the write position and depth are restored, and the queue stays usable.
// * fsync does not block puts: sync() snapshots the positions under the lock and does the
//   fsync and the metadata write outside it. Only a file roll syncs inline (once per file),
//   as the reference does, so the metadata names the new file before anything is written to it.
// * A fully read file is unlinked after the next metadata write no longer points into it (not
//   at once), so a crash can never leave metadata naming a deleted file.
// * empty() writes fresh metadata (next file number, depth 0) instead of only deleting it, so a
//   crash right after it cannot restart the queue at file 0 and lose later writes.
// * At open, an unsynced tail (write file longer or shorter than recorded, or a later file
//   present) moves writing to the first unused file number; the reader salvages the rest,
//   and the depth is recounted from the files (the stale metadata's depth would show 0).
// * A read that fails with an I/O error (EIO, EMFILE; not a bad length or a torn record)
//   leaves the file where it is and returns kIoError; the reference would set the file aside
//   as ".bad" and lose its acknowledged records over a passing fault.
// * Reaching the exact end of a completed file moves on quietly where the reference can turn
//   an already fully read file into a ".bad" one.
//
// Sync policy (reference: every sync_every reads+writes, every sync_timeout if dirty, on roll,
// when the reader moves to a new file, after corruption handling, on close): the queue counts
// and flags, the owner runs the fsync where it may block. After puts/reads the owner checks
// try_schedule_sync() and, when true, calls sync() from a background thread; a timer calls
// sync() every sync_timeout when dirty(). close() always syncs.
//
// Owner: one topic or channel (unique_ptr). Threads: every method is safe from any thread.
// Writers serialise on a mutex; the consumer side has its own lock so a read never waits for a
// writer's I/O and vice versa; consume() calls its callback holding only the read lock, so
// the callback must not call back into the same queue. Lifecycle: open() -> put/consume/sync
// -> close() (final sync) or delete_all() (removes every file). The destructor closes.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/disk/file_ops.hpp"
#include "common/util/result.hpp"

namespace nsq::disk {

struct DiskQueueOptions {
  int64_t max_bytes_per_file = 100 * 1024 * 1024;
  // nsqd passes 26 (message header) and --max-msg-size + 26.
  int32_t min_msg_size = 26;
  int32_t max_msg_size = 1024 * 1024 + 26;
  // Reads + writes between syncs (reference --sync-every). try_schedule_sync() fires at it.
  int64_t sync_every = 2500;
  // Initial read buffer; grows to hold one record when a record is bigger.
  size_t read_buffer_size = 256 * 1024;
  // Fault injection for tests; nullptr = real syscalls. Must outlive the queue.
  FileOps* file_ops = nullptr;
  // Records handed out stay in the metadata's read position until ack()ed (beyond the
  // reference): a crash delivers a record again rather than lose one that was read but not yet
  // processed (nsqd's channels: in memory or in flight).
  bool hold_until_ack = false;
  // When the reader catches up with the writer inside the write file, start a new write file
  // so the fully read one can be deleted (beyond the reference, which keeps it until the next
  // roll). nsqd sets it only under -max-bytes-per-topic: a drained queue then gives its bytes
  // back instead of holding up to max_bytes_per_file of read records for ever.
  bool roll_when_drained = false;
  // Reads never move the persisted read position and never free a file (the metadata keeps
  // what open() found): a pass that copies a queue elsewhere and deletes it afterwards (the
  // -durable takeover) leaves it whole if it crashes first, with no per-record memory.
  bool keep_read_position = false;
};

// A record whose payload is `head` followed by `body`, written without joining them first
// (e.g. the 26-byte message header and the shared message body).
struct RecordView {
  std::string_view head;
  std::string_view body;
};

enum class ReadResult {
  kOk,        // one record was handed to the consumer and consumed
  kEmpty,     // nothing to read now
  kDeclined,  // the callback returned false: the record stays first in the queue
  kClosed,    // closed or deleted
  kIoError,   // the file could not be read now (EIO...): nothing moved, try again later
};

class DiskQueue {
 public:
  // Opens (or creates) the queue. Never fails on bad or missing metadata or data files (that
  // is logged and recovered, as the reference does); fails only on invalid options.
  static util::Result<std::unique_ptr<DiskQueue>> open(std::string name, std::string data_path,
                                                       const DiskQueueOptions& options);
  ~DiskQueue();
  DiskQueue(const DiskQueue&) = delete;
  DiskQueue& operator=(const DiskQueue&) = delete;

  // Appends records. All-or-nothing: on failure nothing was added and the error says why
  // ("exiting", "invalid message write size (...)", "write <file>: no space left on device").
  // A batch is written with as few pwritev calls as the file boundaries allow.
  util::Status put(std::string_view payload);
  util::Status put_batch(std::span<const std::string_view> payloads);
  util::Status put_records(std::span<const RecordView> records);

  // Hands the next record to `fn(std::string_view payload)` as a view into the read buffer,
  // valid only during the call (copy what you keep: that is the one copy). If `fn` returns
  // void or true the record is consumed (depth - 1); false leaves it for the next call.
  template <typename F>
  ReadResult consume(F&& fn) {
    using Fn = std::remove_reference_t<F>;
    return consume_impl(
        [](void* ctx, std::string_view payload) -> bool {
          if constexpr (std::is_void_v<std::invoke_result_t<Fn&, std::string_view>>) {
            (*static_cast<Fn*>(ctx))(payload);
            return true;
          } else {
            return static_cast<bool>((*static_cast<Fn*>(ctx))(payload));
          }
        },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }
  // Convenience: consumes the next record into `out`.
  ReadResult read_next(std::string& out);
  // With hold_until_ack: the number of the record being handed to consume()'s callback (valid
  // during the call), and its acknowledgement, after which the persisted read position may
  // move past it. release_all() acknowledges every record (they are safe elsewhere, e.g.
  // written back at shutdown).
  uint64_t reading_seq() const { return reading_seq_; }
  void ack(uint64_t seq);
  void release_all();
  size_t held() const;
  // Why the last consume() returned kIoError ("read <file>: input/output error"); "" after a
  // successful read.
  std::string read_error() const;

  // Records written and not yet consumed (lock-free; what /stats shows as backend_depth).
  int64_t depth() const { return depth_.load(std::memory_order_relaxed); }
  // Bytes of this queue's data files on disk, read ones not yet deleted included (lock-free;
  // -max-bytes-per-topic). Kept by the writes, rollbacks and deletions, not by a scan.
  int64_t disk_bytes() const { return disk_bytes_.load(std::memory_order_relaxed); }

  // Sync hints. needs_sync(): sync_every operations since the last sync, or a roll / file
  // change / corruption recovery asked for one. dirty(): anything at all since the last sync
  // (the sync_timeout rule). try_schedule_sync(): needs_sync() and no sync requested since
  // the last one started; returns true once, so the owner posts exactly one sync job.
  bool needs_sync() const;
  bool dirty() const;
  bool try_schedule_sync();

  // fsyncs the write file and then writes the metadata file atomically. Does its I/O outside
  // the queue's locks. On failure the queue stays needs_sync(). No-op after close.
  util::Status sync();

  // Deletes every data file, continues at the next file number with depth 0 (/topic/empty).
  util::Status empty();
  // Closes and removes every data file and the metadata file (topic/channel deletion).
  util::Status delete_all();
  // Syncs and closes; later calls return "exiting" (puts) or kClosed (reads). Idempotent.
  util::Status close();

  const std::string& name() const { return name_; }
  std::string data_file_name(int64_t file_num) const;
  std::string metadata_file_name() const;

  struct Positions {
    int64_t depth = 0;
    int64_t read_file_num = 0;
    int64_t read_pos = 0;
    int64_t write_file_num = 0;
    int64_t write_pos = 0;
  };
  Positions positions() const;

 private:
  using ConsumeFn = bool (*)(void*, std::string_view);

  // What one metadata write records; `seq` orders snapshots so an older one never overwrites
  // a newer one when syncs race.
  struct Snapshot {
    int64_t seq = 0;
    Positions pos;
  };

  DiskQueue(std::string name, std::string data_path, const DiskQueueOptions& options);

  static bool plausible(const Positions& p);
  void load_metadata();
  // File numbers or positions beyond this in the metadata are corruption (2^50), and keep the
  // arithmetic on them far from overflow.
  static constexpr int64_t kMaxFileNum = int64_t{1} << 50;
  bool adopt_existing_files_locked();
  // The data files of this queue that exist, numbers in [first, last], ascending.
  std::vector<int64_t> existing_data_files(int64_t first, int64_t last) const;
  int64_t count_readable_records_locked();
  ReadResult consume_impl(ConsumeFn fn, void* ctx);

  util::Status write_records_locked(std::span<const RecordView> records);
  util::Status ensure_write_file_locked();
  util::Status write_segment_locked(int64_t offset);
  void roll_write_file_locked();
  void rollback_locked(int64_t file_num, int64_t pos, int64_t depth);

  // Why a read stopped. A transient one (EIO, EMFILE...) leaves the file for a retry; any
  // other (a missing file, a torn record) sets the file aside as ".bad".
  struct ReadFailure {
    std::string why;
    bool transient = false;
  };
  // std::nullopt: the file is open (and, for `complete`, its size known) / the bytes are in buf_.
  [[nodiscard]] std::optional<ReadFailure> ensure_read_file_locked(bool complete);
  [[nodiscard]] std::optional<ReadFailure> fill_locked(int64_t pos, size_t need, int64_t limit);
  ReadResult io_error_locked(const std::string& why);
  void reset_reader_locked();
  void finish_read_file_locked();
  void handle_read_error_locked(const std::string& why);
  void check_tail_corruption_locked();
  void skip_to_next_rw_file_locked();

  Snapshot snapshot_locked();
  util::Status write_metadata(const Snapshot& snap);
  std::vector<int64_t> take_deletable_locked(int64_t persisted_read_file_num);
  bool unlink_quietly(const std::string& path, const char* what);
  std::vector<int64_t> unlink_consumed(const std::vector<int64_t>& files);  // returns failures
  void retry_unlink_later_locked(const std::vector<int64_t>& failed);

  const std::string name_;
  const std::string data_path_;
  const DiskQueueOptions opts_;
  FileOps& ops_;

  // Lock order: read_mu_ -> mu_ -> meta_mu_.
  // read_mu_: the consumer's file, buffer and cursor. read_file_num_/read_pos_ change only
  // with read_mu_ and mu_ both held, so either lock is enough to read them.
  mutable std::mutex read_mu_;
  FileHandlePtr read_file_;
  int64_t read_file_open_num_ = -1;
  bool read_file_complete_ = false;  // read_file_size_ is final (the writer moved on)
  int64_t read_file_size_ = 0;
  std::unique_ptr<char[]> buf_;  // allocated by the first read (most queues are never read)
  size_t buf_cap_ = 0;
  size_t buf_len_ = 0;
  int64_t buf_file_off_ = 0;  // file offset of buf_[0]
  std::string read_error_;
  uint64_t reading_seq_ = 0;

  // mu_: positions, the write file, sync bookkeeping.
  mutable std::mutex mu_;
  bool closed_ = false;
  int64_t read_file_num_ = 0;
  int64_t read_pos_ = 0;
  int64_t write_file_num_ = 0;
  int64_t write_pos_ = 0;
  std::atomic<int64_t> depth_{0};
  FileHandlePtr write_file_;
  int64_t ops_since_sync_ = 0;
  bool force_sync_ = false;
  int64_t seq_ = 0;
  std::vector<int64_t> consumed_files_;  // fully read, unlinked once metadata moved past them
  std::vector<iovec> iov_;               // scratch for one pwritev batch
  std::vector<char> len_bufs_;           // the 4-byte length prefixes iov_ points at
  std::atomic<bool> sync_scheduled_{false};
  Positions kept_;  // keep_read_position: what every metadata write records as read
  // hold_until_ack: records read and not yet acknowledged, oldest first; the metadata's read
  // position is the front's. An acknowledged record leaves once every older one has.
  struct Held {
    uint64_t seq;
    int64_t file_num;
    int64_t pos;
    bool acked;
  };
  std::deque<Held> held_;
  uint64_t read_seq_ = 0;  // records handed out since open; changes with read_mu_ and mu_ held

  // Disk accounting: the size of every data file this queue still has on disk. bytes_mu_ is a
  // leaf lock (taken under any of the others, or none: deletions happen outside mu_).
  void set_file_bytes(int64_t file_num, int64_t size);
  void forget_file_bytes(int64_t file_num);
  void forget_all_file_bytes();
  void count_file_bytes_locked();  // at open: stat the files from the reader to the writer
  void roll_drained_write_file_locked();
  std::mutex bytes_mu_;
  std::map<int64_t, int64_t> file_bytes_;
  std::atomic<int64_t> disk_bytes_{0};

  // meta_mu_: the metadata file and which snapshot it holds.
  std::mutex meta_mu_;
  int64_t persisted_seq_ = 0;
};

}  // namespace nsq::disk
