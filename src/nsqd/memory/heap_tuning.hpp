// How nsqd asks glibc's malloc to grow its heap (docs/benchmarks.md, "glibc's thread arenas").
#pragma once

namespace nsq::nsqd {

// One malloc arena grown 16 MiB at a time, unless the user set glibc.malloc tunables
// (GLIBC_TUNABLES) themselves. Call before any thread starts. Returns whether it tuned the
// heap (false: the operator's settings stand, and the heap may not grow by brk).
bool tune_message_heap();

}  // namespace nsq::nsqd
