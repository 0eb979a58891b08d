// The OS host name, as Go's os.Hostname() reports it: the default broadcast address of every
// daemon and the `hostname` field of IDENTIFY. Thread-safe.
#pragma once

#include <string>

namespace nsq::util {

// "localhost" if gethostname() fails (the reference exits instead; we never have seen it fail).
std::string os_hostname();

}  // namespace nsq::util
