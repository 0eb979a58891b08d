// LogRange: offsets [from, end) of a topic's log whose messages are held only in the log, not
// in memory, with `count` of them still to deliver (the range may also hold records delivered
// otherwise: DPUBs, which go to a deferred heap, or acknowledged ones). A channel's log tail
// (past --mem-queue-size) and a paused topic's overflow are each one. It grows only at its
// end, so it stays one contiguous range in log order.
//
// A plain value: its owner's lock guards it.
#pragma once

#include <cstdint>

namespace nsq::nsqd {

struct LogRange {
  uint64_t from = 0;
  uint64_t end = 0;
  int64_t count = 0;

  bool empty() const { return from >= end; }
  // The message at `offset` (above every offset in the range) joins it.
  void add(uint64_t offset) {
    if (empty()) from = offset;
    end = offset + 1;
    ++count;
  }
  // `later` (starting at or above end) joins it.
  void append(const LogRange& later) {
    if (empty()) from = later.from;
    end = later.end;
    count += later.count;
  }
  // Nothing held any more. `from` moves to `end`, so a reader that noted `from` before sees
  // that the range moved under it (Channel::refill_from_log).
  void clear() {
    from = end;
    count = 0;
  }
};

}  // namespace nsq::nsqd
