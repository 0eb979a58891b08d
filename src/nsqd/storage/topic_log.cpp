#include "nsqd/storage/topic_log.hpp"

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "nsq/codec/crc32c.hpp"

namespace nsq::nsqd {

namespace {

constexpr char kMagic[4] = {'N', 'S', 'Q', 'L'};
constexpr uint32_t kPayloadFixed = kTopicLogRecordHeaderSize - 8;  // offset, id, ts, due
constexpr uint64_t kIndexEvery = 64;
constexpr size_t kReadChunk = 256 * 1024;
constexpr int64_t kPage = 4096;
// preallocate_ahead writes its zeros in pieces of this size, each under the log's lock.
constexpr size_t kZeroPiece = 64 * 1024;
// Preallocation saves a commit a fixed ~70 us (the journal commit for the size) but writes
// every byte twice (zeros, then records): past this many bytes per commit the second write
// costs more than it saves (durable_publish.py: 8 MPUBs of 40 KB per commit went 1.46 M ->
// 1.2 M msg/s with it, 2 per commit 0.69 M -> 0.79 M).
constexpr int64_t kPreallocateUpTo = 64 * 1024;

void put_be(char* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

uint64_t get_be(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string encode_segment_header(uint64_t base) {
  std::string h(kTopicLogSegmentHeaderSize, '\0');
  std::memcpy(h.data(), kMagic, 4);
  put_be(h.data() + 4, kTopicLogFormatVersion, 2);
  put_be(h.data() + 8, base, 8);
  return h;
}

// Reads exactly `n` bytes at `pos`; returns the count read (short at end of file) or -errno.
ssize_t pread_full(disk::FileOps& ops, int fd, char* buf, size_t n, int64_t pos) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ops.pread(fd, buf + done, n - done, pos + static_cast<int64_t>(done));
    if (r < 0) return r;
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(done);
}

// Why a record at `pos` of `file_size` is not valid; "" when it is. Fills `rec_len`.
// `buf` holds the bytes from `pos` on (at least the header when available).
struct ParsedRecord {
  uint64_t offset = 0;
  size_t total = 0;  // header + body bytes
};

std::string parse_record(std::string_view bytes, uint32_t max_payload, ParsedRecord& out) {
  if (bytes.size() < 8) return "short record header";
  const uint32_t len = static_cast<uint32_t>(get_be(bytes.data(), 4));
  if (len < kPayloadFixed || len > max_payload) return "bad record length";
  if (bytes.size() < 8 + static_cast<size_t>(len)) return "short record";
  const uint32_t crc = static_cast<uint32_t>(get_be(bytes.data() + 4, 4));
  if (codec::crc32c(bytes.substr(8, len)) != crc) return "CRC mismatch";
  out.offset = get_be(bytes.data() + 8, 8);
  out.total = 8 + static_cast<size_t>(len);
  return "";
}

void decode_record(std::string_view bytes, LogRecord& rec) {
  const uint32_t len = static_cast<uint32_t>(get_be(bytes.data(), 4));
  const char* p = bytes.data() + 8;
  rec.offset = get_be(p, 8);
  std::memcpy(rec.id.data(), p + 8, rec.id.size());
  rec.timestamp_ns = static_cast<int64_t>(get_be(p + 24, 8));
  rec.due_ns = static_cast<int64_t>(get_be(p + 32, 8));
  rec.body.assign(p + kPayloadFixed, len - kPayloadFixed);
}

// Where a scan stopped: the position after the last valid record; `why` names the invalid
// record it stopped at ("" at the end, or when fn stopped it); `io_error` is set on a read error.
struct ScanEnd {
  int64_t pos = 0;
  std::string why;
  std::string io_error;
};

// Scans records from `pos` to `end` of `fd` in big reads, calling fn(offset, pos, bytes) for
// each valid one; stops at the first invalid record or when fn returns false.
template <typename Fn>
ScanEnd scan_records(disk::FileOps& ops, int fd, int64_t pos, int64_t end, uint32_t max_payload,
                     Fn&& fn) {
  std::string buf;
  int64_t buf_pos = pos;
  while (pos < end) {
    size_t have = static_cast<size_t>(buf_pos + static_cast<int64_t>(buf.size()) - pos);
    size_t need = 8;
    if (have >= 8) {
      need = 8 + static_cast<size_t>(get_be(buf.data() + (pos - buf_pos), 4));
      if (need > 8 + max_payload) need = 8;  // parse_record reports it
    }
    if (have < need) {
      const size_t want = std::max(need, kReadChunk);
      const size_t avail = static_cast<size_t>(end - pos);
      buf.resize(std::min(want, avail));
      const ssize_t r = pread_full(ops, fd, buf.data(), buf.size(), pos);
      if (r < 0) return ScanEnd{pos, "", disk::errno_text(static_cast<int>(-r))};
      buf.resize(static_cast<size_t>(r));
      buf_pos = pos;
      have = buf.size();
    }
    ParsedRecord parsed;
    const std::string_view view(buf.data() + (pos - buf_pos), have);
    if (std::string why = parse_record(view, max_payload, parsed); !why.empty()) {
      return ScanEnd{pos, std::move(why), ""};
    }
    if (!fn(parsed.offset, pos, view.substr(0, parsed.total))) return ScanEnd{pos, "", ""};
    pos += static_cast<int64_t>(parsed.total);
  }
  return ScanEnd{pos, "", ""};
}

}  // namespace

TopicLog::TopicLog(TopicLogOptions options)
    : options_(std::move(options)),
      ops_(options_.ops != nullptr ? *options_.ops : disk::real_file_ops()) {}

TopicLog::~TopicLog() {
  for (auto& w : waiters_) {
    if (w.callback) w.callback("exiting");
  }
}

int TopicLog::fsync_dir(const std::string& path) {
  const int fd = ops_.open(path.empty() ? "." : path, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) return fd;
  const int r = ops_.fsync(fd);
  ops_.close(fd);
  return r;
}

std::string TopicLog::segment_path(uint64_t base) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%020" PRIu64 ".seg", base);
  return options_.dir + "/" + name;
}

util::Result<std::shared_ptr<TopicLog>> TopicLog::open(const TopicLogOptions& options) {
  std::shared_ptr<TopicLog> log(new TopicLog(options));
  if (auto loaded = log->load(); !loaded) return util::fail(loaded.error());
  return log;
}

util::Status TopicLog::load() {
  std::error_code ec;
  std::filesystem::create_directories(options_.dir, ec);
  if (ec) return util::fail("failed to create " + options_.dir + ": " + ec.message());
  std::vector<uint64_t> bases;
  for (const auto& entry : std::filesystem::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 24 || name.substr(20) != ".seg") continue;
    if (!std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    bases.push_back(std::stoull(name.substr(0, 20)));
  }
  if (ec) return util::fail("failed to list " + options_.dir + ": " + ec.message());
  std::sort(bases.begin(), bases.end());
  std::lock_guard lock(mu_);
  if (bases.empty()) {
    // A new log: nothing in it is durable yet, so its fsyncs (the segment, the log directory
    // and the data directory's entry for it) wait for the first commit cycle instead of
    // running on the thread that creates the topic (an event loop).
    if (auto created = create_segment_locked(0); !created) return created;
    unsynced_files_.push_back(segments_.begin()->second.file);
    next_offset_ = synced_ = 0;
    return {};
  }
  for (size_t i = 0; i < bases.size(); ++i) {
    const std::string path = segment_path(bases[i]);
    const int fd = ops_.open(path, O_RDWR, 0600);
    if (fd < 0) return util::fail("failed to open " + path + ": " + disk::errno_text(-fd));
    Segment seg;
    seg.base = bases[i];
    seg.file = std::make_shared<disk::FileHandle>(ops_, fd);
    int r = ops_.fstat_size(fd, seg.size);
    if (r < 0) return util::fail("failed to stat " + path + ": " + disk::errno_text(-r));
    char header[kTopicLogSegmentHeaderSize];
    const ssize_t got = pread_full(ops_, fd, header, sizeof(header), 0);
    const bool last = i + 1 == bases.size();
    if (got < static_cast<ssize_t>(sizeof(header)) && last && got >= 0) {
      // A segment whose creation was torn: it can hold no record yet.
      const std::string h = encode_segment_header(seg.base);
      const iovec iov{const_cast<char*>(h.data()), h.size()};
      if (ops_.ftruncate(fd, 0) < 0 || ops_.pwritev(fd, &iov, 1, 0) != ssize_t(h.size())) {
        return util::fail("failed to rewrite the header of " + path);
      }
      seg.size = static_cast<int64_t>(h.size());
    } else if (got != static_cast<ssize_t>(sizeof(header))) {
      return util::fail("failed to read the header of " + path);
    } else if (std::memcmp(header, kMagic, 4) != 0) {
      return util::fail(path + " is not a topic log segment");
    } else if (const uint64_t v = get_be(header + 4, 2); v != kTopicLogFormatVersion) {
      return util::fail(path + ": unsupported format version " + std::to_string(v));
    } else if (get_be(header + 8, 8) != seg.base) {
      return util::fail(path + ": header names base offset " +
                        std::to_string(get_be(header + 8, 8)));
    }
    segments_.emplace(seg.base, std::move(seg));
  }
  // Only the last two segments can hold unsynced bytes (see the header comment).
  auto it = segments_.end();
  --it;
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) {
    const auto cut = recover_segment(it->second);
    if (!cut) return util::fail(cut.error());
    auto next = std::next(it);
    if (next == segments_.end()) break;
    if (*cut || next->first != it->second.base + it->second.records) {
      // Everything after a cut was written after the lost bytes: no OK was given for it.
      for (auto later = next; later != segments_.end(); ++later) {
        const int r = ops_.unlink(segment_path(later->first));
        if (r < 0) {
          return util::fail("failed to remove " + segment_path(later->first) + ": " +
                            disk::errno_text(-r));
        }
      }
      segments_.erase(next, segments_.end());
      dir_dirty_ = true;
      break;
    }
  }
  Segment& tail = std::prev(segments_.end())->second;
  next_offset_ = tail.base + tail.records;
  // What a previous process left in the page cache is made durable before it counts as synced.
  int to_sync = 2;
  for (auto t = segments_.rbegin(); t != segments_.rend() && to_sync > 0; ++t, --to_sync) {
    const int r = ops_.fsync(t->second.file->fd());
    if (r < 0) {
      return util::fail("failed to sync " + segment_path(t->first) + ": " + disk::errno_text(-r));
    }
  }
  synced_ = next_offset_;
  int64_t bytes = 0;
  for (auto& [base, seg] : segments_) {
    seg.allocated = seg.size;  // recovery cut any zeros a previous process preallocated
    bytes += seg.size;
  }
  disk_bytes_.store(bytes, std::memory_order_relaxed);
  return {};
}

