// FaultFileOps: the real file calls, except those a test arms to fail. Each FileOps call can be
// made to return -errno (EIO, ENOSPC, EINTR...) for the next N calls or until disarmed,
// optionally only for paths containing a substring (calls on a descriptor use the path it was
// opened with). pwritev can also be limited to short writes of a few bytes per call. A
// successful fsync is not forwarded (the tests are about faults, not power loss).
// Threads: every call is safe from any thread (the disk-queue torture test shares one).
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/disk/forwarding_file_ops.hpp"

namespace nsq::test_support {

enum class FileOp {
  kOpen,
  kClose,
  kWrite,
  kRead,
  kFsync,
  kTruncate,
  kFstat,
  kStat,
  kRename,
  kUnlink
};
constexpr std::array kAllFileOps = {
    FileOp::kOpen,     FileOp::kClose, FileOp::kWrite, FileOp::kRead,   FileOp::kFsync,
    FileOp::kTruncate, FileOp::kFstat, FileOp::kStat,  FileOp::kRename, FileOp::kUnlink};

inline const char* file_op_name(FileOp op) {
  static constexpr const char* kNames[] = {"open",      "close", "pwritev", "pread",  "fsync",
                                           "ftruncate", "fstat", "stat",    "rename", "unlink"};
  return kNames[static_cast<int>(op)];
}

class FaultFileOps final : public disk::ForwardingFileOps {
 public:
  static constexpr int kForever = -1;

  // Calls of `op` on a path containing `path_part` fail with `err`, `times` times (or forever).
  void arm(FileOp op, int err, int times = kForever, std::string path_part = "") {
    std::lock_guard l(mu_);
    faults_[static_cast<int>(op)] = Fault{err, times, std::move(path_part)};
  }
  void disarm(FileOp op) {
    std::lock_guard l(mu_);
    faults_[static_cast<int>(op)] = Fault{};
  }
  void disarm_all() {
    std::lock_guard l(mu_);
    faults_ = {};
    short_write_max_ = 0;
  }
  // pwritev accepts at most `max_bytes` per call (0: no limit).
  void short_writes(size_t max_bytes) {
    std::lock_guard l(mu_);
    short_write_max_ = max_bytes;
  }
  int failures(FileOp op) const {
    std::lock_guard l(mu_);
    return failed_[static_cast<int>(op)];
  }

  int open(const std::string& path, int flags, mode_t mode) override {
    if (int e = take(FileOp::kOpen, path)) return -e;
    int fd = inner().open(path, flags, mode);
    if (fd >= 0) {
      std::lock_guard l(mu_);
      paths_[fd] = path;
    }
    return fd;
  }
  int close(int fd) override {
    {
      std::lock_guard l(mu_);
      paths_.erase(fd);
    }
    // The descriptor is released either way (as Linux does), so the test leaks nothing.
    int r = inner().close(fd);
    if (int e = take(FileOp::kClose, "")) return -e;
    return r;
  }
  ssize_t pwritev(int fd, const iovec* iov, int iovcnt, off_t offset) override {
    if (int e = take(FileOp::kWrite, path_of(fd))) return -e;
    size_t limit = 0;
    {
      std::lock_guard l(mu_);
      limit = short_write_max_;
    }
    if (limit == 0 || iovcnt == 0) return inner().pwritev(fd, iov, iovcnt, offset);
    iovec part{iov[0].iov_base, std::min(iov[0].iov_len, limit)};
    return inner().pwritev(fd, &part, 1, offset);
  }
  ssize_t pread(int fd, void* buf, size_t count, off_t offset) override {
    if (int e = take(FileOp::kRead, path_of(fd))) return -e;
    return inner().pread(fd, buf, count, offset);
  }
  int fsync(int fd) override {
    if (int e = take(FileOp::kFsync, path_of(fd))) return -e;
    // Not forwarded: these tests are about process-level faults, not power loss, and a real
    // fsync per roll and sync would make the sweep take seconds instead of milliseconds.
    return 0;
  }
  int ftruncate(int fd, off_t length) override {
    if (int e = take(FileOp::kTruncate, path_of(fd))) return -e;
    return inner().ftruncate(fd, length);
  }
  int fstat_size(int fd, int64_t& size) override {
    if (int e = take(FileOp::kFstat, path_of(fd))) return -e;
    return inner().fstat_size(fd, size);
  }
  int stat_size(const std::string& path, int64_t& size) override {
    if (int e = take(FileOp::kStat, path)) return -e;
    return inner().stat_size(path, size);
  }
  int rename(const std::string& from, const std::string& to) override {
    if (int e = take(FileOp::kRename, to)) return -e;
    return inner().rename(from, to);
  }
  int unlink(const std::string& path) override {
    if (int e = take(FileOp::kUnlink, path)) return -e;
    return inner().unlink(path);
  }

 private:
  struct Fault {
    int err = 0;
    int times = 0;
    std::string path_part;
  };

  std::string path_of(int fd) {
    std::lock_guard l(mu_);
    auto it = paths_.find(fd);
    return it == paths_.end() ? std::string() : it->second;
  }
  // The errno to fail this call with, or 0 to let it through.
  int take(FileOp op, const std::string& path) {
    std::lock_guard l(mu_);
    Fault& f = faults_[static_cast<int>(op)];
    if (f.err == 0 || f.times == 0) return 0;
    if (!f.path_part.empty() && path.find(f.path_part) == std::string::npos) return 0;
    if (f.times > 0) --f.times;
    ++failed_[static_cast<int>(op)];
    return f.err;
  }

  mutable std::mutex mu_;
  std::array<Fault, kAllFileOps.size()> faults_{};
  std::array<int, kAllFileOps.size()> failed_{};
  std::unordered_map<int, std::string> paths_;
  size_t short_write_max_ = 0;
};

}  // namespace nsq::test_support
