#include "nsqd/memory/heap_release.hpp"

#include <malloc.h>

#include <utility>

namespace nsq::nsqd {

HeapReleaseOnDrop::HeapReleaseOnDrop(std::function<void()> release)
    : release_(release ? std::move(release) : [] { malloc_trim(0); }) {}

void HeapReleaseOnDrop::observe(size_t live) {
  if (live > peak_) peak_ = live;
  if (peak_ - live >= kMinDrop && live <= peak_ / 2) {
    release_();
    peak_ = live;
  }
}

}  // namespace nsq::nsqd
