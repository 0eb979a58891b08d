// Runs an incremental, sans-IO parser over a byte stream the way a connection does: parse at
// the front of the unconsumed bytes, drop what a verdict consumed, and on "need more" feed the
// next push. The stream arrives in two pushes split at `split`; a parser that is truly
// incremental gives the same verdicts for every split, which the targets check.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_target.hpp"

namespace nsq::fuzz {

struct StepVerdict {
  bool need_more = false;
  bool end = false;     // the connection closes after this verdict
  size_t consumed = 0;  // when neither need_more nor end
  std::string text;     // everything the verdict says, for comparison
};

// step(std::string_view unconsumed) -> StepVerdict. Returns every final verdict's text.
template <class Step>
std::vector<std::string> feed_in_two_pushes(std::string_view stream, size_t split, Step&& step) {
  std::string buf(stream.substr(0, split));
  bool all_fed = split >= stream.size();
  std::vector<std::string> verdicts;
  for (;;) {
    StepVerdict v = step(std::string_view(buf));
    if (v.need_more && !all_fed) {
      buf.append(stream.substr(split));
      all_fed = true;
      continue;
    }
    verdicts.push_back(std::move(v.text));
    if (v.need_more || v.end) return verdicts;
    FUZZ_CHECK(v.consumed > 0 && v.consumed <= buf.size());
    buf.erase(0, v.consumed);
  }
}

// The split offset a target reads from two input bytes.
inline size_t split_from(uint8_t hi, uint8_t lo, size_t stream_size) {
  return ((size_t{hi} << 8) | lo) % (stream_size + 1);
}

}  // namespace nsq::fuzz
