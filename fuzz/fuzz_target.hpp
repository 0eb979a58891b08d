// How a fuzz target is declared, so that the same .cpp file is both a libFuzzer binary
// (fuzz/CMakeLists.txt, built by scripts/fuzz.sh with -DNSQ_FUZZ_LIBFUZZER) and a function the
// replay unit test runs over the kept corpus in every ordinary build (gcc, ASan, TSan).
//
//   NSQ_FUZZ_TARGET(v2_parser) { ... use data, size ...; return 0; }
//
// The name is the target's corpus folder: fuzz/corpus/<name>/.
// FUZZ_CHECK states an invariant of the decoder under test; a broken one aborts under libFuzzer
// (which saves the input as a crash) and throws in the replay test (which names the file).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nsq::fuzz {

using TargetFn = int (*)(const uint8_t* data, size_t size);

[[noreturn]] void check_failed(const char* expr, const char* file, int line);

#ifndef NSQ_FUZZ_LIBFUZZER
// Replay build: every target adds itself to one registry at static-initialisation time.
bool register_target(std::string_view name, TargetFn fn);
#endif

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace nsq::fuzz

#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::nsq::fuzz::check_failed(#cond, __FILE__, __LINE__))

#ifdef NSQ_FUZZ_LIBFUZZER
#define NSQ_FUZZ_TARGET(name) \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#else
#define NSQ_FUZZ_TARGET(name)                                          \
  static int nsq_fuzz_target_##name(const uint8_t* data, size_t size); \
  [[maybe_unused]] static const bool nsq_fuzz_registered_##name =      \
      ::nsq::fuzz::register_target(#name, &nsq_fuzz_target_##name);    \
  static int nsq_fuzz_target_##name(const uint8_t* data, size_t size)
#endif
