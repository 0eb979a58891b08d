// atomic_file: whole-file writes that land whole, and the cleanup of the temp files a crash
// between the temp file's creation and its rename leaves behind.
#include "common/disk/atomic_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/result_assertions.hpp"

namespace nsq::disk {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/atomic_file_test_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  // A file last modified `age` ago.
  void make(const std::string& name, std::chrono::seconds age) const {
    std::ofstream(path(name)) << "x";
    fs::last_write_time(path(name), fs::file_time_type::clock::now() - age);
  }

  std::string dir_;
};

TEST_F(AtomicFileTest, WriteReplacesTheFileAndLeavesNoTempFile) {
  ASSERT_TRUE(test_support::succeeded(write_file_atomically(path("q.meta.dat"), "one")));
  ASSERT_TRUE(test_support::succeeded(write_file_atomically(path("q.meta.dat"), "two")));
  const auto got = read_whole_file(path("q.meta.dat"));
  ASSERT_TRUE(test_support::succeeded(got));
  EXPECT_EQ(got->value_or("(missing)"), "two");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(AtomicFileTest, ReadOfAMissingFileIsNoErrorButNothing) {
  const auto got = read_whole_file(path("absent.meta.dat"));
  ASSERT_TRUE(test_support::succeeded(got));
  EXPECT_FALSE(got->has_value());
}

TEST_F(AtomicFileTest, ReadErrorSaysWhichCallFailedOnWhichPath) {
  const auto got = read_whole_file(dir_);  // a directory: open succeeds, read fails
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error(), "read " + dir_ + ": is a directory");
}

TEST_F(AtomicFileTest, RemovesOnlyOldTempFilesOfThatPath) {
  const std::chrono::seconds old(60);
  make("q.meta.dat.123456789.tmp", old);               // a crash's leftover: goes
  make("q.meta.dat.42.tmp", old);                      // goes
  make("q.meta.dat.77.tmp", std::chrono::seconds(0));  // a write in progress: stays
  make("q.meta.dat", old);                             // the file itself: stays
  make("other.meta.dat.5.tmp", old);                   // another file's: stays
  make("q.meta.dat.12x.tmp", old);                     // not our pattern: stays
  make("q.meta.dat..tmp", old);                        // no digits: stays
  EXPECT_EQ(remove_stale_temp_files(path("q.meta.dat")), 2u);
  EXPECT_FALSE(fs::exists(path("q.meta.dat.123456789.tmp")));
  EXPECT_FALSE(fs::exists(path("q.meta.dat.42.tmp")));
  for (const char* kept : {"q.meta.dat.77.tmp", "q.meta.dat", "other.meta.dat.5.tmp",
                           "q.meta.dat.12x.tmp", "q.meta.dat..tmp"}) {
    EXPECT_TRUE(fs::exists(path(kept))) << kept;
  }
  EXPECT_EQ(remove_stale_temp_files(path("q.meta.dat"), std::chrono::seconds(0)), 1u);
}

TEST_F(AtomicFileTest, MissingDirectoryRemovesNothing) {
  EXPECT_EQ(remove_stale_temp_files(dir_ + "/gone/q.meta.dat"), 0u);
}

}  // namespace
}  // namespace nsq::disk
