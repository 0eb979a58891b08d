#include "common/disk/file_ops.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace nsq::disk {

namespace {

// Runs `call` until it stops failing with EINTR; maps failure to -errno.
template <typename F>
auto retry_eintr(F call) -> decltype(call()) {
  for (;;) {
    auto r = call();
    if (r >= 0) return r;
    if (errno != EINTR) return static_cast<decltype(r)>(-errno);
  }
}

class RealFileOps final : public FileOps {
 public:
  int open(const std::string& path, int flags, mode_t mode) override {
    return retry_eintr([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
  }
  int close(int fd) override {
    // Never retried: on Linux the descriptor is gone even when close reports EINTR.
    return ::close(fd) == 0 ? 0 : -errno;
  }
  ssize_t pwritev(int fd, const iovec* iov, int iovcnt, off_t offset) override {
    return retry_eintr([&] { return ::pwritev(fd, iov, iovcnt, offset); });
  }
  ssize_t pread(int fd, void* buf, size_t count, off_t offset) override {
    return retry_eintr([&] { return ::pread(fd, buf, count, offset); });
  }
  int fsync(int fd) override {
    return retry_eintr([&] { return ::fsync(fd); });
  }
  int fdatasync(int fd) override {
    return retry_eintr([&] { return ::fdatasync(fd); });
  }
  int ftruncate(int fd, off_t length) override {
    return retry_eintr([&] { return ::ftruncate(fd, length); });
  }
  int fstat_size(int fd, int64_t& size) override {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return -errno;
    size = static_cast<int64_t>(st.st_size);
    return 0;
  }
  int stat_size(const std::string& path, int64_t& size) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return -errno;
    size = static_cast<int64_t>(st.st_size);
    return 0;
  }
  int rename(const std::string& from, const std::string& to) override {
    return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : -errno;
  }
  int unlink(const std::string& path) override { return ::unlink(path.c_str()) == 0 ? 0 : -errno; }
};

}  // namespace

FileOps& real_file_ops() {
  static RealFileOps ops;
  return ops;
}

std::string errno_text(int err) {
  char buf[128];
  // GNU strerror_r may return a static string instead of filling buf.
  const char* s = strerror_r(err, buf, sizeof buf);
  std::string out = s ? s : "unknown error";
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

}  // namespace nsq::disk
