#include "common/util/hostname.hpp"

#include <unistd.h>

#include <array>
#include <climits>

namespace nsq::util {

std::string os_hostname() {
  std::array<char, HOST_NAME_MAX + 1> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "localhost";
  return std::string(buf.data());
}

}  // namespace nsq::util
