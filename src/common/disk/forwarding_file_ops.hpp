// ForwardingFileOps: the one FileOps decorator base. Every call goes to an inner FileOps (the
// real syscalls unless told otherwise); a fault-injecting test double or the fuzz target's
// fsync-free ops derive from it and override only the calls they change, reaching the
// undecorated call through inner().
//
// Threads: as safe as the inner FileOps (real_file_ops() is safe from any thread).
#pragma once

#include "common/disk/file_ops.hpp"

namespace nsq::disk {

class ForwardingFileOps : public FileOps {
 public:
  explicit ForwardingFileOps(FileOps& inner = real_file_ops()) : inner_(inner) {}

  int open(const std::string& p, int f, mode_t m) override { return inner_.open(p, f, m); }
  int close(int fd) override { return inner_.close(fd); }
  ssize_t pwritev(int fd, const iovec* iov, int n, off_t off) override {
    return inner_.pwritev(fd, iov, n, off);
  }
  ssize_t pread(int fd, void* b, size_t c, off_t o) override { return inner_.pread(fd, b, c, o); }
  int fsync(int fd) override { return inner_.fsync(fd); }
  // fdatasync is not forwarded: FileOps' default runs this object's fsync, so a decorator that
  // overrides fsync (a fault) covers both.
  int ftruncate(int fd, off_t l) override { return inner_.ftruncate(fd, l); }
  int fstat_size(int fd, int64_t& s) override { return inner_.fstat_size(fd, s); }
  int stat_size(const std::string& p, int64_t& s) override { return inner_.stat_size(p, s); }
  int rename(const std::string& a, const std::string& b) override { return inner_.rename(a, b); }
  int unlink(const std::string& p) override { return inner_.unlink(p); }

 protected:
  FileOps& inner() const { return inner_; }

 private:
  FileOps& inner_;
};

}  // namespace nsq::disk
