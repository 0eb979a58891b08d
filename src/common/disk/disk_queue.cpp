#include "common/disk/disk_queue.hpp"

#include <fcntl.h>
#include <limits.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/disk/atomic_file.hpp"
#include "common/log/logger.hpp"
#include "nsq/protocol/wire.hpp"

namespace nsq::disk {

namespace {

constexpr size_t kLenSize = 4;

// Parses one decimal int64 at `p` and the separator after it (Fscanf "%d<sep>").
bool parse_field(const char*& p, const char* end, char sep, int64_t& out) {
  auto [next, ec] = std::from_chars(p, end, out);
  if (ec != std::errc() || next == end || *next != sep) return false;
  p = next + 1;
  return true;
}

bool parse_metadata_text(std::string_view text, DiskQueue::Positions& pos) {
  // Tolerate a missing final newline (hand-edited files); everything else must match.
  std::string with_nl(text);
  if (with_nl.empty() || with_nl.back() != '\n') with_nl += '\n';
  const char* p = with_nl.data();
  const char* end = p + with_nl.size();
  return parse_field(p, end, '\n', pos.depth) && parse_field(p, end, ',', pos.read_file_num) &&
         parse_field(p, end, '\n', pos.read_pos) && parse_field(p, end, ',', pos.write_file_num) &&
         parse_field(p, end, '\n', pos.write_pos);
}

std::string metadata_text(const DiskQueue::Positions& p) {
  char buf[5 * 21 + 8];
  int n = std::snprintf(
      buf, sizeof buf, "%lld\n%lld,%lld\n%lld,%lld\n", static_cast<long long>(p.depth),
      static_cast<long long>(p.read_file_num), static_cast<long long>(p.read_pos),
      static_cast<long long>(p.write_file_num), static_cast<long long>(p.write_pos));
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Construction, metadata

DiskQueue::DiskQueue(std::string name, std::string data_path, const DiskQueueOptions& options)
    : name_(std::move(name)),
      data_path_(std::move(data_path)),
      opts_(options),
      ops_(options.file_ops ? *options.file_ops : real_file_ops()) {}

util::Result<std::unique_ptr<DiskQueue>> DiskQueue::open(std::string name, std::string data_path,
                                                         const DiskQueueOptions& options) {
  if (name.empty()) return util::fail("diskqueue name must not be empty");
  if (options.max_bytes_per_file <= 0 || options.min_msg_size < 0 ||
      options.max_msg_size < options.min_msg_size || options.sync_every <= 0) {
    return util::fail("invalid diskqueue options for " + name);
  }
  std::unique_ptr<DiskQueue> q(new DiskQueue(std::move(name), std::move(data_path), options));
  q->load_metadata();
  if (options.keep_read_position) q->kept_ = q->positions();
  return q;
}

DiskQueue::~DiskQueue() {
  if (auto closed = close(); !closed) {
    log::error("DISKQUEUE({}) failed to close - {}", name_, closed.error());
  }
}

std::string DiskQueue::data_file_name(int64_t file_num) const {
  char num[24];
  std::snprintf(num, sizeof num, "%06lld", static_cast<long long>(file_num));
  return join_path(data_path_, name_ + ".diskqueue." + num + ".dat");
}

std::string DiskQueue::metadata_file_name() const {
  return join_path(data_path_, name_ + ".diskqueue.meta.dat");
}

// Metadata a queue could have written: no negative or absurd numbers, the reader never past
// the writer. Anything else is corruption, and the data files are read instead.
bool DiskQueue::plausible(const Positions& p) {
  auto in_range = [](int64_t v) { return v >= 0 && v <= kMaxFileNum; };
  if (!in_range(p.read_file_num) || !in_range(p.read_pos) || !in_range(p.write_file_num) ||
      !in_range(p.write_pos) || p.depth < 0) {
    return false;
  }
  return p.read_file_num < p.write_file_num ||
         (p.read_file_num == p.write_file_num && p.read_pos <= p.write_pos);
}

void DiskQueue::load_metadata() {
  // Called before the queue is shared; locks only to keep the invariants uniform.
  std::lock_guard rl(read_mu_);
  std::lock_guard l(mu_);
  const std::string meta = metadata_file_name();
  if (const size_t stale = remove_stale_temp_files(meta); stale > 0) {
    log::info("DISKQUEUE({}): removed {} temp file(s) of {} left by a crash", name_, stale, meta);
  }
  bool have_metadata = false;
  const auto text = read_whole_file(meta, &ops_);
  if (!text) {
    log::error("DISKQUEUE({}) failed to retrieveMetaData - {}", name_, text.error());
  } else if (*text) {  // std::nullopt: a new queue, or a crash before the first metadata write
    Positions p;
    if (!parse_metadata_text(**text, p) || !plausible(p)) {
      log::error("DISKQUEUE({}) failed to retrieveMetaData - unparseable {}", name_, meta);
    } else {
      depth_ = p.depth;
      read_file_num_ = p.read_file_num;
      read_pos_ = p.read_pos;
      write_file_num_ = p.write_file_num;
      write_pos_ = p.write_pos;
      have_metadata = true;
    }
  }
  // Without usable metadata the reference starts at file 0 and overwrites whatever is there;
  // the data files themselves say where the records are.
  bool recount = !have_metadata && adopt_existing_files_locked();

  // If the last metadata write did not see the end of the data (no sync before a crash), the
  // write file is longer (or, after a power loss, shorter) than recorded, or a later file even
  // exists. Appending there would interleave old and new records or overwrite unread ones, so
  // writing moves to the first unused file number and the reader salvages what is there.
  const std::string wf = data_file_name(write_file_num_);
  int64_t size = 0;
  int r = ops_.stat_size(wf, size);
  int64_t probe = 0;
  bool later_exists = ops_.stat_size(data_file_name(write_file_num_ + 1), probe) == 0;
  // A write file that cannot even be looked at (EIO) may hold an unsynced tail: moving on is
  // the safe choice.
  bool mismatch = (r == 0 && size != write_pos_) || (r == -ENOENT && write_pos_ != 0) ||
                  (r < 0 && r != -ENOENT);
  if (r < 0 && r != -ENOENT) {
    log::error("DISKQUEUE({}) failed to retrieveMetaData - stat {}: {}", name_, wf, errno_text(-r));
  }
  if (mismatch || later_exists) {
    log::warn("DISKQUEUE({}) {} metadata writePos {} < file size of {}, skipping to new file",
              name_, wf, write_pos_, r == 0 ? size : 0);
    do {
      ++write_file_num_;
    } while (ops_.stat_size(data_file_name(write_file_num_), probe) == 0);
    write_pos_ = 0;
    force_sync_ = true;
    recount = true;
  }
  if (recount) {
    // The metadata's depth predates the unsynced records (or there is none): count what the
    // reader will find, so /stats shows the salvaged messages instead of 0.
    const int64_t stale = depth_.load(std::memory_order_relaxed);
    const int64_t counted = count_readable_records_locked();
    if (counted >= 0 && counted != stale) {
      log::warn("DISKQUEUE({}) metadata depth {} is stale, {} records found on disk", name_, stale,
                counted);
      depth_.store(counted, std::memory_order_relaxed);
    }
  }
  check_tail_corruption_locked();
  count_file_bytes_locked();
}

void DiskQueue::count_file_bytes_locked() {
  for (int64_t f : existing_data_files(read_file_num_, write_file_num_)) {
    int64_t size = 0;
    if (ops_.stat_size(data_file_name(f), size) == 0) set_file_bytes(f, size);
  }
}

void DiskQueue::set_file_bytes(int64_t file_num, int64_t size) {
  std::lock_guard b(bytes_mu_);
  int64_t& bytes = file_bytes_[file_num];
  disk_bytes_.fetch_add(size - bytes, std::memory_order_relaxed);
  bytes = size;
}

void DiskQueue::forget_file_bytes(int64_t file_num) {
  std::lock_guard b(bytes_mu_);
  auto it = file_bytes_.find(file_num);
  if (it == file_bytes_.end()) return;
  disk_bytes_.fetch_sub(it->second, std::memory_order_relaxed);
  file_bytes_.erase(it);
}

void DiskQueue::forget_all_file_bytes() {
  std::lock_guard b(bytes_mu_);
  file_bytes_.clear();
  disk_bytes_.store(0, std::memory_order_relaxed);
}

// Counts the whole records from the read position to the end of the last file before the
// write file, stopping in each file where the reader would (a bad length or a torn record).
// -1 when a file could not be read (the depth then stays as it was).
int64_t DiskQueue::count_readable_records_locked() {
  int64_t count = 0;
  std::vector<char> chunk(std::max<size_t>(opts_.read_buffer_size, 4096));
  for (int64_t f : existing_data_files(read_file_num_, write_file_num_ - 1)) {
    const std::string fn = data_file_name(f);
    int fd = ops_.open(fn, O_RDONLY, 0600);
    if (fd == -ENOENT) continue;  // missing: the reader skips it too
    if (fd < 0) return -1;
    FileHandle file(ops_, fd);
    int64_t size = 0;
    if (ops_.fstat_size(fd, size) < 0) return -1;
    int64_t pos = f == read_file_num_ ? read_pos_ : 0;
    // Only the 4-byte lengths are read; the payloads are skipped.
    int64_t chunk_off = -1;
    int64_t chunk_len = 0;
    while (pos + static_cast<int64_t>(kLenSize) <= size) {
      if (chunk_off < 0 || pos + static_cast<int64_t>(kLenSize) > chunk_off + chunk_len) {
        ssize_t n = ops_.pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(pos));
        if (n < 0) return -1;
        if (n < static_cast<ssize_t>(kLenSize)) break;
        chunk_off = pos;
        chunk_len = n;
      }
      const int32_t len = protocol::read_be32s(chunk.data() + (pos - chunk_off));
      if (len < opts_.min_msg_size || len > opts_.max_msg_size) break;
      const int64_t next = pos + static_cast<int64_t>(kLenSize) + len;
      if (next > size) break;
      ++count;
      pos = next;
    }
  }
  return count;
}

// Points the reader at the lowest and the writer past the highest "<name>.diskqueue.N.dat" in
// the data path. Returns whether there was any.
bool DiskQueue::adopt_existing_files_locked() {
  const std::vector<int64_t> files = existing_data_files(0, kMaxFileNum);
  if (files.empty()) return false;
  log::warn("DISKQUEUE({}) no usable metadata, reading data files {} to {}", name_, files.front(),
            files.back());
  read_file_num_ = files.front();
  read_pos_ = 0;
  write_file_num_ = files.back() + 1;
  write_pos_ = 0;
  force_sync_ = true;
  return true;
}

std::vector<int64_t> DiskQueue::existing_data_files(int64_t first, int64_t last) const {
  std::vector<int64_t> out;
  if (last < first) return out;
  if (last - first < 64) {  // a few: ask for each (also what the fault-injection tests see)
    for (int64_t f = first; f <= last; ++f) {
      int64_t size = 0;
      if (ops_.stat_size(data_file_name(f), size) != -ENOENT) out.push_back(f);
    }
    return out;
  }
  // A wide range (corrupt metadata can claim billions of files): list the directory instead.
  const std::string prefix = name_ + ".diskqueue.";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_path_, ec)) {
    const std::string file = entry.path().filename().string();
    if (file.size() <= prefix.size() + 4 || file.compare(0, prefix.size(), prefix) != 0 ||
        file.compare(file.size() - 4, 4, ".dat") != 0) {
      continue;
    }
    const char* begin = file.data() + prefix.size();
    const char* end = file.data() + file.size() - 4;
    int64_t num = 0;
    auto [stop, err] = std::from_chars(begin, end, num);
    // Skips the metadata, ".bad" files and other queues whose names start with this one's.
    if (err != std::errc() || stop != end || num < first || num > last) continue;
    out.push_back(num);
  }
  std::sort(out.begin(), out.end());
  return out;
}

