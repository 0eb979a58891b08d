// Go's os.ReadFile, with its error texts: "open <path>: no such file or directory",
// "read <path>: is a directory". Config files and TLS certificates are read through it, so
// start-up failures read as the reference's.
#pragma once

#include <string>

#include "common/util/result.hpp"

namespace nsq::util {

// Go's syscall error text: strerror's message with a lower-case first letter.
std::string go_errno_text(int error);

// The whole file, or the text of Go's *PathError.
Result<std::string> read_file_as_go(const std::string& path);

}  // namespace nsq::util
