// Go's text for an errno (syscall.Errno.Error()): the C library's message with a lowercase first
// letter ("connection refused", "address already in use", "no such file or directory"), which
// is what the reference prints in listen, dial and file errors.
#pragma once

#include <string>

namespace nsq::gocompat {

std::string go_errno_text(int err);

}  // namespace nsq::gocompat