DiskQueue::Snapshot DiskQueue::snapshot_locked() {
  Snapshot s;
  s.seq = ++seq_;
  s.pos = Positions{depth_.load(std::memory_order_relaxed), read_file_num_, read_pos_,
                    write_file_num_, write_pos_};
  if (!held_.empty()) {
    // A restart reads again from the oldest record not yet acknowledged.
    s.pos.read_file_num = held_.front().file_num;
    s.pos.read_pos = held_.front().pos;
    s.pos.depth += static_cast<int64_t>(held_.size());
  }
  if (opts_.keep_read_position) {
    s.pos.read_file_num = kept_.read_file_num;
    s.pos.read_pos = kept_.read_pos;
    s.pos.depth = kept_.depth;
  }
  return s;
}

void DiskQueue::ack(uint64_t seq) {
  std::lock_guard l(mu_);
  auto it = std::lower_bound(held_.begin(), held_.end(), seq,
                             [](const Held& h, uint64_t s) { return h.seq < s; });
  if (it == held_.end() || it->seq != seq) return;  // released already
  it->acked = true;
  const bool front = it == held_.begin();
  while (!held_.empty() && held_.front().acked) held_.pop_front();
  if (front) ++ops_since_sync_;  // the persisted read position can move
}

void DiskQueue::release_all() {
  std::lock_guard l(mu_);
  if (held_.empty()) return;
  held_.clear();
  force_sync_ = true;
}

