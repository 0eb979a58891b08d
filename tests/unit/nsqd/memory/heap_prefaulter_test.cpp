// HeapPrefaulter: after the heap grows and a publisher notes it, the new pages become
// resident without anyone writing to them; the thread starts and stops cleanly.
#include "nsqd/memory/heap_prefaulter.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

namespace nsq::nsqd {
namespace {

constexpr uintptr_t kPage = 4096;

uintptr_t page_break() {
  return reinterpret_cast<uintptr_t>(::sbrk(0)) & ~(kPage - 1);
}

// Pages of [begin, end) that are not mapped in yet.
size_t missing_pages(uintptr_t begin, uintptr_t end) {
  std::vector<unsigned char> resident((end - begin) / kPage);
  if (::mincore(reinterpret_cast<void*>(begin), end - begin, resident.data()) != 0) {
    ADD_FAILURE() << "mincore failed";
    return resident.size();
  }
  size_t missing = 0;
  for (unsigned char r : resident) missing += (r & 1) == 0;
  return missing;
}

// Grows the main arena by `mib` MiB in 32 KiB blocks (below the mmap threshold, so malloc
// extends the heap with brk) and frees them at the end of the test. malloc writes only each
// block's header, so most of the new pages stay untouched.
class HeapGrowth {
 public:
  explicit HeapGrowth(int mib) : before_(page_break()) {
    for (int i = 0; i < mib * 32; ++i) blocks_.push_back(std::malloc(32 << 10));
    after_ = page_break();
  }
  ~HeapGrowth() {
    for (void* b : blocks_) std::free(b);
  }
  HeapGrowth(const HeapGrowth&) = delete;
  HeapGrowth& operator=(const HeapGrowth&) = delete;

  // False under a sanitizer allocator, which does not use brk.
  bool grew_by_brk(uintptr_t at_least) const { return after_ >= before_ + at_least; }
  uintptr_t begin() const { return before_; }
  uintptr_t end() const { return after_; }

 private:
  uintptr_t before_;
  uintptr_t after_ = 0;
  std::vector<void*> blocks_;
};

TEST(HeapPrefaulter, MapsThePagesOfANewHeapExtensionAfterANote) {
  HeapPrefaulter prefaulter;
  if (!prefaulter.start()) GTEST_SKIP() << "kernel without MADV_POPULATE_WRITE";
  HeapGrowth growth(16);
  if (!growth.grew_by_brk(8u << 20)) GTEST_SKIP() << "malloc did not grow the heap with brk";
  HeapPrefaulter::note_heap_use();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  size_t missing = missing_pages(growth.begin(), growth.end());
  while (missing > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    missing = missing_pages(growth.begin(), growth.end());
  }
  EXPECT_EQ(missing, 0u) << "of " << (growth.end() - growth.begin()) / kPage << " pages";
  EXPECT_GE(prefaulter.populated_bytes(), (growth.end() - growth.begin()) / 2);
  prefaulter.stop();
}

TEST(HeapPrefaulter, WithoutANoteNothingIsMapped) {
  HeapPrefaulter prefaulter;
  if (!prefaulter.start()) GTEST_SKIP() << "kernel without MADV_POPULATE_WRITE";
  HeapGrowth growth(8);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(prefaulter.populated_bytes(), 0u);
  if (growth.grew_by_brk(4u << 20)) {
    EXPECT_GT(missing_pages(growth.begin(), growth.end()), 0u);
  }
  prefaulter.stop();
}

TEST(HeapPrefaulter, OneAtATimeAndNotesWithoutOneAreHarmless) {
  HeapPrefaulter::note_heap_use();  // nobody running: a no-op
  HeapPrefaulter first;
  if (!first.start()) GTEST_SKIP() << "kernel without MADV_POPULATE_WRITE";
  HeapPrefaulter second;
  EXPECT_FALSE(second.start());
  EXPECT_FALSE(first.start());
  const auto t0 = std::chrono::steady_clock::now();
  first.stop();
  first.stop();  // idempotent
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  EXPECT_TRUE(second.start());  // the slot is free again
  second.stop();
}

}  // namespace
}  // namespace nsq::nsqd
