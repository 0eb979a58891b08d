// PowerLossFileOps: the real file calls over a directory tree, plus a model of what a power
// loss would keep, so a test can "pull the plug" and check what the storage layer recovers.
//
// What counts as durable (strict POSIX, stricter than ext4's usual behaviour):
// * a file's contents: as of its last successful fsync() (through this FileOps); every
//   pwritev/ftruncate since is lost at the power loss;
// * a directory's entries (create, rename, unlink, a new subdirectory): as of the last fsync()
//   of that directory. The code fsyncs directories through FileOps (open(dir, O_DIRECTORY) +
//   fsync), so this sees them. Directories made outside FileOps (std::filesystem) are
//   modelled too: they exist after the loss only if their parent was fsynced since, and
//   empty unless they were fsynced themselves.
// Everything under `root` when the object is made counts as durable.
//
// Use: power_cut() freezes the files (every later call except close() fails with EIO, so
// threads still running and destructors cannot write anything more), the test then destroys
// what it was running, and restore_durable_state() rewrites `root` to the durable state.
// simulate_power_loss() does both when nothing is running. With a random generator, restore
// keeps a random prefix of each file's unsynced writes instead of none (the last one possibly
// torn), as a real disk may: recovery must cope with a torn tail too. cut_at_call(n) pulls
// the plug at the n-th call instead, so a test can cut a sequential job at each of its calls.
//
// A successful fsync is not forwarded to the kernel: the model decides what survives, and
// real fsyncs would make the tests slow. Threads: every call is safe from any thread (one
// mutex; the real I/O runs under it so a write and the fsync covering it are ordered).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/disk/forwarding_file_ops.hpp"

namespace nsq::test_support {

class PowerLossFileOps final : public disk::ForwardingFileOps {
 public:
  explicit PowerLossFileOps(std::string root) : root_(canonical(root)) {
    std::lock_guard l(mu_);
    snapshot_locked();
  }

  // The plug is pulled: nothing written from now on reaches the files.
  void power_cut() { frozen_.store(true); }
  // Counts the calls from now on (every one but close()) and pulls the plug at the n-th,
  // which fails with EIO as every later one does; 0: never. restore_durable_state() cancels
  // a cut not reached yet.
  void cut_at_call(int64_t n) {
    calls_.store(0);
    cut_at_.store(n);
  }
  // The calls counted since cut_at_call(), the one that cut the power included.
  int64_t calls() const { return calls_.load(); }
  // Rewrites the tree to what was durable at power_cut(); the model starts again from it.
  // `torn`: keep a random prefix of each file's unsynced writes (see above).
  void restore_durable_state(std::mt19937* torn = nullptr) {
    std::lock_guard l(mu_);
    frozen_.store(true);
    for (const auto& entry : std::filesystem::directory_iterator(root_)) {
      std::filesystem::remove_all(entry.path());
    }
    rebuild_dir_locked(root_, torn);
    snapshot_locked();
    cut_at_.store(0);  // the power is back for good: a cut_at_call() not reached is void
    frozen_.store(false);
  }
  void simulate_power_loss(std::mt19937* torn = nullptr) {
    power_cut();
    restore_durable_state(torn);
  }
  int file_fsyncs() const {
    std::lock_guard l(mu_);
    return file_fsyncs_;
  }
  int dir_fsyncs() const {
    std::lock_guard l(mu_);
    return dir_fsyncs_;
  }