size_t DiskQueue::held() const {
  std::lock_guard l(mu_);
  return held_.size();
}

util::Status DiskQueue::write_metadata(const Snapshot& snap) {
  std::lock_guard ml(meta_mu_);
  // A newer state is already on disk (a roll or empty() raced this sync): keep it.
  if (snap.seq <= persisted_seq_) return {};
  auto written = write_file_atomically(metadata_file_name(), metadata_text(snap.pos), &ops_);
  if (written) persisted_seq_ = snap.seq;
  return written;
}

std::vector<int64_t> DiskQueue::take_deletable_locked(int64_t persisted_read_file_num) {
  std::vector<int64_t> out;
  auto keep = std::remove_if(consumed_files_.begin(), consumed_files_.end(), [&](int64_t f) {
    if (f >= persisted_read_file_num) return false;
    out.push_back(f);
    return true;
  });
  consumed_files_.erase(keep, consumed_files_.end());
  return out;
}

bool DiskQueue::unlink_quietly(const std::string& path, const char* what) {
  int r = ops_.unlink(path);
  if (r < 0 && r != -ENOENT) {
    log::error("DISKQUEUE({}) failed to remove {} - remove {}: {}", name_, what, path,
               errno_text(-r));
    return false;
  }
  return true;
}

std::vector<int64_t> DiskQueue::unlink_consumed(const std::vector<int64_t>& files) {
  std::vector<int64_t> failed;
  for (int64_t f : files) {
    if (unlink_quietly(data_file_name(f), "data file")) {
      forget_file_bytes(f);
    } else {
      failed.push_back(f);
    }
  }
  return failed;
}

