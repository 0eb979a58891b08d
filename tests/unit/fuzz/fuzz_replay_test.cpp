// Replays every fuzz target (fuzz/*_fuzz.cpp, compiled into this binary) over every file of
// its kept corpus, fuzz/corpus/<target>/, so the inputs that once crashed or widened coverage
// keep passing in every build (gcc, ASan+UBSan, TSan) without libFuzzer.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.hpp"

namespace nsq::fuzz {

namespace {

std::map<std::string, TargetFn, std::less<>>& registry() {
  static std::map<std::string, TargetFn, std::less<>> targets;
  return targets;
}

struct CheckFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::filesystem::path kCorpusRoot = NSQ_FUZZ_CORPUS_DIR;

std::vector<std::filesystem::path> corpus_files(std::string_view target) {
  std::vector<std::filesystem::path> files;
  const auto dir = kCorpusRoot / target;
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

bool register_target(std::string_view name, TargetFn fn) {
  return registry().emplace(std::string(name), fn).second;
}

void check_failed(const char* expr, const char* file, int line) {
  throw CheckFailure(std::string(expr) + " at " + file + ":" + std::to_string(line));
}

namespace {

TEST(FuzzReplay, EveryTargetHasACorpusAndEveryCorpusATarget) {
  ASSERT_FALSE(registry().empty());
  for (const auto& [name, fn] : registry()) {
    EXPECT_FALSE(corpus_files(name).empty()) << "no corpus in fuzz/corpus/" << name;
  }
  for (const auto& entry : std::filesystem::directory_iterator(kCorpusRoot)) {
    EXPECT_TRUE(registry().contains(entry.path().filename().string()))
        << "fuzz/corpus/" << entry.path().filename().string() << " has no target";
  }
}

TEST(FuzzReplay, EveryCorpusFilePassesItsTarget) {
  for (const auto& [name, fn] : registry()) {
    for (const auto& path : corpus_files(name)) {
      const std::string input = read_file(path);
      try {
        EXPECT_EQ(fn(reinterpret_cast<const uint8_t*>(input.data()), input.size()), 0)
            << path.string();
      } catch (const CheckFailure& e) {
        ADD_FAILURE() << path.string() << ": FUZZ_CHECK failed: " << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace nsq::fuzz