  int open(const std::string& path, int flags, mode_t mode) override {
    std::lock_guard l(mu_);
    if (cut_now()) return -EIO;
    struct stat before {};
    const bool existed = ::stat(path.c_str(), &before) == 0;
    const int fd = inner().open(path, flags, mode);
    if (fd < 0) return fd;
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fd;
    if (S_ISDIR(st.st_mode)) {
      fds_[fd] = Fd{-1, canonical(path)};
      return fd;
    }
    int id = -1;
    if (!existed) {
      id = new_inode_locked(st, "");
    } else {
      id = inode_of_locked(st, path);
      if ((flags & O_TRUNC) != 0) inodes_[id].pending.push_back(Op{0, {}, true});
    }
    fds_[fd] = Fd{id, {}};
    return fd;
  }
  int close(int fd) override {
    {
      std::lock_guard l(mu_);
      fds_.erase(fd);
    }
    return inner().close(fd);
  }
  ssize_t pwritev(int fd, const iovec* iov, int iovcnt, off_t offset) override {
    std::lock_guard l(mu_);
    if (cut_now()) return -EIO;
    const ssize_t n = inner().pwritev(fd, iov, iovcnt, offset);
    const int id = file_of_locked(fd);
    if (n <= 0 || id < 0) return n;
    std::string bytes;
    for (int i = 0; i < iovcnt && bytes.size() < static_cast<size_t>(n); ++i) {
      const size_t take = std::min(iov[i].iov_len, static_cast<size_t>(n) - bytes.size());
      bytes.append(static_cast<const char*>(iov[i].iov_base), take);
    }
    inodes_[id].pending.push_back(Op{offset, std::move(bytes), false});
    return n;
  }
  ssize_t pread(int fd, void* buf, size_t count, off_t offset) override {
    if (cut_now()) return -EIO;
    return inner().pread(fd, buf, count, offset);
  }
  int fsync(int fd) override {
    std::lock_guard l(mu_);
    if (cut_now()) return -EIO;
    auto it = fds_.find(fd);
    if (it == fds_.end()) return -EBADF;
    if (it->second.inode < 0) {
      ++dir_fsyncs_;
      durable_dirs_[it->second.dir] = list_locked(it->second.dir);
      return 0;
    }
    ++file_fsyncs_;
    Inode& inode = inodes_[it->second.inode];
    for (const Op& op : inode.pending) apply(inode.image, op);
    inode.pending.clear();
    return 0;
  }
  int ftruncate(int fd, off_t length) override {
    std::lock_guard l(mu_);
    if (cut_now()) return -EIO;
    const int r = inner().ftruncate(fd, length);
    const int id = file_of_locked(fd);
    if (r == 0 && id >= 0) inodes_[id].pending.push_back(Op{length, {}, true});
    return r;
  }
  int fstat_size(int fd, int64_t& size) override {
    if (cut_now()) return -EIO;
    return inner().fstat_size(fd, size);
  }
  int stat_size(const std::string& path, int64_t& size) override {
    if (cut_now()) return -EIO;
    return inner().stat_size(path, size);
  }
  int rename(const std::string& from, const std::string& to) override {
    std::lock_guard l(mu_);
    if (cut_now()) return -EIO;
    return inner().rename(from, to);
  }
  int unlink(const std::string& path) override {
    std::lock_guard l(mu_);
    if (cut_now()) return -EIO;
    return inner().unlink(path);
  }

 private:
  // A write (bytes at offset) or a truncation (to offset).
  struct Op {
    int64_t offset = 0;
    std::string bytes;
    bool truncate = false;
  };
  struct Inode {
    std::string image;        // the contents as of the last fsync
    std::vector<Op> pending;  // since then, in order
  };
  struct Fd {
    int inode = -1;   // -1: a directory
    std::string dir;  // its canonical path
  };
  struct Entry {
    bool dir = false;
    int inode = -1;
  };
  using Listing = std::map<std::string, Entry>;