void DiskQueue::retry_unlink_later_locked(const std::vector<int64_t>& failed) {
  // A file that could not be removed (EIO, EBUSY) is tried again after the next sync rather
  // than left on disk for good.
  consumed_files_.insert(consumed_files_.end(), failed.begin(), failed.end());
}

// ---------------------------------------------------------------------------------------------
// Sync

bool DiskQueue::needs_sync() const {
  std::lock_guard l(mu_);
  return !closed_ && (force_sync_ || ops_since_sync_ >= opts_.sync_every);
}

bool DiskQueue::dirty() const {
  std::lock_guard l(mu_);
  return !closed_ && (force_sync_ || ops_since_sync_ > 0);
}

bool DiskQueue::try_schedule_sync() {
  if (sync_scheduled_.load(std::memory_order_relaxed)) return false;
  if (!needs_sync()) return false;
  return !sync_scheduled_.exchange(true, std::memory_order_acq_rel);
}

util::Status DiskQueue::sync() {
  Snapshot snap;
  FileHandlePtr wf;
  {
    std::lock_guard l(mu_);
    if (closed_) return {};
    snap = snapshot_locked();
    wf = write_file_;
    ops_since_sync_ = 0;
    force_sync_ = false;
    sync_scheduled_.store(false, std::memory_order_release);
  }
  // The fsync covers every byte written before the snapshot, so the metadata below never
  // claims more than is durable. Puts continue meanwhile.
  util::Status result;
  if (wf) {
    if (int r = ops_.fsync(wf->fd()); r < 0) {
      result =
          util::fail("sync " + data_file_name(snap.pos.write_file_num) + ": " + errno_text(-r));
    }
  }
  if (result) result = write_metadata(snap);
  const bool ok = result.ok();
  std::vector<int64_t> doomed;
  {
    std::lock_guard l(mu_);
    if (!ok) {
      force_sync_ = true;
    } else if (!closed_) {
      doomed = take_deletable_locked(snap.pos.read_file_num);
    }
  }
  if (auto failed = unlink_consumed(doomed); !failed.empty()) {
    std::lock_guard l(mu_);
    if (!closed_) retry_unlink_later_locked(failed);
  }
  if (!ok) log::error("DISKQUEUE({}) failed to sync - {}", name_, result.error());
  return result;
}

// ---------------------------------------------------------------------------------------------
// Writing

util::Status DiskQueue::put(std::string_view payload) {
  RecordView r{payload, {}};
  return put_records(std::span<const RecordView>(&r, 1));
}

util::Status DiskQueue::put_batch(std::span<const std::string_view> payloads) {
  // RecordView is two views; building them is cheap next to the write.
  std::vector<RecordView> recs;
  recs.reserve(payloads.size());
  for (auto p : payloads) recs.push_back(RecordView{p, {}});
  return put_records(recs);
}

util::Status DiskQueue::put_records(std::span<const RecordView> records) {
  for (const auto& r : records) {
    size_t len = r.head.size() + r.body.size();
    if (len < static_cast<size_t>(opts_.min_msg_size) ||
        len > static_cast<size_t>(opts_.max_msg_size)) {
      return util::fail("invalid message write size (" + std::to_string(len) +
                        ") minMsgSize=" + std::to_string(opts_.min_msg_size) +
                        " maxMsgSize=" + std::to_string(opts_.max_msg_size));
    }
  }
  if (records.empty()) return {};
  std::lock_guard l(mu_);
  if (closed_) return util::fail("exiting");
  return write_records_locked(records);
}

util::Status DiskQueue::ensure_write_file_locked() {
  if (write_file_) return {};
  const std::string fn = data_file_name(write_file_num_);
  int fd = ops_.open(fn, O_RDWR | O_CREAT, 0600);
  if (fd < 0) return util::fail("open " + fn + ": " + errno_text(-fd));
  write_file_ = std::make_shared<FileHandle>(ops_, fd);
  log::info("DISKQUEUE({}): writeOne() opened {}", name_, fn);
  return {};
}

// Writes iov_ at `offset` of the write file, looping over short writes and IOV_MAX.
util::Status DiskQueue::write_segment_locked(int64_t offset) {
  if (auto opened = ensure_write_file_locked(); !opened) return opened;
  size_t idx = 0;
  while (idx < iov_.size()) {
    int cnt = static_cast<int>(std::min<size_t>(iov_.size() - idx, IOV_MAX));
    ssize_t n = ops_.pwritev(write_file_->fd(), &iov_[idx], cnt, static_cast<off_t>(offset));
    if (n <= 0) {
      // 0 from a regular file means it accepted nothing: treat as out of space.
      int err = n < 0 ? static_cast<int>(-n) : ENOSPC;
      return util::fail("write " + data_file_name(write_file_num_) + ": " + errno_text(err));
    }
    offset += n;
    auto left = static_cast<size_t>(n);
    while (idx < iov_.size() && left >= iov_[idx].iov_len) left -= iov_[idx++].iov_len;
    if (left > 0) {  // short write inside an iovec: resume mid-buffer
      iov_[idx].iov_base = static_cast<char*>(iov_[idx].iov_base) + left;
      iov_[idx].iov_len -= left;
    }
  }
  return {};
}

