// Go's int64 arithmetic wraps on overflow; C++'s is undefined behaviour. Counts that come
// from peers (nsqd's /stats in nsqadmin) are added and subtracted with these, as Go would.
#pragma once

#include <cstdint>

namespace nsq::gocompat {

constexpr int64_t go_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

constexpr int64_t go_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

}  // namespace nsq::gocompat
