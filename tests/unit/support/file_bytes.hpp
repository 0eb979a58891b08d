// Whole-file reads and writes for tests that inspect or hand-craft on-disk formats.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace nsq::test_support {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

}  // namespace nsq::test_support