// Starts the next file and syncs inline, as the reference does, so the metadata names the new
// file before any byte of it exists: a crash can then never leave records in a file the
// metadata does not know about (which the reference would overwrite on restart).
void DiskQueue::roll_write_file_locked() {
  FileHandlePtr old = std::move(write_file_);
  ++write_file_num_;
  write_pos_ = 0;
  util::Status synced;
  if (old) {
    if (int r = ops_.fsync(old->fd()); r < 0) {
      synced = util::fail("sync " + data_file_name(write_file_num_ - 1) + ": " + errno_text(-r));
    }
  }
  Snapshot snap = snapshot_locked();
  if (synced) synced = write_metadata(snap);
  if (synced) {
    ops_since_sync_ = 0;
    force_sync_ = false;
    retry_unlink_later_locked(unlink_consumed(take_deletable_locked(snap.pos.read_file_num)));
  } else {
    force_sync_ = true;
    log::error("DISKQUEUE({}) failed to sync - {}", name_, synced.error());
  }
}

util::Status DiskQueue::write_records_locked(std::span<const RecordView> records) {
  const int64_t start_file = write_file_num_;
  const int64_t start_pos = write_pos_;
  const int64_t start_depth = depth_.load(std::memory_order_relaxed);

  len_bufs_.resize(records.size() * kLenSize);
  iov_.clear();
  int64_t seg_off = write_pos_;  // where the pending segment starts in the current file
  int64_t pos = write_pos_;      // where the next record goes
  int64_t seg_records = 0;

  auto flush = [&]() -> util::Status {
    if (iov_.empty()) return {};
    if (auto written = write_segment_locked(seg_off); !written) return written;
    write_pos_ = pos;
    set_file_bytes(write_file_num_, write_pos_);
    depth_.fetch_add(seg_records, std::memory_order_relaxed);
    seg_records = 0;
    iov_.clear();
    return {};
  };

  for (size_t i = 0; i < records.size(); ++i) {
    const RecordView& r = records[i];
    const size_t len = r.head.size() + r.body.size();
    const int64_t total = static_cast<int64_t>(kLenSize + len);
    if (pos > 0 && pos + total > opts_.max_bytes_per_file) {
      if (auto flushed = flush(); !flushed) {
        rollback_locked(start_file, start_pos, start_depth);
        return flushed;
      }
      roll_write_file_locked();
      pos = 0;
      seg_off = 0;
    }
    char* lenp = &len_bufs_[i * kLenSize];
    protocol::write_be32(lenp, static_cast<uint32_t>(len));
    iov_.push_back(iovec{lenp, kLenSize});
    if (!r.head.empty()) iov_.push_back(iovec{const_cast<char*>(r.head.data()), r.head.size()});
    if (!r.body.empty()) iov_.push_back(iovec{const_cast<char*>(r.body.data()), r.body.size()});
    pos += total;
    ++seg_records;
  }
  if (auto flushed = flush(); !flushed) {
    rollback_locked(start_file, start_pos, start_depth);
    return flushed;
  }
  ops_since_sync_ += static_cast<int64_t>(records.size());
  return {};
}

