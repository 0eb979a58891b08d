// Gives freed heap back to the kernel after many connections went away (issue 17).
//
// Why: nsqd grows its single malloc arena with a 16 MiB top pad (heap_tuning), so glibc only
// trims the heap top beyond that pad and never returns free pages inside the heap. After
// thousands of connections close, their buffers sit in free chunks and RSS stays at its peak.
// malloc_trim(0) returns every whole free page; it holds the arena lock while it walks the
// free lists, so it runs only after a large drop, not on every close.
#pragma once

#include <cstddef>
#include <functional>

namespace nsq::nsqd {

class HeapReleaseOnDrop {
 public:
  // `release` defaults to malloc_trim(0); tests pass their own.
  explicit HeapReleaseOnDrop(std::function<void()> release = {});

  // Called periodically with the current number of live connections. Releases when the count
  // has fallen to half of its peak since the last release and by at least kMinDrop.
  void observe(size_t live);

  static constexpr size_t kMinDrop = 256;

 private:
  std::function<void()> release_;
  size_t peak_ = 0;
};

}  // namespace nsq::nsqd
