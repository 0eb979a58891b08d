#include "common/gocompat/go_errno.hpp"

#include <cctype>
#include <cstring>

namespace nsq::gocompat {

std::string go_errno_text(int err) {
  // Go's table (zerrors_linux_*.go) is glibc's wording with the first letter lowered.
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace nsq::gocompat
