#include "nsqd/memory/heap_prefaulter.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>

namespace nsq::nsqd {

// Why: a backlog grows the heap by hundreds of MB per second, and the first write to each
// fresh 4 KiB page faults. On the 2-core VM that was ~40 % of nsqd's CPU under MPUB, all of
// it on the event loop that publishes, between reading the MPUB and answering OK. This thread
// asks the kernel to map the pages of each heap extension (MADV_POPULATE_WRITE) as soon as
// the break moves, so the publisher writes to pages that are already there. The work is the
// same (the kernel still zeroes every page), but it leaves the request path: publish
// throughput went up ~15-30 % for ~0.1 us/msg more CPU in total (docs/benchmarks.md).
// MADV_POPULATE_WRITE only maps what is not mapped yet; it never changes the contents of a
// page, so it is safe on pages malloc is using. The cost in memory: up to M_TOP_PAD (16 MiB)
// of mapped but unused heap, which malloc would have touched a moment later anyway.

namespace {

constexpr uintptr_t kPage = 4096;
constexpr uintptr_t kChunk = uintptr_t{2} << 20;  // populate 2 MiB per call: stop() stays prompt

// Process-wide, not per instance: note_heap_use() is called from publishers that know
// nothing about the owner, and at most one prefaulter runs at a time.
std::atomic<bool> g_running{false};
std::atomic<uintptr_t> g_noted_break{0};
// Growth is noted every ~16 MiB of messages, so a mutex and condition variable cost nothing.
std::mutex g_mu;
std::condition_variable g_cv;
bool g_pending = false;  // guarded by g_mu: the break moved since the thread last looked
// Written under g_mu (so the condvar cannot miss it); atomic so the thread can also check it
// between 2 MiB chunks without the lock.
std::atomic<bool> g_stopping{false};

uintptr_t current_break() {
  // glibc's sbrk(0) returns its cached break: no system call.
  return reinterpret_cast<uintptr_t>(::sbrk(0)) & ~(kPage - 1);
}

bool kernel_supports_populate_write() {
  void* page = ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return false;
  const bool ok = ::madvise(page, kPage, MADV_POPULATE_WRITE) == 0;  // Linux >= 5.14
  ::munmap(page, kPage);
  return ok;
}

}  // namespace

bool HeapPrefaulter::start() {
  if (thread_.joinable() || !kernel_supports_populate_write()) return false;
  bool expected = false;
  if (!g_running.compare_exchange_strong(expected, true)) return false;  // another instance
  {
    std::lock_guard lock(g_mu);
    g_pending = false;
    g_stopping.store(false, std::memory_order_relaxed);
  }
  // Pages below the break now are malloc's history; only growth from here is ours. Read
  // here, not in the thread, so that growth before the thread runs is not missed.
  const uintptr_t from = current_break();
  g_noted_break.store(from, std::memory_order_relaxed);
  thread_ = std::thread([this, from] { run(from); });
  return true;
}

void HeapPrefaulter::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(g_mu);
    g_stopping.store(true, std::memory_order_relaxed);
  }
  g_cv.notify_one();
  thread_.join();
  g_running.store(false);
}

void HeapPrefaulter::note_heap_use() noexcept {
  if (!g_running.load(std::memory_order_relaxed)) return;
  const uintptr_t brk = current_break();
  if (brk == g_noted_break.load(std::memory_order_relaxed)) return;  // the common case
  // Racing publishers may store in any order: the thread reads the break itself, so a
  // stale value here costs at most one extra wake-up, never a missed one.
  g_noted_break.store(brk, std::memory_order_relaxed);
  {
    std::lock_guard lock(g_mu);
    g_pending = true;
  }
  g_cv.notify_one();
}

void HeapPrefaulter::run(uintptr_t populated) {
  ::pthread_setname_np(::pthread_self(), "nsqd-prefault");
  for (;;) {
    {
      std::unique_lock lock(g_mu);
      g_cv.wait(lock, [] { return g_pending || g_stopping.load(std::memory_order_relaxed); });
      if (g_stopping.load(std::memory_order_relaxed)) return;
      g_pending = false;
    }
    const uintptr_t end = current_break();
    // A heap that shrank (malloc trimmed its top) regrows through pages we must map again.
    while (populated < end && !g_stopping.load(std::memory_order_relaxed)) {
      const uintptr_t len = end - populated < kChunk ? end - populated : kChunk;
      // Errors are not fatal: ENOMEM if malloc trimmed the range meanwhile, EFAULT/ENOMEM
      // when memory is short. The publisher then faults the pages itself, as without us.
      if (::madvise(reinterpret_cast<void*>(populated), len, MADV_POPULATE_WRITE) == 0) {
        populated_bytes_.fetch_add(len, std::memory_order_relaxed);
      } else if (errno == EINTR) {
        continue;
      }
      populated += len;
    }
    populated = end;
  }
}

}  // namespace nsq::nsqd
