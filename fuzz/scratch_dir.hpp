// A fresh directory under the system's temp folder, removed with everything in it when the
// object goes (path() is empty if it could not be made). For targets that need real files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace nsq::fuzz {

class ScratchDir {
 public:
  explicit ScratchDir(const char* prefix = "nsq-fuzz-") {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nsq::fuzz