// Undoes a failed put: files the batch rolled into are removed, the file it started in is cut
// back to where it was, and positions and depth are restored. Readers never saw the partial
// state because they need mu_ to learn the write position.
void DiskQueue::rollback_locked(int64_t file_num, int64_t pos, int64_t depth) {
  const bool rolled = write_file_num_ != file_num;
  if (rolled) {
    write_file_.reset();
    for (int64_t f = file_num + 1; f <= write_file_num_; ++f) {
      unlink_quietly(data_file_name(f), "data file");
      forget_file_bytes(f);
    }
    write_file_num_ = file_num;
  }
  write_pos_ = pos;
  set_file_bytes(file_num, pos);
  depth_.store(depth, std::memory_order_relaxed);

  // Without a roll and without an open file the write never started: nothing to cut back.
  if (!rolled && !write_file_) return;
  if (auto reopened = ensure_write_file_locked(); reopened) {
    if (int r = ops_.ftruncate(write_file_->fd(), static_cast<off_t>(pos)); r < 0) {
      // The garbage past write_pos_ is never read (readers stop at write_pos_) and the next
      // write overwrites it; if the process dies first, startup sees the size mismatch.
      log::error("DISKQUEUE({}) failed to truncate {} to {} - {}", name_, data_file_name(file_num),
                 pos, errno_text(-r));
    }
  } else {
    log::error("DISKQUEUE({}) failed to reopen for truncation - {}", name_, reopened.error());
  }
  if (rolled) {
    // The roll's metadata names a file we just removed: record the restored state.
    Snapshot snap = snapshot_locked();
    if (auto written = write_metadata(snap); !written) {
      force_sync_ = true;
      log::error("DISKQUEUE({}) failed to sync - {}", name_, written.error());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

void DiskQueue::reset_reader_locked() {
  read_file_.reset();
  read_file_open_num_ = -1;
  read_file_complete_ = false;
  read_file_size_ = 0;
  buf_len_ = 0;
  buf_file_off_ = 0;
}

std::optional<DiskQueue::ReadFailure> DiskQueue::ensure_read_file_locked(bool complete) {
  if (!read_file_ || read_file_open_num_ != read_file_num_) {
    reset_reader_locked();
    const std::string fn = data_file_name(read_file_num_);
    int fd = ops_.open(fn, O_RDONLY, 0600);
    if (fd < 0) {
      // A missing file is gone for good; anything else (EIO, EMFILE...) may pass.
      return ReadFailure{"open " + fn + ": " + errno_text(-fd), fd != -ENOENT};
    }
    read_file_ = std::make_shared<FileHandle>(ops_, fd);
    read_file_open_num_ = read_file_num_;
    log::info("DISKQUEUE({}): readOne() opened {}", name_, fn);
  }
  // A completed file never changes again, so its size is where reading it ends (the writer
  // may have rolled before reaching max_bytes_per_file, or left an unsynced tail).
  if (complete && !read_file_complete_) {
    int64_t size = 0;
    if (int r = ops_.fstat_size(read_file_->fd(), size); r < 0) {
      return ReadFailure{"stat " + data_file_name(read_file_num_) + ": " + errno_text(-r), true};
    }
    read_file_size_ = size;
    read_file_complete_ = true;
  }
  return std::nullopt;
}

// Makes buf_ hold file bytes [pos, pos + need), reading in large chunks but never past `limit`.
std::optional<DiskQueue::ReadFailure> DiskQueue::fill_locked(int64_t pos, size_t need,
                                                             int64_t limit) {
  if (pos + static_cast<int64_t>(need) > limit) return ReadFailure{"unexpected EOF"};
  const int64_t buf_end = buf_file_off_ + static_cast<int64_t>(buf_len_);
  if (pos >= buf_file_off_ && pos + static_cast<int64_t>(need) <= buf_end) return std::nullopt;

  // Keep what is already buffered from `pos` on, at the front.
  if (pos >= buf_file_off_ && pos < buf_end) {
    const auto skip = static_cast<size_t>(pos - buf_file_off_);
    std::memmove(buf_.get(), buf_.get() + skip, buf_len_ - skip);
    buf_len_ -= skip;
  } else {
    buf_len_ = 0;
  }
  buf_file_off_ = pos;
  if (need > buf_cap_) {
    // The first read allocates the buffer: most queues are never read (a topic or channel
    // whose consumers keep up), and 10,000 topics x 3 queues of eager 256 KiB buffers were
    // 7.7 GB of address space (bench/many_topics.py; no RSS, but a strict overcommit policy
    // refuses it).
    size_t cap = std::max({need, buf_cap_ * 2, std::max<size_t>(opts_.read_buffer_size, 4096)});
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (buf_len_ > 0) std::memcpy(bigger.get(), buf_.get(), buf_len_);
    buf_ = std::move(bigger);
    buf_cap_ = cap;
  }
  while (buf_len_ < need) {
    const int64_t file_off = buf_file_off_ + static_cast<int64_t>(buf_len_);
    const auto want = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(buf_cap_ - buf_len_), limit - file_off));
    ssize_t n = ops_.pread(read_file_->fd(), buf_.get() + buf_len_, want, file_off);
    if (n < 0) {
      return ReadFailure{
          "read " + data_file_name(read_file_num_) + ": " + errno_text(static_cast<int>(-n)), true};
    }
    if (n == 0) return ReadFailure{"unexpected EOF"};
    buf_len_ += static_cast<size_t>(n);
  }
  return std::nullopt;
}

ReadResult DiskQueue::read_next(std::string& out) {
  return consume([&out](std::string_view payload) { out.assign(payload); });
}

ReadResult DiskQueue::consume_impl(ConsumeFn fn, void* ctx) {
  std::lock_guard rl(read_mu_);
  for (;;) {
    bool complete = false;
    int64_t limit = 0;
    {
      std::lock_guard l(mu_);
      if (closed_) return ReadResult::kClosed;
      if (read_file_num_ == write_file_num_ && read_pos_ >= write_pos_) return ReadResult::kEmpty;
      complete = read_file_num_ < write_file_num_;
      limit = write_pos_;
    }
    if (auto failed = ensure_read_file_locked(complete)) {
      if (failed->transient) return io_error_locked(failed->why);
      std::lock_guard l(mu_);
      handle_read_error_locked(failed->why);
      continue;
    }
    if (read_file_complete_) limit = read_file_size_;
    if (read_pos_ >= limit) {
      // Only a completed file gets here (the write file's limit is past read_pos_).
      assert(read_file_complete_);
      std::lock_guard l(mu_);
      finish_read_file_locked();
      check_tail_corruption_locked();
      continue;
    }
    if (auto failed = fill_locked(read_pos_, kLenSize, limit)) {
      if (failed->transient) return io_error_locked(failed->why);
      std::lock_guard l(mu_);
      handle_read_error_locked(failed->why);
      continue;
    }
    const int32_t size = protocol::read_be32s(buf_.get() + (read_pos_ - buf_file_off_));
    if (size < opts_.min_msg_size || size > opts_.max_msg_size) {
      // Nothing after a bad length can be trusted to start a record.
      std::lock_guard l(mu_);
      handle_read_error_locked("invalid message read size (" + std::to_string(size) + ")");
      continue;
    }
    const size_t total = kLenSize + static_cast<size_t>(size);
    if (auto failed = fill_locked(read_pos_, total, limit)) {
      if (failed->transient) return io_error_locked(failed->why);
      std::lock_guard l(mu_);
      handle_read_error_locked(failed->why);
      continue;
    }
    read_error_.clear();
    const char* rec = buf_.get() + (read_pos_ - buf_file_off_) + kLenSize;
    reading_seq_ = read_seq_ + 1;
    if (!fn(ctx, std::string_view(rec, static_cast<size_t>(size)))) return ReadResult::kDeclined;

    std::lock_guard l(mu_);
    if (opts_.hold_until_ack) held_.push_back(Held{reading_seq_, read_file_num_, read_pos_, false});
    read_seq_ = reading_seq_;
    read_pos_ += static_cast<int64_t>(total);
    // Never below 0 for /stats, even if an unreadable file kept the recount from running.
    if (depth_.load(std::memory_order_relaxed) > 0) depth_.fetch_sub(1, std::memory_order_relaxed);
    ++ops_since_sync_;
    if (read_file_complete_ && read_pos_ >= read_file_size_) finish_read_file_locked();
    if (opts_.roll_when_drained && read_file_num_ == write_file_num_ && read_pos_ == write_pos_ &&
        write_pos_ > 0) {
      roll_drained_write_file_locked();
    }
    check_tail_corruption_locked();
    return ReadResult::kOk;
  }
}

// roll_when_drained: the reader read the write file to its end. The writer moves to a new file
// (synced inline like any roll, so the metadata names it before it holds a byte) and the reader
// follows, which leaves the old file to be deleted by the next sync that no longer needs it.
void DiskQueue::roll_drained_write_file_locked() {
  roll_write_file_locked();
  finish_read_file_locked();
}

// A read failed for a reason that may pass (EIO, EMFILE...): the file is not set aside, as the
// reference would, since its records are intact and acknowledged. Nothing moves; the file is
// reopened on the next call, which the owner makes later (its refill timer).
ReadResult DiskQueue::io_error_locked(const std::string& why) {
  log::error("DISKQUEUE({}) reading at {} of {} - {} (will retry)", name_, read_pos_,
             data_file_name(read_file_num_), why);
  reset_reader_locked();
  read_error_ = why;
  return ReadResult::kIoError;
}

std::string DiskQueue::read_error() const {
  std::lock_guard rl(read_mu_);
  return read_error_;
}

// The reader is done with a completed file: move on, and queue the file for deletion once the
// metadata no longer points into it.
void DiskQueue::finish_read_file_locked() {
  consumed_files_.push_back(read_file_num_);
  ++read_file_num_;
  read_pos_ = 0;
  reset_reader_locked();
  force_sync_ = true;
}

void DiskQueue::handle_read_error_locked(const std::string& why) {
  log::error("DISKQUEUE({}) reading at {} of {} - {}", name_, read_pos_,
             data_file_name(read_file_num_), why);
  reset_reader_locked();
  if (read_file_num_ == write_file_num_) {
    // The write file itself is unreadable: nothing appended to it could be reached either.
    write_file_.reset();
    ++write_file_num_;
    write_pos_ = 0;
  }
  const std::string bad = data_file_name(read_file_num_);
  const std::string renamed = bad + ".bad";
  log::warn("DISKQUEUE({}) jump to next file and saving bad file as {}", name_, renamed);
  if (int r = ops_.rename(bad, renamed); r < 0) {
    log::error("DISKQUEUE({}) failed to rename bad diskqueue file {} to {}", name_, bad, renamed);
  }
  forget_file_bytes(read_file_num_);  // set aside: no longer this queue's file
  ++read_file_num_;
  read_pos_ = 0;
  force_sync_ = true;
  // Files missing in between (corrupt metadata, files removed by hand) are skipped at once.
  if (read_file_num_ < write_file_num_) {
    const auto next = existing_data_files(read_file_num_, write_file_num_ - 1);
    read_file_num_ = next.empty() ? write_file_num_ : next.front();
  }
  check_tail_corruption_locked();
}

void DiskQueue::check_tail_corruption_locked() {
  // (The reference returns on readPos < writePos alone, which a reader past the write file
  // also passes: then it would never stop walking missing files.)
  if (read_file_num_ < write_file_num_ ||
      (read_file_num_ == write_file_num_ && read_pos_ < write_pos_)) {
    return;
  }
  const int64_t depth = depth_.load(std::memory_order_relaxed);
  if (depth != 0) {
    if (depth < 0) {
      log::error("DISKQUEUE({}) negative depth at tail ({}), metadata corruption, resetting 0...",
                 name_, depth);
    } else {
      log::error("DISKQUEUE({}) positive depth at tail ({}), data loss, resetting 0...", name_,
                 depth);
    }
    depth_.store(0, std::memory_order_relaxed);
    force_sync_ = true;
  }
  if (read_file_num_ != write_file_num_ || read_pos_ != write_pos_) {
    if (read_file_num_ > write_file_num_) {
      log::error(
          "DISKQUEUE({}) readFileNum > writeFileNum ({} > {}), corruption, skipping to next "
          "writeFileNum and resetting 0...",
          name_, read_file_num_, write_file_num_);
    }
    if (read_pos_ > write_pos_) {
      log::error(
          "DISKQUEUE({}) readPos > writePos ({} > {}), corruption, skipping to next "
          "writeFileNum and resetting 0...",
          name_, read_pos_, write_pos_);
    }
    skip_to_next_rw_file_locked();
    force_sync_ = true;
  }
}

void DiskQueue::skip_to_next_rw_file_locked() {
  reset_reader_locked();
  held_.clear();  // their files go now
  write_file_.reset();
  for (int64_t f : existing_data_files(read_file_num_, write_file_num_)) {
    unlink_quietly(data_file_name(f), "data file");
  }
  for (int64_t f : consumed_files_) unlink_quietly(data_file_name(f), "data file");
  consumed_files_.clear();
  forget_all_file_bytes();
  ++write_file_num_;
  write_pos_ = 0;
  read_file_num_ = write_file_num_;
  read_pos_ = 0;
  depth_.store(0, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------------------------
// Empty, delete, close, introspection

util::Status DiskQueue::empty() {
  std::lock_guard rl(read_mu_);
  std::lock_guard l(mu_);
  if (closed_) return util::fail("exiting");
  log::info("DISKQUEUE({}): emptying", name_);
  skip_to_next_rw_file_locked();
  ops_since_sync_ = 0;
  force_sync_ = false;
  // Record the new positions now: without metadata a restart would begin at file 0 and never
  // find what is written to the new file number.
  Snapshot snap = snapshot_locked();
  auto written = write_metadata(snap);
  if (!written) {
    force_sync_ = true;
    unlink_quietly(metadata_file_name(), "metadata file");
    log::error("DISKQUEUE({}) failed to write metadata after empty - {}", name_, written.error());
  }
  return written;
}

util::Status DiskQueue::delete_all() {
  std::lock_guard rl(read_mu_);
  std::lock_guard l(mu_);
  log::info("DISKQUEUE({}): deleting", name_);
  // go-diskqueue's ioLoop says it ended; ours has no loop, the line marks the same point.
  log::info("DISKQUEUE({}): closing ... ioLoop", name_);
  closed_ = true;
  reset_reader_locked();
  write_file_.reset();
  util::Status result;  // the last failure, as before
  auto remove = [&](const std::string& path) {
    int r = ops_.unlink(path);
    if (r < 0 && r != -ENOENT) result = util::fail("remove " + path + ": " + errno_text(-r));
  };
  for (int64_t f : existing_data_files(read_file_num_, write_file_num_)) remove(data_file_name(f));
  for (int64_t f : consumed_files_) remove(data_file_name(f));
  consumed_files_.clear();
  forget_all_file_bytes();
  std::lock_guard ml(meta_mu_);
  remove(metadata_file_name());
  // No sync still in flight may bring the metadata file back.
  persisted_seq_ = INT64_MAX;
  return result;
}

util::Status DiskQueue::close() {
  std::lock_guard rl(read_mu_);
  std::lock_guard l(mu_);
  if (closed_) return {};
  log::info("DISKQUEUE({}): closing", name_);
  log::info("DISKQUEUE({}): closing ... ioLoop", name_);  // go-diskqueue's ioLoop exit line
  closed_ = true;
  util::Status result;
  if (write_file_) {
    if (int r = ops_.fsync(write_file_->fd()); r < 0) {
      result = util::fail("sync " + data_file_name(write_file_num_) + ": " + errno_text(-r));
    }
  }
  Snapshot snap = snapshot_locked();
  if (result) result = write_metadata(snap);
  if (result) unlink_consumed(take_deletable_locked(snap.pos.read_file_num));
  reset_reader_locked();
  write_file_.reset();
  return result;
}

DiskQueue::Positions DiskQueue::positions() const {
  std::lock_guard l(mu_);
  return Positions{depth_.load(std::memory_order_relaxed), read_file_num_, read_pos_,
                   write_file_num_, write_pos_};
}

}  // namespace nsq::disk
