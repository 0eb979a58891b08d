#include "common/gocompat/go_path.hpp"

#include <algorithm>
#include <vector>

namespace nsq::gocompat {

std::string go_path_clean(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path.front() == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    const size_t end = std::min(path.find('/', i), path.size());
    const std::string_view part = path.substr(i, end - i);
    i = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);  // a relative path keeps its leading ".."s
      }                         // a rooted path drops ".." at its root
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t p = 0; p < parts.size(); ++p) {
    if (p > 0) out += '/';
    out.append(parts[p]);
  }
  return out.empty() ? "." : out;
}

std::string go_path_join(std::string_view a, std::string_view b) {
  if (a.empty() && b.empty()) return "";
  if (a.empty()) return go_path_clean(b);
  if (b.empty()) return go_path_clean(a);
  std::string joined(a);
  joined += '/';
  joined.append(b);
  return go_path_clean(joined);
}

}  // namespace nsq::gocompat
