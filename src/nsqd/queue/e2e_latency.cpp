#include "nsqd/queue/e2e_latency.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace nsq::nsqd {

namespace {
constexpr size_t kBufferSize = 500;
}

int64_t e2e_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

QuantileStream::QuantileStream(std::vector<double> targets, double epsilon)
    : targets_(std::move(targets)), epsilon_(epsilon) {
  buffer_.reserve(kBufferSize);
}

// The allowed rank error at rank r: the tightest bound over all targets (paper, def. 5).
double QuantileStream::invariant(double r) const {
  double m = std::numeric_limits<double>::max();
  for (double q : targets_) {
    double f;
    if (q * n_ <= r) {
      f = (2 * epsilon_ * r) / q;
    } else if (q >= 1) {
      f = std::numeric_limits<double>::infinity();
    } else {
      f = (2 * epsilon_ * (n_ - r)) / (1 - q);
    }
    m = std::min(m, f);
  }
  return m;
}

void QuantileStream::insert(double value) {
  buffer_.push_back(value);
  buffer_sorted_ = false;
  if (buffer_.size() >= kBufferSize) {
    flush();
    compress();
  }
}

void QuantileStream::flush() {
  if (buffer_.empty()) return;
  std::sort(buffer_.begin(), buffer_.end());
  buffer_sorted_ = true;
  std::vector<Sample> samples;
  samples.reserve(buffer_.size());
  for (double v : buffer_) samples.push_back(Sample{v, 1, 0});
  merge_sorted(samples);
  buffer_.clear();
}

void QuantileStream::merge(std::vector<Sample> samples) {
  std::sort(samples.begin(), samples.end(),
            [](const Sample& a, const Sample& b) { return a.value < b.value; });
  merge_sorted(samples);
}

void QuantileStream::merge_sorted(const std::vector<Sample>& sorted) {
  // One pass: each new sample goes before the first summary entry with a larger value, with
  // the rank uncertainty the invariant allows at that rank (0 at the ends).
  std::vector<Sample> out;
  out.reserve(summary_.size() + sorted.size());
  double r = 0;
  size_t i = 0;
  for (const Sample& s : sorted) {
    while (i < summary_.size() && summary_[i].value <= s.value) {
      r += summary_[i].width;
      out.push_back(summary_[i++]);
    }
    if (i < summary_.size()) {
      out.push_back(Sample{s.value, s.width, std::floor(invariant(r)) - 1});
    } else {
      out.push_back(Sample{s.value, s.width, 0});
    }
    n_ += s.width;
  }
  while (i < summary_.size()) out.push_back(summary_[i++]);
  summary_ = std::move(out);
}

void QuantileStream::compress() {
  if (summary_.size() < 2) return;
  // Walk from the top, folding an entry into its successor while the error bound allows.
  std::vector<Sample> kept;
  kept.reserve(summary_.size());
  Sample x = summary_.back();
  double r = n_ - 1 - x.width;
  for (size_t k = summary_.size() - 1; k-- > 0;) {
    const Sample& c = summary_[k];
    if (c.width + x.width + x.delta <= invariant(r)) {
      x.width += c.width;
    } else {
      kept.push_back(x);
      x = c;
    }
    r -= c.width;
  }
  kept.push_back(x);
  std::reverse(kept.begin(), kept.end());
  summary_ = std::move(kept);
}

std::vector<QuantileStream::Sample> QuantileStream::samples() {
  if (summary_.empty()) {
    std::vector<Sample> out;
    out.reserve(buffer_.size());
    for (double v : buffer_) out.push_back(Sample{v, 1, 0});
    return out;
  }
  flush();
  compress();
  return summary_;
}

double QuantileStream::query(double q) {
  if (summary_.empty()) {
    // Few values: exact answer from the buffer.
    if (buffer_.empty()) return 0;
    if (!buffer_sorted_) {
      std::sort(buffer_.begin(), buffer_.end());
      buffer_sorted_ = true;
    }
    size_t i = static_cast<size_t>(static_cast<double>(buffer_.size()) * q);
    if (i > 0) --i;
    return buffer_[std::min(i, buffer_.size() - 1)];
  }
  flush();
  double t = std::ceil(q * n_);
  t += std::ceil(invariant(t) / 2);
  const Sample* p = &summary_[0];
  double r = 0;
  for (size_t k = 1; k < summary_.size(); ++k) {
    const Sample& c = summary_[k];
    if (r + c.width + c.delta > t) return p->value;
    r += p->width;
    p = &c;
  }
  return p->value;
}

uint64_t QuantileStream::count() const {
  return static_cast<uint64_t>(n_) + buffer_.size();
}

void QuantileStream::reset() {
  summary_.clear();
  buffer_.clear();
  n_ = 0;
  buffer_sorted_ = true;
}

E2eLatency::E2eLatency(std::vector<double> percentiles, int64_t window_ns)
    : percentiles_(std::move(percentiles)),
      half_window_ns_(std::max<int64_t>(1, window_ns / 2)),
      streams_{QuantileStream(percentiles_), QuantileStream(percentiles_)},
      last_move_ns_(e2e_now_ns()) {}

void E2eLatency::advance_locked(int64_t now_ns) {
  if (now_ns - last_move_ns_ <= half_window_ns_) return;
  const int64_t steps = (now_ns - last_move_ns_ - 1) / half_window_ns_;
  // Two moves clear both halves; more change nothing else.
  for (int64_t s = 0; s < std::min<int64_t>(steps, 2); ++s) {
    current_ ^= 1;
    streams_[current_].reset();
  }
  last_move_ns_ += steps * half_window_ns_;
}

void E2eLatency::insert(int64_t msg_timestamp_ns) {
  insert_at(msg_timestamp_ns, e2e_now_ns());
}

void E2eLatency::insert_at(int64_t msg_timestamp_ns, int64_t now_ns) {
  std::lock_guard lock(mu_);
  advance_locked(now_ns);
  streams_[current_].insert(static_cast<double>(now_ns - msg_timestamp_ns));
}

void E2eLatency::collect_into(QuantileStream& merged) {
  std::lock_guard lock(mu_);
  advance_locked(e2e_now_ns());
  merged.merge(streams_[0].samples());
  merged.merge(streams_[1].samples());
}

E2eResult E2eLatency::result() {
  return result_at(e2e_now_ns());
}

E2eResult E2eLatency::result_at(int64_t now_ns) {
  QuantileStream merged(percentiles_);
  {
    std::lock_guard lock(mu_);
    advance_locked(now_ns);
    merged.merge(streams_[0].samples());
    merged.merge(streams_[1].samples());
  }
  return query(merged, percentiles_);
}

E2eResult E2eLatency::query(QuantileStream& merged, const std::vector<double>& percentiles) {
  E2eResult r;
  r.count = merged.count();
  for (double p : percentiles) r.percentiles.emplace_back(p, merged.query(p));
  return r;
}

}  // namespace nsq::nsqd
