// HeapPrefaulter: after the heap grows and a publisher notes it, the new pages become
// resident without anyone writing to them; the thread starts and stops cleanly.
#include "nsqd/heap_prefaulter.hpp"

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

TEST(HeapPrefaulter, MapsThePagesOfANewHeapExtensionAfterANote) {
  HeapPrefaulter prefaulter;
  if (!prefaulter.start()) GTEST_SKIP() << "kernel without MADV_POPULATE_WRITE";
  const uintptr_t before = page_break();
  // 16 MiB in 32 KiB blocks (below the mmap threshold: the main arena grows by brk). malloc
  // writes only each block's header, so most of these pages are untouched.
  std::vector<void*> blocks;
  for (int i = 0; i < 512; ++i) blocks.push_back(std::malloc(32 << 10));
  const uintptr_t after = page_break();
  if (after < before + (8u << 20)) {
    for (void* b : blocks) std::free(b);
    GTEST_SKIP() << "malloc did not grow the heap with brk (sanitizer allocator?)";
  }
  HeapPrefaulter::note_heap_use();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  size_t missing = missing_pages(before, after);
  while (missing > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    missing = missing_pages(before, after);
  }
  EXPECT_EQ(missing, 0u) << "of " << (after - before) / kPage << " pages";
  EXPECT_GE(prefaulter.populated_bytes(), (after - before) / 2);
  prefaulter.stop();
  for (void* b : blocks) std::free(b);
}

TEST(HeapPrefaulter, WithoutANoteNothingIsMapped) {
  HeapPrefaulter prefaulter;
  if (!prefaulter.start()) GTEST_SKIP() << "kernel without MADV_POPULATE_WRITE";
  const uintptr_t before = page_break();
  std::vector<void*> blocks;
  for (int i = 0; i < 256; ++i) blocks.push_back(std::malloc(32 << 10));
  const uintptr_t after = page_break();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(prefaulter.populated_bytes(), 0u);
  if (after >= before + (4u << 20)) {
    EXPECT_GT(missing_pages(before, after), 0u);
  }
  prefaulter.stop();
  for (void* b : blocks) std::free(b);
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