util::Result<bool> TopicLog::recover_segment(Segment& seg) {
  seg.index.clear();
  seg.records = 0;
  uint64_t expected = seg.base;
  const ScanEnd scanned =
      scan_records(ops_, seg.file->fd(), kTopicLogSegmentHeaderSize, seg.size, options_.max_payload,
                   [&](uint64_t offset, int64_t pos, std::string_view) {
                     // An offset out of sequence is a stale record: the log is cut there.
                     if (offset != expected) return false;
                     if (seg.records % kIndexEvery == 0) seg.index.emplace_back(offset, pos);
                     ++expected;
                     ++seg.records;
                     return true;
                   });
  if (!scanned.io_error.empty()) {
    return util::fail("failed to read " + segment_path(seg.base) + ": " + scanned.io_error);
  }
  seg.indexed = true;
  const bool cut = scanned.pos < seg.size;
  if (cut) {
    const int r = ops_.ftruncate(seg.file->fd(), scanned.pos);
    if (r < 0) {
      return util::fail("failed to truncate " + segment_path(seg.base) + ": " +
                        disk::errno_text(-r));
    }
    seg.size = scanned.pos;
  }
  return cut;
}

util::Status TopicLog::create_segment_locked(uint64_t base) {
  const std::string path = segment_path(base);
  const int fd = ops_.open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return util::fail("failed to create " + path + ": " + disk::errno_text(-fd));
  Segment seg;
  seg.base = base;
  seg.file = std::make_shared<disk::FileHandle>(ops_, fd);
  const std::string h = encode_segment_header(base);
  const iovec iov{const_cast<char*>(h.data()), h.size()};
  const ssize_t w = ops_.pwritev(fd, &iov, 1, 0);
  if (w != static_cast<ssize_t>(h.size())) {
    ops_.unlink(path);
    return util::fail(
        "failed to write " + path + ": " +
        (w < 0 ? disk::errno_text(static_cast<int>(-w)) : std::string("short write")));
  }
  seg.size = seg.allocated = static_cast<int64_t>(h.size());
  disk_bytes_.fetch_add(seg.size, std::memory_order_relaxed);
  seg.indexed = true;
  segments_.emplace(base, std::move(seg));
  dir_dirty_ = true;
  return {};
}

