// What a FUZZ_CHECK failure does in a libFuzzer binary: print the broken invariant and abort,
// so libFuzzer records the input as a crash (linked into every fuzz/ binary).
#include <cstdio>
#include <cstdlib>

#include "fuzz/fuzz_target.hpp"

namespace nsq::fuzz {

void check_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace nsq::fuzz
