// A FileOps that forwards every call to the real syscalls: fault-injecting test doubles derive
// from it and override only the call they change.
#pragma once

#include "common/disk/file_ops.hpp"

namespace nsq::test_support {

class ForwardingFileOps : public disk::FileOps {
 public:
  int open(const std::string& p, int f, mode_t m) override { return real().open(p, f, m); }
  int close(int fd) override { return real().close(fd); }
  ssize_t pwritev(int fd, const iovec* iov, int n, off_t off) override {
    return real().pwritev(fd, iov, n, off);
  }
  ssize_t pread(int fd, void* b, size_t c, off_t o) override { return real().pread(fd, b, c, o); }
  int fsync(int fd) override { return real().fsync(fd); }
  int ftruncate(int fd, off_t l) override { return real().ftruncate(fd, l); }
  int fstat_size(int fd, int64_t& s) override { return real().fstat_size(fd, s); }
  int stat_size(const std::string& p, int64_t& s) override { return real().stat_size(p, s); }
  int rename(const std::string& a, const std::string& b) override { return real().rename(a, b); }
  int unlink(const std::string& p) override { return real().unlink(p); }

 protected:
  static disk::FileOps& real() { return disk::real_file_ops(); }
};

}  // namespace nsq::test_support
