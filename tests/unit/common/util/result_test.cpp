// util::Result: a value or an error text, and the Go os.ReadFile texts read_file_as_go gives.
#include "common/util/result.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "common/util/read_file.hpp"

namespace nsq::util {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return fail("odd: " + std::to_string(n));
  return n / 2;
}

Status check(bool ok) {
  if (!ok) return fail("refused");
  return {};
}

TEST(Result, HoldsTheValueOrTheError) {
  auto r = half(4);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 2);
  r = half(3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "odd: 3");
}

// The error side is its own type, so a string value is never mistaken for an error.
TEST(Result, StringValueIsAValue) {
  Result<std::string> value = std::string("text");
  Result<std::string> error = fail("text");
  EXPECT_TRUE(value.ok());
  EXPECT_EQ(*value, "text");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.error(), "text");
}

TEST(Result, StatusIsSuccessOrText) {
  EXPECT_TRUE(check(true));
  auto s = check(false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "refused");
}

TEST(Result, MovesOutTheValue) {
  auto r = Result<std::unique_ptr<int>>(std::make_unique<int>(7));
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, 7);
}

TEST(ReadFileAsGo, ReturnsContentOrGoPathError) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("nsq_read_file_as_go_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "f.txt").string();
  std::ofstream(file, std::ios::binary) << std::string("a\0b", 3);
  auto content = read_file_as_go(file);
  ASSERT_TRUE(content) << content.error();
  EXPECT_EQ(*content, std::string("a\0b", 3));

  const std::string missing = (dir / "missing").string();
  auto none = read_file_as_go(missing);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), "open " + missing + ": no such file or directory");

  auto directory = read_file_as_go(dir.string());
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error(), "read " + dir.string() + ": is a directory");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nsq::util