util::Result<uint64_t> TopicLog::append(std::span<const LogAppend> items,
                                        DurableCallback on_durable) {
  std::unique_lock lock(mu_);
  if (!failed_.empty()) return util::fail(failed_);
  assert(!segments_.empty());  // open() made or found one; trim_below() keeps the last
  Segment& seg = std::prev(segments_.end())->second;
  scratch_.clear();
  uint64_t offset = next_offset_;
  for (const LogAppend& item : items) {
    const size_t at = scratch_.size();
    const uint32_t len = kPayloadFixed + static_cast<uint32_t>(item.body.size());
    scratch_.resize(at + kTopicLogRecordHeaderSize);
    char* p = scratch_.data() + at;
    put_be(p, len, 4);
    put_be(p + 8, offset, 8);
    std::memcpy(p + 16, item.id.data(), item.id.size());
    put_be(p + 32, static_cast<uint64_t>(item.timestamp_ns), 8);
    put_be(p + 40, static_cast<uint64_t>(item.due_ns), 8);
    scratch_.append(item.body);
    const uint32_t crc = codec::crc32c(std::string_view(scratch_).substr(at + 8, len));
    put_be(scratch_.data() + at + 4, crc, 4);
    ++offset;
  }
  const iovec iov{scratch_.data(), scratch_.size()};
  const ssize_t w = ops_.pwritev(seg.file->fd(), &iov, 1, seg.size);
  if (w != static_cast<ssize_t>(scratch_.size())) {
    std::string error = w < 0 ? disk::errno_text(static_cast<int>(-w)) : std::string("short write");
    // Nothing half-written may stay: a later record would follow garbage. (The cut also takes
    // the preallocated zeros: they are made again after a later sync.)
    if (w > 0) seg.allocated = seg.size;
    if (w > 0 && ops_.ftruncate(seg.file->fd(), seg.size) < 0) {
      std::vector<Waiter> to_fail;
      fail_locked("failed to truncate a short write: " + error, to_fail);
      const std::string why = failed_;
      lock.unlock();  // callbacks never run under the log's lock
      for (auto& waiter : to_fail) waiter.callback(why);
    }
    return util::fail(std::move(error));
  }
  const uint64_t first = next_offset_;
  size_t pos = 0;
  for (const LogAppend& item : items) {
    if (seg.records % kIndexEvery == 0) {
      seg.index.emplace_back(next_offset_, seg.size + static_cast<int64_t>(pos));
    }
    pos += kTopicLogRecordHeaderSize + item.body.size();
    ++seg.records;
    ++next_offset_;
  }
  seg.size += static_cast<int64_t>(scratch_.size());
  seg.allocated = std::max(seg.allocated, seg.size);
  unsynced_bytes_ += static_cast<int64_t>(scratch_.size());
  disk_bytes_.fetch_add(static_cast<int64_t>(scratch_.size()), std::memory_order_relaxed);
  if (unsynced_files_.empty() || unsynced_files_.back() != seg.file) {
    unsynced_files_.push_back(seg.file);
  }
  if (on_durable) waiters_.push_back({next_offset_, std::move(on_durable)});
  if (scratch_.capacity() > 4 * 1024 * 1024) std::string().swap(scratch_);
  return first;
}

