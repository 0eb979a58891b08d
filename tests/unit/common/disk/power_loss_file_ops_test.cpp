// PowerLossFileOps (tests/unit/support): the power-loss model itself. A write survives only
// after an fsync of the file, a create/rename/unlink only after an fsync of its directory, and
// nothing written after the plug is pulled reaches the files.
#include "support/power_loss_file_ops.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>
#include <string>

#include "support/file_bytes.hpp"
#include "support/temp_dir.hpp"

namespace nsq::test_support {
namespace {

namespace fs = std::filesystem;

void write_at(disk::FileOps& ops, int fd, const std::string& bytes, off_t at) {
  const iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  ASSERT_EQ(ops.pwritev(fd, &iov, 1, at), static_cast<ssize_t>(bytes.size()));
}

// Creates (or opens) `path`, writes `bytes` at 0 and fsyncs it: contents durable, name not.
void write_synced(disk::FileOps& ops, const std::string& path, const std::string& bytes,
                  int flags = O_RDWR | O_CREAT) {
  const int fd = ops.open(path, flags, 0600);
  ASSERT_GE(fd, 0) << path;
  write_at(ops, fd, bytes, 0);
  ASSERT_EQ(ops.fsync(fd), 0);
  ops.close(fd);
}

int fsync_dir(disk::FileOps& ops, const std::string& dir) {
  const int fd = ops.open(dir, O_RDONLY | O_DIRECTORY, 0);
  if (fd < 0) return fd;
  const int r = ops.fsync(fd);
  ops.close(fd);
  return r;
}

TEST(PowerLossFileOpsTest, AWriteWithoutFsyncIsGoneWithFsyncItStays) {
  TempDir dir;
  const std::string path = dir.path() + "/f";
  spit(path, "old");  // there before: durable
  PowerLossFileOps ops(dir.path());
  const int fd = ops.open(path, O_RDWR, 0600);
  ASSERT_GE(fd, 0);
  write_at(ops, fd, "synced", 0);
  ASSERT_EQ(ops.fsync(fd), 0);
  write_at(ops, fd, "-lost", 6);
  ASSERT_EQ(ops.ftruncate(fd, 8), 0);
  EXPECT_EQ(slurp(path), "synced-l");  // the page cache has it
  ops.close(fd);
  ops.simulate_power_loss();
  EXPECT_EQ(slurp(path), "synced");
}

TEST(PowerLossFileOpsTest, ANewFileNeedsItsDirectoryFsyncToExist) {
  TempDir dir;
  PowerLossFileOps ops(dir.path());
  for (const char* name : {"kept", "gone"}) {
    write_synced(ops, dir.path() + "/" + name, "data");  // the name is not durable yet
    if (std::string(name) == "kept") {
      ASSERT_EQ(fsync_dir(ops, dir.path()), 0);
    }
  }
  ops.simulate_power_loss();
  EXPECT_EQ(slurp(dir.path() + "/kept"), "data");
  EXPECT_FALSE(fs::exists(dir.path() + "/gone"));
}

TEST(PowerLossFileOpsTest, ARenameOrUnlinkWithoutADirectoryFsyncIsUndone) {
  TempDir dir;
  spit(dir.path() + "/meta", "v1");
  spit(dir.path() + "/old", "keep me");
  PowerLossFileOps ops(dir.path());
  write_synced(ops, dir.path() + "/meta.tmp", "v2", O_WRONLY | O_CREAT | O_EXCL);
  ASSERT_EQ(ops.rename(dir.path() + "/meta.tmp", dir.path() + "/meta"), 0);
  ASSERT_EQ(ops.unlink(dir.path() + "/old"), 0);
  EXPECT_EQ(slurp(dir.path() + "/meta"), "v2");
  ops.simulate_power_loss();
  EXPECT_EQ(slurp(dir.path() + "/meta"), "v1");
  EXPECT_EQ(slurp(dir.path() + "/old"), "keep me");
  EXPECT_FALSE(fs::exists(dir.path() + "/meta.tmp"));  // its entry was never durable

  // The same with the directory fsync: the rename and the unlink stick.
  write_synced(ops, dir.path() + "/meta.tmp", "v3", O_WRONLY | O_CREAT | O_EXCL);
  ASSERT_EQ(ops.rename(dir.path() + "/meta.tmp", dir.path() + "/meta"), 0);
  ASSERT_EQ(ops.unlink(dir.path() + "/old"), 0);
  ASSERT_EQ(fsync_dir(ops, dir.path()), 0);
  ops.simulate_power_loss();
  EXPECT_EQ(slurp(dir.path() + "/meta"), "v3");
  EXPECT_FALSE(fs::exists(dir.path() + "/old"));
  EXPECT_FALSE(fs::exists(dir.path() + "/meta.tmp"));
}

TEST(PowerLossFileOpsTest, ASubdirectoryMadeOutsideFileOpsNeedsItsParentFsynced) {
  TempDir dir;
  PowerLossFileOps ops(dir.path());
  fs::create_directories(dir.path() + "/a");
  fs::create_directories(dir.path() + "/b");
  write_synced(ops, dir.path() + "/a/f", "x");
  ASSERT_EQ(fsync_dir(ops, dir.path() + "/a"), 0);
  ASSERT_EQ(fsync_dir(ops, dir.path()), 0);   // a and b are entries of the root now
  fs::create_directories(dir.path() + "/c");  // after the root's fsync: lost
  ops.simulate_power_loss();
  EXPECT_EQ(slurp(dir.path() + "/a/f"), "x");
  EXPECT_TRUE(fs::is_directory(dir.path() + "/b"));
  EXPECT_FALSE(fs::exists(dir.path() + "/c"));
}

TEST(PowerLossFileOpsTest, AfterThePowerCutNothingMoreIsWritten) {
  TempDir dir;
  PowerLossFileOps ops(dir.path());
  const int fd = ops.open(dir.path() + "/f", O_RDWR | O_CREAT, 0600);
  ASSERT_EQ(fsync_dir(ops, dir.path()), 0);
  ops.power_cut();
  const std::string bytes = "late";
  const iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  EXPECT_EQ(ops.pwritev(fd, &iov, 1, 0), -EIO);
  EXPECT_EQ(ops.fsync(fd), -EIO);
  EXPECT_EQ(ops.open(dir.path() + "/g", O_RDWR | O_CREAT, 0600), -EIO);
  EXPECT_EQ(ops.close(fd), 0);  // descriptors are still released
  ops.restore_durable_state();
  EXPECT_EQ(slurp(dir.path() + "/f"), "");
  EXPECT_FALSE(fs::exists(dir.path() + "/g"));
}

TEST(PowerLossFileOpsTest, ATornRestoreKeepsAPrefixOfTheUnsyncedWrites) {
  TempDir dir;
  spit(dir.path() + "/f", "");
  std::mt19937 rng(7);
  std::set<size_t> sizes;
  for (int round = 0; round < 20; ++round) {
    PowerLossFileOps ops(dir.path());
    const int fd = ops.open(dir.path() + "/f", O_RDWR | O_TRUNC, 0600);
    ASSERT_EQ(ops.fsync(fd), 0);
    write_at(ops, fd, "aaaa", 0);
    write_at(ops, fd, "bbbb", 4);
    ops.close(fd);
    ops.simulate_power_loss(&rng);
    const std::string got = slurp(dir.path() + "/f");
    EXPECT_EQ(got, std::string("aaaabbbb").substr(0, got.size()));
    sizes.insert(got.size());
  }
  EXPECT_GT(sizes.size(), 2u);  // sometimes none, sometimes part, sometimes all
}

}  // namespace
}  // namespace nsq::test_support
