#include "nsqd/memory/heap_tuning.hpp"

#include <malloc.h>

#include <cstdlib>
#include <string_view>

namespace nsq::nsqd {

// Why: a backlog is millions of ~250-byte messages, each malloc'ed on the IO thread that
// parsed it. glibc gives each thread its own arena, and a thread arena grows its heap by
// exactly the page-rounded shortfall, one mprotect() per ~16 messages: profiles of MPUB
// into memory showed a quarter of nsqd's CPU in mprotect. The main arena grows with brk()
// plus M_TOP_PAD, so one arena with a 16 MiB pad grows ~4000x less often. The price is one
// arena lock shared by the IO threads; glibc's per-thread tcache absorbs most of it and
// every benchmark phase used less CPU per message with it (docs/benchmarks.md). The pad is
// address space, not RSS: pages are only touched when messages fill them. Setting the pad
// freezes glibc's otherwise adaptive mmap threshold at 128 KiB, which would mmap and
// munmap every large message; 2 MiB keeps messages up to twice the default
// -max-msg-size on the heap.
bool tune_message_heap() {
  if (const char* t = std::getenv("GLIBC_TUNABLES");
      t != nullptr && std::string_view(t).find("glibc.malloc.") != std::string_view::npos) {
    return false;  // the operator chose their own malloc settings
  }
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_TOP_PAD, 16 << 20);
  mallopt(M_MMAP_THRESHOLD, 2 << 20);
  return true;
}

}  // namespace nsq::nsqd
