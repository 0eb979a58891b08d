// FileOps: the handful of file-system calls the storage layer makes, behind one interface so
// tests can inject faults (ENOSPC, short writes, failed fsync, slow disk).
// Production code always uses real_file_ops(), which forwards straight to the syscalls; only
// tests construct another implementation and pass it in through the options.
//
// Convention: every call returns a non-negative result on success and -errno on failure, so
// callers never read the thread-global errno after an intervening call (logging can clobber it)
// and fakes do not have to set it.
//
// Threads: implementations must be callable from any thread concurrently.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <string>

namespace nsq::disk {

class FileOps {
 public:
  virtual ~FileOps() = default;

  virtual int open(const std::string& path, int flags, mode_t mode) = 0;  // fd or -errno
  virtual int close(int fd) = 0;
  virtual ssize_t pwritev(int fd, const iovec* iov, int iovcnt, off_t offset) = 0;
  virtual ssize_t pread(int fd, void* buf, size_t count, off_t offset) = 0;
  virtual int fsync(int fd) = 0;
  // Data and the size only (no timestamps): what an append-only log needs. Test doubles need
  // not override it: by default it is their fsync, faults included.
  virtual int fdatasync(int fd) { return fsync(fd); }
  virtual int ftruncate(int fd, off_t length) = 0;
  virtual int fstat_size(int fd, int64_t& size) = 0;
  virtual int stat_size(const std::string& path, int64_t& size) = 0;
  virtual int rename(const std::string& from, const std::string& to) = 0;
  virtual int unlink(const std::string& path) = 0;
};

// The process-wide implementation over the real syscalls (retries EINTR).
FileOps& real_file_ops();

// "<strerror(err)>" with the first letter lowered, the way Go prints syscall errors
// ("no space left on device"), since our messages sit where the reference's did.
std::string errno_text(int err);

// Closes its descriptor when the last reference goes away, so a sync running outside the
// queue's lock can keep fsyncing a file that a concurrent roll has already let go of.
class FileHandle {
 public:
  FileHandle(FileOps& ops, int fd) : ops_(ops), fd_(fd) {}
  ~FileHandle() { ops_.close(fd_); }
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  int fd() const { return fd_; }

 private:
  FileOps& ops_;
  int fd_;
};

using FileHandlePtr = std::shared_ptr<FileHandle>;

}  // namespace nsq::disk
