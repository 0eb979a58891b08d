#include "common/util/read_file.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace nsq::util {

std::string go_errno_text(int error) {
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Result<std::string> read_file_as_go(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return fail("open " + path + ": " + go_errno_text(errno));
  std::string content;
  char buf[8192];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) content.append(buf, n);
  const bool failed = std::ferror(file) != 0;
  const int read_errno = errno;
  std::fclose(file);
  if (failed) return fail("read " + path + ": " + go_errno_text(read_errno));
  return content;
}

}  // namespace nsq::util
