// Disk-queue recovery of arbitrary files: the input becomes a metadata file and two data files
// of one queue, which is then opened, drained, written and closed as nsqd would after a crash
// or a hand-edited data directory (go-diskqueue's diskqueue.go format).
//
// Header: byte 0 = which files exist (bit 0 meta, bit 1 file 0, bit 2 file 1) and the read
// buffer size; byte 1 = min_msg_size - 1; byte 2 = max_msg_size - min_msg_size; byte 3 = the
// metadata's length; bytes 4-5 = file 0's length (big-endian); the rest is file 1.
// Invariants: open never fails; the depth is never negative; every record read has a length
// within the limits; draining ends (at most one record per 5 bytes of input) with depth 0; a
// record put afterwards is read back unchanged; close succeeds.
#include <cstdio>
#include <string>

#include "common/disk/disk_queue.hpp"
#include "common/disk/forwarding_file_ops.hpp"
#include "common/log/logger.hpp"
#include "fuzz/fuzz_target.hpp"
#include "fuzz/scratch_dir.hpp"

namespace {

void write_file(const std::string& path, std::string_view data) {
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
  }
}

// The real calls without fsync: durability is not what is fuzzed, and fsyncs would cut the
// executions per second a hundredfold.
class NoSyncOps final : public nsq::disk::ForwardingFileOps {
 public:
  int fsync(int) override { return 0; }
};

}  // namespace

NSQ_FUZZ_TARGET(disk_queue_files) {
  if (size < 6) return 0;
#ifdef NSQ_FUZZ_LIBFUZZER
  // Recovery logs every bad byte; the replay build keeps the unit tests' logger as it is.
  static const bool quiet = [] {
    nsq::log::init("", nsq::log::Level::kFatal);
    return true;
  }();
  (void)quiet;
#endif
  const uint8_t which = data[0];
  nsq::disk::DiskQueueOptions o;
  o.min_msg_size = 1 + data[1] % 64;
  o.max_msg_size = o.min_msg_size + data[2];
  o.max_bytes_per_file = 64 + (which >> 3) * 8;
  o.read_buffer_size = (which & 0x80) ? 16 : 4096;  // tiny: exercises buffer growth
  o.sync_every = 1 + (which >> 4);
  static NoSyncOps no_sync;
  o.file_ops = &no_sync;
  std::string_view rest = nsq::fuzz::as_view(data + 6, size - 6);
  const size_t meta_len = std::min<size_t>(data[3], rest.size());
  const std::string_view meta = rest.substr(0, meta_len);
  rest.remove_prefix(meta_len);
  const size_t f0_len = std::min<size_t>((size_t{data[4]} << 8) | data[5], rest.size());
  const std::string_view f0 = rest.substr(0, f0_len);
  const std::string_view f1 = rest.substr(f0_len);

  nsq::fuzz::ScratchDir dir("nsq-dq-fuzz-");
  if (dir.path().empty()) return 0;
  const std::string base = dir.path() + "/q.diskqueue.";
  if (which & 1) write_file(base + "meta.dat", meta);
  if (which & 2) write_file(base + "000000.dat", f0);
  if (which & 4) write_file(base + "000001.dat", f1);

  auto opened = nsq::disk::DiskQueue::open("q", dir.path(), o);
  FUZZ_CHECK(opened.ok());
  auto& q = *opened;
  FUZZ_CHECK(q->depth() >= 0);
  const size_t max_records = size / 5 + 2;
  size_t records = 0;
  std::string msg;
  nsq::disk::ReadResult r;
  while ((r = q->read_next(msg)) == nsq::disk::ReadResult::kOk) {
    FUZZ_CHECK(msg.size() >= static_cast<size_t>(o.min_msg_size));
    FUZZ_CHECK(msg.size() <= static_cast<size_t>(o.max_msg_size));
    FUZZ_CHECK(q->depth() >= 0);
    FUZZ_CHECK(++records <= max_records);
  }
  FUZZ_CHECK(r == nsq::disk::ReadResult::kEmpty);
  FUZZ_CHECK(q->depth() == 0);

  const std::string fresh(static_cast<size_t>(o.min_msg_size), 'z');
  FUZZ_CHECK(q->put(fresh).ok());
  FUZZ_CHECK(q->depth() == 1);
  FUZZ_CHECK(q->read_next(msg) == nsq::disk::ReadResult::kOk && msg == fresh);
  FUZZ_CHECK(q->read_next(msg) == nsq::disk::ReadResult::kEmpty);
  FUZZ_CHECK(q->close().ok());
  return 0;
}