  // Counts a call; true when the power is (now) out.
  bool cut_now() {
    if (calls_.fetch_add(1) + 1 == cut_at_.load()) frozen_.store(true);
    return frozen_.load();
  }
  static std::string canonical(const std::string& path) {
    return std::filesystem::weakly_canonical(path.empty() ? "." : path).string();
  }
  // One read of the whole file (not char by char: the model reads every file it meets, and
  // unoptimised sanitizer builds made that most of a test's time).
  static std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    const std::streamoff size = in ? static_cast<std::streamoff>(in.tellg()) : 0;
    std::string out(static_cast<size_t>(std::max<std::streamoff>(size, 0)), '\0');
    in.seekg(0);
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    out.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    return out;
  }
  static void apply(std::string& image, const Op& op) {
    const auto at = static_cast<size_t>(op.offset);
    if (op.truncate) {
      image.resize(at);
      return;
    }
    if (image.size() < at + op.bytes.size()) image.resize(at + op.bytes.size());
    image.replace(at, op.bytes.size(), op.bytes);
  }

  int new_inode_locked(const struct stat& st, std::string image) {
    const int id = next_id_++;
    inodes_[id].image = std::move(image);
    current_[{st.st_dev, st.st_ino}] = id;
    return id;
  }
  // The model's inode for an existing file; one made outside FileOps counts as durable.
  int inode_of_locked(const struct stat& st, const std::string& path) {
    auto it = current_.find({st.st_dev, st.st_ino});
    if (it != current_.end()) return it->second;
    return new_inode_locked(st, read_all(path));
  }
  int file_of_locked(int fd) const {
    auto it = fds_.find(fd);
    return it == fds_.end() ? -1 : it->second.inode;
  }
  Listing list_locked(const std::string& dir) {
    Listing out;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      struct stat st {};
      if (::lstat(entry.path().c_str(), &st) != 0) continue;
      const std::string name = entry.path().filename().string();
      if (S_ISDIR(st.st_mode)) {
        out[name] = Entry{true, -1};
      } else if (S_ISREG(st.st_mode)) {
        out[name] = Entry{false, inode_of_locked(st, entry.path().string())};
      }
    }
    return out;
  }
  // Forgets the history: everything under root is durable as it is now.
  void snapshot_locked() {
    inodes_.clear();
    current_.clear();
    durable_dirs_.clear();
    std::vector<std::string> dirs{root_};
    while (!dirs.empty()) {
      const std::string dir = dirs.back();
      dirs.pop_back();
      Listing listing = list_locked(dir);
      for (const auto& [name, entry] : listing) {
        if (entry.dir) dirs.push_back(dir + "/" + name);
      }
      durable_dirs_[dir] = std::move(listing);
    }
  }
  void rebuild_dir_locked(const std::string& dir, std::mt19937* torn) {
    auto it = durable_dirs_.find(dir);
    if (it == durable_dirs_.end()) return;  // never fsynced: empty
    for (const auto& [name, entry] : it->second) {
      const std::string path = dir + "/" + name;
      if (entry.dir) {
        std::filesystem::create_directory(path);
        rebuild_dir_locked(path, torn);
        continue;
      }
      const Inode& inode = inodes_[entry.inode];
      std::string contents = inode.image;
      if (torn != nullptr && !inode.pending.empty()) {
        const size_t keep = std::uniform_int_distribution<size_t>(0, inode.pending.size())(*torn);
        for (size_t i = 0; i < keep; ++i) {
          Op op = inode.pending[i];
          if (i + 1 == keep && !op.truncate && !op.bytes.empty()) {
            op.bytes.resize(std::uniform_int_distribution<size_t>(1, op.bytes.size())(*torn));
          }
          apply(contents, op);
        }
      }
      std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
      std::filesystem::permissions(
          path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
  }

  const std::string root_;
  mutable std::mutex mu_;
  std::atomic<bool> frozen_{false};
  std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> cut_at_{0};
  std::map<int, Inode> inodes_;
  std::map<std::pair<dev_t, ino_t>, int> current_;  // the model's inode of each real one
  std::map<std::string, Listing> durable_dirs_;     // by canonical path
  std::map<int, Fd> fds_;
  int next_id_ = 0;
  int file_fsyncs_ = 0;
  int dir_fsyncs_ = 0;
};

}  // namespace nsq::test_support
