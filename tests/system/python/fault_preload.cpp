// An LD_PRELOAD library that makes a running nsqd's file calls fail on demand, for the system
// tests of disk faults (test_disk_faults.py compiles it with `c++ -shared -fPIC`).
//
// $NSQ_FAULT_CONTROL names a control file, read again at every intercepted call (tests change
// it while nsqd runs). Each line: "<call> <errno> <path part>", e.g. "pwritev EIO .diskqueue."
// makes every pwritev on a file whose path contains ".diskqueue." fail with EIO. Calls: open,
// pwritev, pread, fsync (and fdatasync), ftruncate, rename, unlink. An empty or missing file
// injects nothing.
// Only the calls nsqd's FileOps makes are wrapped; the control file is read with raw syscalls
// so the wrappers never recurse.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

struct ErrName {
  const char* name;
  int value;
};
constexpr ErrName kErrnos[] = {{"EIO", EIO},       {"ENOSPC", ENOSPC}, {"EINTR", EINTR},
                               {"EMFILE", EMFILE}, {"EROFS", EROFS},   {"EDQUOT", EDQUOT}};

// The errno to fail `call` on `path` with, or 0.
int injected(const char* call, const char* path) {
  const char* control = std::getenv("NSQ_FAULT_CONTROL");
  if (control == nullptr || path == nullptr) return 0;
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, control, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return 0;
  char buf[4096];
  ssize_t n = syscall(SYS_read, fd, buf, sizeof buf - 1);
  syscall(SYS_close, fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char* save = nullptr;
  for (char* line = strtok_r(buf, "\n", &save); line; line = strtok_r(nullptr, "\n", &save)) {
    char c[32], e[32], part[1024];
    if (std::sscanf(line, "%31s %31s %1023s", c, e, part) != 3) continue;
    if (std::strcmp(c, call) != 0 || std::strstr(path, part) == nullptr) continue;
    for (const auto& en : kErrnos) {
      if (std::strcmp(en.name, e) == 0) return en.value;
    }
  }
  return 0;
}

// The path an open descriptor refers to ("" if unknown).
const char* fd_path(int fd, char* out, size_t size) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, out, size - 1);
  out[n > 0 ? n : 0] = '\0';
  return out;
}

template <typename F>
F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

int fail(int err) {
  errno = err;
  return -1;
}

// Fails with the injected errno for `call` on the descriptor's file, or runs `real`.
template <typename R, typename F>
R on_fd(const char* call, int fd, F real) {
  char p[1024];
  if (int e = injected(call, fd_path(fd, p, sizeof p))) return static_cast<R>(fail(e));
  return real();
}

int open_as(const char* symbol, const char* path, int flags, mode_t mode) {
  if (int e = injected("open", path)) return fail(e);
  auto real = next<int (*)(const char*, int, ...)>(symbol);
  return real(path, flags, mode);
}

}  // namespace

// The mode argument exists only when the flags create a file.
#define NSQ_MODE_ARG(flags, mode)                \
  mode_t mode = 0;                               \
  if ((flags) & (O_CREAT | O_TMPFILE)) {         \
    va_list ap;                                  \
    va_start(ap, flags);                         \
    mode = static_cast<mode_t>(va_arg(ap, int)); \
    va_end(ap);                                  \
  }

extern "C" {

int open(const char* path, int flags, ...) {
  NSQ_MODE_ARG(flags, mode)
  return open_as("open", path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  NSQ_MODE_ARG(flags, mode)
  return open_as("open64", path, flags, mode);
}

ssize_t pwritev(int fd, const struct iovec* iov, int iovcnt, off_t offset) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int, off_t)>("pwritev");
  return on_fd<ssize_t>("pwritev", fd, [&] { return real(fd, iov, iovcnt, offset); });
}

ssize_t pwritev64(int fd, const struct iovec* iov, int iovcnt, off_t offset) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int, off_t)>("pwritev64");
  return on_fd<ssize_t>("pwritev", fd, [&] { return real(fd, iov, iovcnt, offset); });
}

ssize_t pread(int fd, void* buf, size_t count, off_t offset) {
  static auto real = next<ssize_t (*)(int, void*, size_t, off_t)>("pread");
  return on_fd<ssize_t>("pread", fd, [&] { return real(fd, buf, count, offset); });
}

ssize_t pread64(int fd, void* buf, size_t count, off_t offset) {
  static auto real = next<ssize_t (*)(int, void*, size_t, off_t)>("pread64");
  return on_fd<ssize_t>("pread", fd, [&] { return real(fd, buf, count, offset); });
}

int fsync(int fd) {
  static auto real = next<int (*)(int)>("fsync");
  return on_fd<int>("fsync", fd, [&] { return real(fd); });
}

// The durable log syncs with fdatasync: a "fsync" fault fails it too.
int fdatasync(int fd) {
  static auto real = next<int (*)(int)>("fdatasync");
  return on_fd<int>("fsync", fd, [&] { return real(fd); });
}

int ftruncate(int fd, off_t length) {
  static auto real = next<int (*)(int, off_t)>("ftruncate");
  return on_fd<int>("ftruncate", fd, [&] { return real(fd, length); });
}

int ftruncate64(int fd, off_t length) {
  static auto real = next<int (*)(int, off_t)>("ftruncate64");
  return on_fd<int>("ftruncate", fd, [&] { return real(fd, length); });
}

int rename(const char* from, const char* to) {
  if (int e = injected("rename", to)) return fail(e);
  static auto real = next<int (*)(const char*, const char*)>("rename");
  return real(from, to);
}

int unlink(const char* path) {
  if (int e = injected("unlink", path)) return fail(e);
  static auto real = next<int (*)(const char*)>("unlink");
  return real(path);
}

}  // extern "C"