void TopicLog::fail_locked(const std::string& error, std::vector<Waiter>& to_fail) {
  failed_ = error;
  for (auto& w : waiters_) to_fail.push_back(std::move(w));
  waiters_.clear();
}

int TopicLog::sync(std::atomic<uint64_t>* fsync_count) {
  std::lock_guard sync_lock(sync_mu_);
  std::vector<disk::FileHandlePtr> files;
  bool dir = false;
  uint64_t target = 0;
  std::vector<Waiter> done;
  std::string error;
  int64_t cycle_bytes = 0;
  {
    std::lock_guard lock(mu_);
    if (!failed_.empty()) {
      fail_locked(failed_, done);
      error = failed_;
    } else {
      assert(!segments_.empty());
      Segment& tail = std::prev(segments_.end())->second;
      if (tail.size >= options_.segment_bytes && tail.records > 0) {
        // Preallocation stops at the roll point, so a finished segment has no zeros left: a
        // zero tail before a later segment would cut that one at recovery.
        assert(tail.allocated <= tail.size);
        if (create_segment_locked(next_offset_)) {
          unsynced_files_.push_back(std::prev(segments_.end())->second.file);
        }
        // On failure the current segment simply keeps growing; the next sync retries.
      }
      files = std::move(unsynced_files_);
      unsynced_files_.clear();
      dir = dir_dirty_;
      dir_dirty_ = false;
      target = next_offset_;
      cycle_bytes = std::exchange(unsynced_bytes_, 0);
    }
  }
  int fsyncs = 0;
  for (const auto& f : files) {
    ++fsyncs;
    // fdatasync: the records and the size, not the timestamps (no journal commit when the
    // records landed in preallocated space).
    const int r = ops_.fdatasync(f->fd());
    if (r < 0 && error.empty()) error = "fsync failed: " + disk::errno_text(-r);
  }
  if (dir && error.empty()) {
    // The log directory's entries, and the data directory's entry for the log directory
    // (needed once, after creation; cheap, as segments are created rarely).
    for (const std::string& d :
         {options_.dir, std::filesystem::path(options_.dir).parent_path().string()}) {
      ++fsyncs;
      const int r = fsync_dir(d);
      if (r < 0 && error.empty()) error = "fsync of " + d + " failed: " + disk::errno_text(-r);
    }
  }
  {
    std::lock_guard lock(mu_);
    if (!error.empty()) {
      if (failed_.empty()) fail_locked(error, done);
    } else {
      synced_ = std::max(synced_, target);
      while (!waiters_.empty() && waiters_.front().end <= synced_) {
        done.push_back(std::move(waiters_.front()));
        waiters_.pop_front();
      }
    }
  }
  if (fsync_count != nullptr) fsync_count->fetch_add(fsyncs, std::memory_order_relaxed);
  for (auto& w : done) w.callback(error);
  if (error.empty()) {
    const int more = preallocate_ahead(cycle_bytes);
    fsyncs += more;
    if (fsync_count != nullptr) fsync_count->fetch_add(more, std::memory_order_relaxed);
  }
  return fsyncs;
}

