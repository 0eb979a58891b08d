// ChannelJournal: a durable-mode channel's acknowledgement state over its topic's log
// (docs/persistence.md, "Durable mode"; Channel::attach_log opens one per durable channel). A
// channel is a cursor over the log: every offset below its ack floor is FINed, `acked` holds the
// FINed offsets above the floor, `deferred` the due times of REQs with a delay, and `started` the
// offset the channel began at (a new channel starts at the log end).
//
// On disk, in the topic's log directory:
//   <channel>.acks   records  u32 CRC-32C of the next 17 bytes | u8 type | u64 offset |
//                             i64 due ns   (type 1 START, 2 ACK, 3 DEFER, 4 EMPTY; big-endian)
//   <channel>.ckpt   written atomically: "NSQA" | u16 version 1 | u16 0 | u64 floor |
//                    u32 n | n x u64 acked | u32 m | m x (u64 offset, i64 due) | u32 CRC-32C
// open() loads the checkpoint and applies the journal on top, cutting a torn or corrupt tail
// record. Records are idempotent (an ACK twice, a START after the floor moved on), so a crash
// between writing a checkpoint and emptying the journal replays harmlessly.
//
// Durability rule: flush(synced) writes only records whose offset is below `synced`, the
// topic log's durable end (START and EMPTY: at most `synced`), and keeps the others buffered. So
// after a power loss no ACK can name an offset the log lost and a new message will reuse.
//
// Threads: record() from any thread (a short mutex, no I/O); flush() and compaction on the
// commit thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/disk/file_ops.hpp"
#include "common/util/result.hpp"

namespace nsq::nsqd {

inline constexpr uint16_t kChannelCheckpointVersion = 1;

// kEmpty (/channel/empty): every offset below it counts as acknowledged.
enum class AckRecord : uint8_t { kStart = 1, kAck = 2, kDefer = 3, kEmpty = 4 };

struct AckState {
  bool started = false;
  uint64_t floor = 0;                    // every offset below is acknowledged
  std::set<uint64_t> acked;              // acknowledged offsets above the floor
  std::map<uint64_t, int64_t> deferred;  // offset -> due time (ns since the epoch)

  bool is_acked(uint64_t offset) const { return offset < floor || acked.count(offset) > 0; }
  void apply(AckRecord type, uint64_t offset, int64_t due_ns);
};

class ChannelJournal {
 public:
  // Opens or creates "<dir>/<channel>.acks" and ".ckpt".
  static util::Result<std::unique_ptr<ChannelJournal>> open(const std::string& dir,
                                                            const std::string& channel,
                                                            disk::FileOps* ops = nullptr);
  ~ChannelJournal();
  ChannelJournal(const ChannelJournal&) = delete;
  ChannelJournal& operator=(const ChannelJournal&) = delete;

  // Buffers a record (no I/O).
  void record(AckRecord type, uint64_t offset, int64_t due_ns = 0);

  // Commit thread: appends and fsyncs the buffered records below `synced`; compacts into the
  // checkpoint once the journal holds `compact_after` records. Returns the fsyncs made.
  util::Result<int> flush(uint64_t synced);

  // What is durable: the state recovery starts from.
  AckState durable_state() const;
  // The durable ack floor: the topic log may drop every segment below it.
  uint64_t durable_floor() const;
  size_t buffered() const;
  // The journal (even empty) or checkpoint file was there before open(): the channel
  // existed already. A new journal's name is durable only after a directory fsync: its
  // creator calls TopicLog::directory_changed() so that happens before the next OK.
  bool existed() const { return existed_; }
  // Channel deletion: closes and unlinks both files; later records and flushes do nothing.
  void remove();
  size_t compact_after = 4096;

 private:
  ChannelJournal(std::string journal_path, std::string checkpoint_path, disk::FileOps& ops);
  util::Status load();
  util::Status compact();

  struct Pending {
    AckRecord type;
    uint64_t offset;
    int64_t due_ns;
  };

  const std::string journal_path_;
  const std::string checkpoint_path_;
  disk::FileOps& ops_;
  int fd_ = -1;
  bool existed_ = false;
  bool removed_ = false;  // under io_mu_
  std::mutex io_mu_;      // flush() against remove()
  int64_t size_ = 0;      // journal bytes (commit thread)
  size_t records_ = 0;    // journal records since the last checkpoint (commit thread)
  AckState durable_;      // commit thread (read under mu_ by durable_state())
  mutable std::mutex mu_;
  std::vector<Pending> pending_;
};

}  // namespace nsq::nsqd
