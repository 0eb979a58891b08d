// End-to-end processing latency (publish -> FIN) as the reference reports it with
// --e2e-processing-latency-percentile: approximate targeted quantiles over a sliding window.
//
// QuantileStream is the biased/targeted-quantile summary of Cormode, Korn, Muthukrishnan and
// Srivastava ("Effective Computation of Biased Quantiles over Data Streams", the algorithm
// the reference uses through bmizerany/perks, with the same error bound epsilon = 0.01 and a
// 500-value insert buffer), so our values behave like the reference's: exact while few
// values were seen, within epsilon-rank afterwards, memory bounded regardless of traffic.
//
// E2eLatency keeps two such streams, each covering half of the window: every window/2 the
// older half is cleared and becomes the current one, and a query merges both. Topics report
// the merge of all their channels.
//
// Owner: a Channel (one per channel when percentiles are configured). Thread-safe: FIN paths
// insert and /stats, statsd and /metrics query concurrently, under its own mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace nsq::nsqd {

class QuantileStream {
 public:
  struct Sample {
    double value;
    double width;  // how many observed values this sample stands for
    double delta;  // rank uncertainty
  };

  explicit QuantileStream(std::vector<double> targets, double epsilon = 0.01);

  void insert(double value);
  // Adds another stream's samples (any order).
  void merge(std::vector<Sample> samples);
  // The summary, flushed and compressed (for merging elsewhere).
  std::vector<Sample> samples();
  // The value at quantile q (one of the targets); 0 when empty.
  double query(double q);
  // Values observed (sum of widths).
  uint64_t count() const;
  void reset();

 private:
  double invariant(double r) const;
  void flush();
  void merge_sorted(const std::vector<Sample>& sorted);
  void compress();

  std::vector<double> targets_;
  double epsilon_;
  double n_ = 0;                 // values in summary_
  std::vector<Sample> summary_;  // sorted by value
  std::vector<double> buffer_;   // inserts not yet merged
  bool buffer_sorted_ = true;
};

struct E2eResult {
  uint64_t count = 0;
  // (quantile, value in ns), in the configured order (descending).
  std::vector<std::pair<double, double>> percentiles;
};

class E2eLatency {
 public:
  // `percentiles` sorted descending as the reference's flag keeps them; window in ns.
  E2eLatency(std::vector<double> percentiles, int64_t window_ns);

  // Records the latency of a message published at `msg_timestamp_ns` (unix ns), finished now.
  void insert(int64_t msg_timestamp_ns);
  void insert_at(int64_t msg_timestamp_ns, int64_t now_ns);
  // Adds this stream's samples (both halves) to `merged`.
  void collect_into(QuantileStream& merged);
  E2eResult result();
  E2eResult result_at(int64_t now_ns);
  const std::vector<double>& percentiles() const { return percentiles_; }

  // Queries a merged stream for `percentiles`.
  static E2eResult query(QuantileStream& merged, const std::vector<double>& percentiles);

 private:
  void advance_locked(int64_t now_ns);

  const std::vector<double> percentiles_;
  const int64_t half_window_ns_;
  std::mutex mu_;
  QuantileStream streams_[2];
  int current_ = 0;
  int64_t last_move_ns_;
};

// Unix time in ns (the clock of message timestamps).
int64_t e2e_now_ns();

}  // namespace nsq::nsqd