int TopicLog::preallocate_ahead(int64_t cycle_bytes) {
  const int64_t most =
      std::min(options_.preallocate_bytes, options_.segment_bytes / 8) / kPage * kPage;
  if (most <= 0 || cycle_bytes <= 0 || cycle_bytes > kPreallocateUpTo) return 0;
  // Room for ~16 more cycles like this one; topped up to twice that, so a steady load extends
  // every ~16 cycles (one extra fsync) and an idle topic keeps at most 32 KiB of zeros.
  const int64_t want = std::clamp(cycle_bytes * 16, std::min(4 * kPage, most), most);
  disk::FileHandlePtr file;
  int64_t from = 0;
  int64_t to = 0;
  {
    std::lock_guard lock(mu_);
    const Segment& tail = std::prev(segments_.end())->second;
    if (!failed_.empty() || tail.allocated - tail.size >= want) return 0;
    from = std::max(tail.allocated, tail.size);
    to = (tail.size + 2 * want + kPage - 1) / kPage * kPage;
    to = std::min(to, std::max(options_.segment_bytes, from));  // never past the roll point
    file = tail.file;
  }
  if (to <= from) return 0;
  // In pieces, each under the lock and from the current end at least: appends go on
  // meanwhile, and a zero must never land on a record.
  static const std::array<char, kZeroPiece> zeros{};
  while (from < to) {
    std::lock_guard lock(mu_);
    const Segment& tail = std::prev(segments_.end())->second;
    if (tail.file != file || !failed_.empty()) return 0;  // rolled, or failed, meanwhile
    from = std::max(from, tail.size);
    if (from >= to) break;
    const iovec iov{const_cast<char*>(zeros.data()),
                    static_cast<size_t>(std::min<int64_t>(kZeroPiece, to - from))};
    const ssize_t w = ops_.pwritev(file->fd(), &iov, 1, from);
    // A full disk: no preallocation, appends write past the end as without it. The zeros
    // already written are harmless (the log ends at the first zero length).
    if (w <= 0) return 0;
    from += w;
  }
  // This also flushes records appended since the sync; a failure may have dropped them from
  // the page cache, so it fails the log exactly as a failed commit does.
  const int r = ops_.fdatasync(file->fd());
  std::vector<Waiter> to_fail;
  std::string why;
  {
    std::lock_guard lock(mu_);
    if (r < 0) {
      if (failed_.empty()) fail_locked("fsync failed: " + disk::errno_text(-r), to_fail);
      why = failed_;
    } else {
      Segment& tail = std::prev(segments_.end())->second;
      if (tail.file == file) tail.allocated = std::max(tail.allocated, to);
    }
  }
  for (auto& w : to_fail) w.callback(why);
  return 1;
}

