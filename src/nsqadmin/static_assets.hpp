// The web UI (web/*) compiled into the binary by CMake (cmake/EmbedWeb.cmake generates the
// table), so nsqadmin has no runtime file dependency. Read-only after static initialisation.
#pragma once

#include <string_view>

namespace nsq::nsqadmin {

struct StaticAsset {
  std::string_view name;  // file name in web/, e.g. "app.js"
  std::string_view data;
};

// nullptr when there is no such asset.
const StaticAsset* find_static_asset(std::string_view name);

}  // namespace nsq::nsqadmin
