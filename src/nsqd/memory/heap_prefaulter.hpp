// HeapPrefaulter: maps freshly grown heap pages on a background thread, so that the first
// write to them by a publisher does not take a page fault (docs/benchmarks.md, "Heap
// pre-faulting"). Works with the single brk-grown arena that tune_message_heap() sets up.
//
// Owner: nsqd's main(); start() after tune_message_heap(), stop() before exit. Publishers
// call note_heap_use() after allocating messages; it is a no-op when no prefaulter runs.
// Thread-safety: note_heap_use() may be called from any thread at any time.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace nsq::nsqd {

class HeapPrefaulter {
 public:
  HeapPrefaulter() = default;
  ~HeapPrefaulter() { stop(); }
  HeapPrefaulter(const HeapPrefaulter&) = delete;
  HeapPrefaulter& operator=(const HeapPrefaulter&) = delete;

  // Starts the thread and makes this the instance note_heap_use() wakes. At most one
  // prefaulter runs per process; a second start() (or one on a kernel without
  // MADV_POPULATE_WRITE) returns false and does nothing.
  bool start();
  void stop();

  // Cheap (reads glibc's cached program break): wakes the prefaulter when the heap's end
  // moved since the last call.
  static void note_heap_use() noexcept;

  // For tests and logs: bytes the thread has populated so far.
  uint64_t populated_bytes() const { return populated_bytes_.load(std::memory_order_relaxed); }

 private:
  void run(uintptr_t populated);

  std::thread thread_;
  std::atomic<uint64_t> populated_bytes_{0};
};

}  // namespace nsq::nsqd
