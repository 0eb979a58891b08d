// Golden values of Go's path.Clean and path.Join (from Go's own path tests and go run).
#include "common/gocompat/go_path.hpp"

#include <gtest/gtest.h>

namespace nsq::gocompat {
namespace {

TEST(GoPath, CleanMatchesGo) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "."},
      {"abc", "abc"},
      {"abc/def", "abc/def"},
      {"a/b/c", "a/b/c"},
      {".", "."},
      {"..", ".."},
      {"../..", "../.."},
      {"../../abc", "../../abc"},
      {"/abc", "/abc"},
      {"/", "/"},
      {"abc/", "abc"},
      {"/abc/", "/abc"},
      {"abc//def//ghi", "abc/def/ghi"},
      {"//abc", "/abc"},
      {"abc/./def", "abc/def"},
      {"/./abc/def", "/abc/def"},
      {"abc/.", "abc"},
      {"abc/def/ghi/../jkl", "abc/def/jkl"},
      {"abc/def/..", "abc"},
      {"abc/def/../..", "."},
      {"/abc/def/../..", "/"},
      {"abc/def/../../..", ".."},
      {"/abc/def/../../..", "/"},
      {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
      {"./data", "data"},
      {"/..", "/"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(go_path_clean(in), want) << in;
}

TEST(GoPath, JoinAsTheReferenceNamesNsqdDat) {
  EXPECT_EQ(go_path_join("", "nsqd.dat"), "nsqd.dat");
  EXPECT_EQ(go_path_join("/var/lib/nsqd", "nsqd.dat"), "/var/lib/nsqd/nsqd.dat");
  EXPECT_EQ(go_path_join("/var/lib/nsqd/", "nsqd.dat"), "/var/lib/nsqd/nsqd.dat");
  EXPECT_EQ(go_path_join("./data", "nsqd.dat"), "data/nsqd.dat");
  EXPECT_EQ(go_path_join(".", "nsqd.dat"), "nsqd.dat");
  EXPECT_EQ(go_path_join("a", ""), "a");
  EXPECT_EQ(go_path_join("", ""), "");
}

}  // namespace
}  // namespace nsq::gocompat
