// A directory under $TMPDIR (or a given parent) that lives as long as the object: tests that
// build an Nsqd (which creates disk queues and nsqd.dat in -data-path) point it here instead
// of the cwd.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace nsq::test_support {

class TempDir {
 public:
  // `parent`: where to make it ("": $TMPDIR).
  explicit TempDir(const std::string& parent = "") {
    const std::filesystem::path root =
        parent.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(parent);
    std::string tmpl = (root / "nsq-unit-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // A parent in memory (tmpfs) when the machine has one, else "" ($TMPDIR): for tests that
  // make thousands of files whose durability a model decides (PowerLossFileOps), where
  // creating them on a disk's file system would cost most of the run time.
  static std::string in_memory_parent() {
    std::error_code ec;
    return std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
               ? "/dev/shm"
               : "";
  }

 private:
  std::string path_;
};

}  // namespace nsq::test_support