util::Status TopicLog::index_segment_locked(Segment& seg) {
  seg.index.clear();
  seg.records = 0;
  const ScanEnd scanned =
      scan_records(ops_, seg.file->fd(), kTopicLogSegmentHeaderSize, seg.size, options_.max_payload,
                   [&](uint64_t offset, int64_t pos, std::string_view) {
                     if (seg.records % kIndexEvery == 0) {
                       seg.index.emplace_back(offset, pos);
                     }
                     ++seg.records;
                     return true;
                   });
  if (!scanned.io_error.empty() || scanned.pos != seg.size) {
    return util::fail("corrupt segment " + segment_path(seg.base) + " at byte " +
                      std::to_string(scanned.pos) + ": " +
                      (scanned.io_error.empty() ? scanned.why : scanned.io_error));
  }
  seg.indexed = true;
  return {};
}

util::Status TopicLog::read(uint64_t from, size_t max_records, std::vector<LogRecord>& out) {
  while (max_records > 0) {
    disk::FileHandlePtr file;
    int64_t pos = 0;
    int64_t end = 0;
    uint64_t at = 0;
    uint64_t limit = 0;
    {
      std::lock_guard lock(mu_);
      assert(!segments_.empty());
      from = std::max(from, segments_.begin()->first);
      if (from >= next_offset_) return {};
      auto it = std::prev(segments_.upper_bound(from));
      Segment& seg = it->second;
      // A segment recovered at open without a scan is indexed on first read. It is complete
      // and immutable, so the scan under the lock is the only I/O a read does here.
      if (!seg.indexed) {
        if (auto indexed = index_segment_locked(seg); !indexed) return indexed;
      }
      auto idx =
          std::upper_bound(seg.index.begin(), seg.index.end(), std::make_pair(from, INT64_MAX));
      if (idx == seg.index.begin()) return {};  // empty segment
      --idx;
      at = idx->first;
      pos = idx->second;
      file = seg.file;
      end = seg.size;
      limit = seg.base + seg.records;
    }
    bool more_in_segment = false;
    const ScanEnd scanned = scan_records(ops_, file->fd(), pos, end, options_.max_payload,
                                         [&](uint64_t offset, int64_t, std::string_view bytes) {
                                           at = offset + 1;
                                           if (offset < from) return true;
                                           if (max_records == 0) {
                                             more_in_segment = true;
                                             return false;
                                           }
                                           LogRecord rec;
                                           decode_record(bytes, rec);
                                           out.push_back(std::move(rec));
                                           --max_records;
                                           return true;
                                         });
    if (!scanned.io_error.empty() || (!scanned.why.empty() && !more_in_segment)) {
      return util::fail("failed to read offset " + std::to_string(at) + " of " + options_.dir +
                        ": " + (scanned.io_error.empty() ? scanned.why : scanned.io_error));
    }
    if (more_in_segment || at < limit) return {};
    from = limit;
  }
  return {};
}

