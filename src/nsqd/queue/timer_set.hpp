// TimerSet<T>: the channels (or topics) that have something for the timer loop to do, so it
// visits those and not every one. ChannelTimerSet: channels with a deadline to watch (in-flight
// or deferred messages, a disk refill to retry). TopicRetrySet: topics whose disk pump found
// nothing to read although the queue is not empty. With 10,000 topics x 2 channels, visiting
// each on every 100 ms tick cost ~11% of a core while idle (docs/benchmarks.md, "Many
// topics"); now an idle channel or topic costs the timer loop nothing.
//
// An object lists itself when it gains such work and is not listed yet; the timer loop takes
// the set, runs each one, and puts back those that still have work. Whether an object is
// listed is its own flag, read and written under its own lock, so it is in the set at most once.
//
// Threads: add() from any thread, under the object's lock (lock order: object, then this set;
// the set never calls into an object). take()/put_back() from the timer loop only.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

namespace nsq::nsqd {

class Channel;
class Topic;

template <typename T>
class TimerSet {
 public:
  void add(std::shared_ptr<T> object) {
    std::lock_guard lock(mu_);
    listed_.push_back(std::move(object));
  }

  // Empties the set into `out` (which it clears first).
  void take(std::vector<std::shared_ptr<T>>& out) {
    out.clear();
    std::lock_guard lock(mu_);
    out.swap(listed_);
  }

  // Lists again the channels of a take() that still have work.
  void put_back(std::vector<std::shared_ptr<T>>& still_listed) {
    if (still_listed.empty()) return;
    std::lock_guard lock(mu_);
    for (auto& c : still_listed) listed_.push_back(std::move(c));
    still_listed.clear();
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return listed_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<T>> listed_;
};

using ChannelTimerSet = TimerSet<Channel>;
using TopicRetrySet = TimerSet<Topic>;

}  // namespace nsq::nsqd
