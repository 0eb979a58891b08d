#include "nsqd/storage/channel_journal.hpp"

#include <fcntl.h>

#include <cstring>

#include "common/disk/atomic_file.hpp"
#include "nsq/codec/crc32c.hpp"

namespace nsq::nsqd {

namespace {

constexpr size_t kRecordSize = 21;  // crc, type, offset, due
constexpr char kCheckpointMagic[4] = {'N', 'S', 'Q', 'A'};

void put_be(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_be(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string encode_record(AckRecord type, uint64_t offset, int64_t due_ns) {
  std::string body;
  body.push_back(static_cast<char>(type));
  put_be(body, offset, 8);
  put_be(body, static_cast<uint64_t>(due_ns), 8);
  std::string rec;
  put_be(rec, codec::crc32c(body), 4);
  return rec + body;
}

std::string encode_checkpoint(const AckState& s) {
  std::string out(kCheckpointMagic, 4);
  put_be(out, kChannelCheckpointVersion, 2);
  put_be(out, 0, 2);
  put_be(out, s.floor, 8);
  put_be(out, s.acked.size(), 4);
  for (uint64_t o : s.acked) put_be(out, o, 8);
  put_be(out, s.deferred.size(), 4);
  for (const auto& [o, due] : s.deferred) {
    put_be(out, o, 8);
    put_be(out, static_cast<uint64_t>(due), 8);
  }
  put_be(out, codec::crc32c(out), 4);
  return out;
}

util::Result<AckState> decode_checkpoint(const std::string& in) {
  auto bad = [](std::string why) { return util::fail(std::move(why)); };
  if (in.size() < 24 || std::memcmp(in.data(), kCheckpointMagic, 4) != 0) {
    return bad("not a channel checkpoint");
  }
  if (get_be(in.data() + 4, 2) != kChannelCheckpointVersion) {
    return bad("unsupported format version " + std::to_string(get_be(in.data() + 4, 2)));
  }
  const size_t body = in.size() - 4;
  if (codec::crc32c(std::string_view(in).substr(0, body)) != get_be(in.data() + body, 4)) {
    return bad("CRC mismatch");
  }
  size_t pos = 8;
  AckState s;
  s.started = true;
  s.floor = get_be(in.data() + pos, 8);
  pos += 8;
  const uint64_t n = get_be(in.data() + pos, 4);
  pos += 4;
  if (pos + n * 8 + 4 > body) return bad("truncated");
  for (uint64_t i = 0; i < n; ++i, pos += 8) s.acked.insert(get_be(in.data() + pos, 8));
  const uint64_t m = get_be(in.data() + pos, 4);
  pos += 4;
  if (pos + m * 16 != body) return bad("truncated");
  for (uint64_t i = 0; i < m; ++i, pos += 16) {
    s.deferred[get_be(in.data() + pos, 8)] = static_cast<int64_t>(get_be(in.data() + pos + 8, 8));
  }
  return s;
}

}  // namespace

void AckState::apply(AckRecord type, uint64_t offset, int64_t due_ns) {
  switch (type) {
    case AckRecord::kStart:
      // Only a fresh channel takes its start: replayed after a checkpoint it changes nothing.
      if (!started) {
        started = true;
        floor = offset;
      }
      return;
    case AckRecord::kAck:
      deferred.erase(offset);
      if (offset < floor) return;
      acked.insert(offset);
      while (!acked.empty() && *acked.begin() == floor) {
        acked.erase(acked.begin());
        ++floor;
      }
      return;
    case AckRecord::kDefer:
      if (!is_acked(offset)) deferred[offset] = due_ns;
      return;
    case AckRecord::kEmpty:
      started = true;
      if (offset <= floor) return;
      floor = offset;
      acked.erase(acked.begin(), acked.lower_bound(floor));
      deferred.erase(deferred.begin(), deferred.lower_bound(floor));
      while (!acked.empty() && *acked.begin() == floor) {
        acked.erase(acked.begin());
        ++floor;
      }
      return;
  }
}

ChannelJournal::ChannelJournal(std::string journal_path, std::string checkpoint_path,
                               disk::FileOps& ops)
    : journal_path_(std::move(journal_path)),
      checkpoint_path_(std::move(checkpoint_path)),
      ops_(ops) {}

ChannelJournal::~ChannelJournal() {
  if (fd_ >= 0) ops_.close(fd_);
}

util::Result<std::unique_ptr<ChannelJournal>> ChannelJournal::open(const std::string& dir,
                                                                   const std::string& channel,
                                                                   disk::FileOps* ops) {
  std::unique_ptr<ChannelJournal> j(new ChannelJournal(
      disk::join_path(dir, channel + ".acks"), disk::join_path(dir, channel + ".ckpt"),
      ops != nullptr ? *ops : disk::real_file_ops()));
  if (auto loaded = j->load(); !loaded) return util::fail(loaded.error());
  return j;
}

util::Status ChannelJournal::load() {
  const auto ckpt = disk::read_whole_file(checkpoint_path_, &ops_);
  if (!ckpt) return util::fail(ckpt.error());
  if (*ckpt) {
    existed_ = true;
    auto decoded = decode_checkpoint(**ckpt);
    if (!decoded) return util::fail(checkpoint_path_ + ": " + decoded.error());
    durable_ = std::move(*decoded);
  }
  // An empty journal counts too: it was made before a crash that lost its START, and that
  // channel may already have had messages acknowledged to their publishers.
  int64_t probe = 0;
  if (ops_.stat_size(journal_path_, probe) == 0) existed_ = true;
  fd_ = ops_.open(journal_path_, O_RDWR | O_CREAT, 0600);
  if (fd_ < 0) return util::fail("failed to open " + journal_path_ + ": " + disk::errno_text(-fd_));
  int64_t file_size = 0;
  if (const int r = ops_.fstat_size(fd_, file_size); r < 0) {
    return util::fail("failed to stat " + journal_path_ + ": " + disk::errno_text(-r));
  }
  std::string data(static_cast<size_t>(file_size), '\0');
  if (file_size > 0 && ops_.pread(fd_, data.data(), data.size(), 0) != file_size) {
    return util::fail("failed to read " + journal_path_);
  }
  size_t pos = 0;
  for (; pos + kRecordSize <= data.size(); pos += kRecordSize) {
    const char* p = data.data() + pos;
    if (codec::crc32c(std::string_view(p + 4, kRecordSize - 4)) != get_be(p, 4)) break;
    const auto type = static_cast<AckRecord>(p[4]);
    if (type != AckRecord::kStart && type != AckRecord::kAck && type != AckRecord::kDefer &&
        type != AckRecord::kEmpty) {
      break;
    }
    durable_.apply(type, get_be(p + 5, 8), static_cast<int64_t>(get_be(p + 13, 8)));
    ++records_;
  }
  size_ = static_cast<int64_t>(pos);
  if (pos < data.size()) {
    // A torn or corrupt tail: what follows it was never reported durable.
    if (ops_.ftruncate(fd_, size_) < 0 || ops_.fsync(fd_) < 0) {
      return util::fail("failed to cut the torn tail of " + journal_path_);
    }
  }
  return {};
}

void ChannelJournal::record(AckRecord type, uint64_t offset, int64_t due_ns) {
  std::lock_guard lock(mu_);
  pending_.push_back({type, offset, due_ns});
}

size_t ChannelJournal::buffered() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

AckState ChannelJournal::durable_state() const {
  std::lock_guard lock(mu_);
  return durable_;
}

uint64_t ChannelJournal::durable_floor() const {
  std::lock_guard lock(mu_);
  return durable_.floor;
}

void ChannelJournal::remove() {
  std::lock_guard io(io_mu_);
  if (removed_) return;
  removed_ = true;
  if (fd_ >= 0) ops_.close(fd_);
  fd_ = -1;
  ops_.unlink(journal_path_);
  ops_.unlink(checkpoint_path_);
  std::lock_guard lock(mu_);
  pending_.clear();
}

util::Result<int> ChannelJournal::flush(uint64_t synced) {
  std::lock_guard io(io_mu_);
  if (removed_) return 0;
  std::string out;
  std::vector<Pending> ready;
  {
    std::lock_guard lock(mu_);
    std::vector<Pending> keep;
    for (const Pending& p : pending_) {
      // A START or EMPTY at the durable end claims nothing the log could lose.
      const bool at_end_ok = p.type == AckRecord::kStart || p.type == AckRecord::kEmpty;
      const bool durable = at_end_ok ? p.offset <= synced : p.offset < synced;
      (durable ? ready : keep).push_back(p);
    }
    pending_.swap(keep);
  }
  if (ready.empty()) return 0;
  for (const Pending& p : ready) out += encode_record(p.type, p.offset, p.due_ns);
  const iovec iov{out.data(), out.size()};
  const ssize_t w = ops_.pwritev(fd_, &iov, 1, size_);
  int r = w == static_cast<ssize_t>(out.size()) ? ops_.fsync(fd_) : -EIO;
  if (w < 0) r = static_cast<int>(w);
  if (r < 0) {
    // Put them back in front, in order: the next flush tries again from the same size.
    ops_.ftruncate(fd_, size_);
    std::lock_guard lock(mu_);
    ready.insert(ready.end(), pending_.begin(), pending_.end());
    pending_.swap(ready);
    return util::fail("failed to write " + journal_path_ + ": " + disk::errno_text(-r));
  }
  size_ += static_cast<int64_t>(out.size());
  records_ += ready.size();
  {
    std::lock_guard lock(mu_);
    for (const Pending& p : ready) durable_.apply(p.type, p.offset, p.due_ns);
  }
  int fsyncs = 1;
  if (records_ >= compact_after) {
    if (auto compacted = compact(); !compacted) return util::fail(compacted.error());
    fsyncs += 2;  // the checkpoint (and its directory) and the emptied journal
  }
  return fsyncs;
}

util::Status ChannelJournal::compact() {
  const std::string ckpt = encode_checkpoint(durable_state());
  if (auto written = disk::write_file_atomically(checkpoint_path_, ckpt, &ops_); !written) {
    return written;
  }
  // The checkpoint holds everything now; a crash before the truncation only replays records
  // the checkpoint already contains (idempotent).
  if (ops_.ftruncate(fd_, 0) < 0 || ops_.fsync(fd_) < 0) {
    return util::fail("failed to empty " + journal_path_);
  }
  size_ = 0;
  records_ = 0;
  return {};
}

}  // namespace nsq::nsqd