void TopicLog::directory_changed() {
  std::lock_guard lock(mu_);
  dir_dirty_ = true;
}

void TopicLog::trim_below(uint64_t offset) {
  std::vector<std::string> paths;
  {
    std::lock_guard lock(mu_);
    while (segments_.size() > 1) {
      auto next = std::next(segments_.begin());
      if (next->first > offset) break;
      paths.push_back(segment_path(segments_.begin()->first));
      disk_bytes_.fetch_sub(segments_.begin()->second.size, std::memory_order_relaxed);
      segments_.erase(segments_.begin());
    }
    if (!paths.empty()) dir_dirty_ = true;
  }
  for (const auto& p : paths) ops_.unlink(p);
}

void TopicLog::remove_all() {
  std::vector<Waiter> to_fail;
  std::vector<std::string> paths;
  {
    std::lock_guard lock(mu_);
    fail_locked("exiting", to_fail);
    for (const auto& [base, seg] : segments_) paths.push_back(segment_path(base));
    disk_bytes_.store(0, std::memory_order_relaxed);
  }
  for (auto& w : to_fail) w.callback("exiting");
  for (const auto& p : paths) ops_.unlink(p);
  std::error_code ignored;
  std::filesystem::remove(options_.dir, ignored);  // only if nothing else was put there
}

uint64_t TopicLog::start_offset() const {
  std::lock_guard lock(mu_);
  assert(!segments_.empty());
  return segments_.begin()->first;
}

uint64_t TopicLog::next_offset() const {
  std::lock_guard lock(mu_);
  return next_offset_;
}

uint64_t TopicLog::synced_offset() const {
  std::lock_guard lock(mu_);
  return synced_;
}

size_t TopicLog::segment_count() const {
  std::lock_guard lock(mu_);
  return segments_.size();
}

bool TopicLog::has_waiters() const {
  std::lock_guard lock(mu_);
  return !waiters_.empty();
}

}  // namespace nsq::nsqd
