#include "common/disk/atomic_file.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <random>

namespace nsq::disk {

namespace {

// Returns 0 or -errno.
int write_all(FileOps& ops, int fd, std::string_view data) {
  off_t off = 0;
  while (static_cast<size_t>(off) < data.size()) {
    iovec iov{const_cast<char*>(data.data()) + off, data.size() - static_cast<size_t>(off)};
    ssize_t n = ops.pwritev(fd, &iov, 1, off);
    if (n < 0) return static_cast<int>(n);
    if (n == 0) return -ENOSPC;  // a regular file that accepts nothing is out of space
    off += n;
  }
  return 0;
}

std::string fail_text(std::string_view op, const std::string& path, int err) {
  std::string s(op);
  s += ' ';
  s += path;
  s += ": ";
  s += errno_text(err);
  return s;
}

}  // namespace

size_t remove_stale_temp_files(const std::string& path, std::chrono::seconds min_age) {
  namespace fs = std::filesystem;
  const std::string dir = parent_dir(path);
  const std::string prefix = fs::path(path).filename().string() + ".";
  constexpr std::string_view kSuffix = ".tmp";
  std::error_code ec;
  size_t removed = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() + kSuffix.size() || !name.starts_with(prefix) ||
        !name.ends_with(kSuffix)) {
      continue;
    }
    const std::string_view digits =
        std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - kSuffix.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    std::error_code rm;
    const auto modified = fs::last_write_time(entry.path(), rm);
    if (rm || fs::file_time_type::clock::now() - modified < min_age) continue;
    if (fs::remove(entry.path(), rm)) ++removed;
  }
  return removed;
}

int64_t random_int63() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return static_cast<int64_t>(rng() >> 1);
}

std::string parent_dir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string join_path(const std::string& dir, std::string_view file) {
  if (dir.empty()) return std::string(file);
  std::string out = dir;
  if (out.back() != '/') out += '/';
  out += file;
  return out;
}

util::Status write_file_atomically(const std::string& path, std::string_view data,
                                   FileOps* ops_in) {
  FileOps& ops = ops_in ? *ops_in : real_file_ops();
  std::string tmp = path + "." + std::to_string(random_int63()) + ".tmp";

  // O_EXCL: a random name that already exists belongs to someone else; never write into it.
  int fd = ops.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0600);
  if (fd < 0) return util::fail(fail_text("open", tmp, -fd));
  auto abandon = [&](std::string_view op, int err) {
    ops.close(fd);
    ops.unlink(tmp);
    return util::fail(fail_text(op, tmp, err));
  };
  if (int r = write_all(ops, fd, data); r < 0) return abandon("write", -r);
  if (int r = ops.fsync(fd); r < 0) return abandon("sync", -r);
  if (int r = ops.close(fd); r < 0) {
    ops.unlink(tmp);
    return util::fail(fail_text("close", tmp, -r));
  }
  if (int r = ops.rename(tmp, path); r < 0) {
    ops.unlink(tmp);
    return util::fail("rename " + tmp + " " + path + ": " + errno_text(-r));
  }
  // Make the rename itself durable. The content is already in place, so a failure here is
  // reported but the file is not rolled back.
  std::string dir = parent_dir(path);
  int dfd = ops.open(dir, O_RDONLY | O_DIRECTORY, 0);
  if (dfd < 0) return util::fail(fail_text("open", dir, -dfd));
  int r = ops.fsync(dfd);
  ops.close(dfd);
  if (r < 0) return util::fail(fail_text("sync", dir, -r));
  return {};
}

util::Result<std::optional<std::string>> read_whole_file(const std::string& path, FileOps* ops_in) {
  FileOps& ops = ops_in ? *ops_in : real_file_ops();
  int fd = ops.open(path, O_RDONLY, 0);
  if (fd < 0) {
    if (fd == -ENOENT) return std::optional<std::string>();
    return util::fail(fail_text("open", path, -fd));
  }
  int64_t size = 0;
  if (int r = ops.fstat_size(fd, size); r < 0) {
    ops.close(fd);
    return util::fail(fail_text("stat", path, -r));
  }
  // The size is a hint only: read until EOF so a file that grows or shrinks meanwhile is still
  // read consistently up to where the kernel says it ends.
  std::string out(static_cast<size_t>(size) + 1, '\0');
  size_t got = 0;
  for (;;) {
    if (got == out.size()) out.resize(out.size() * 2);
    ssize_t n = ops.pread(fd, out.data() + got, out.size() - got, static_cast<off_t>(got));
    if (n < 0) {
      ops.close(fd);
      return util::fail(fail_text("read", path, static_cast<int>(-n)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  ops.close(fd);
  return std::optional<std::string>(std::move(out));
}

}  // namespace nsq::disk
