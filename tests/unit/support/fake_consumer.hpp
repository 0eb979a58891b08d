// A Consumer for queue tests without sockets: takes up to `rdy` messages in flight and keeps
// every delivered message in `got`, in delivery order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nsqd/queue/consumer.hpp"

namespace nsq::test_support {

class FakeConsumer : public nsqd::Consumer {
 public:
  FakeConsumer(int64_t id, int64_t initial_rdy) : id_(id), rdy(initial_rdy) {}
  int64_t consumer_id() const override { return id_; }
  bool ready_for_message() const override { return rdy > 0 && in_flight < rdy; }
  int64_t msg_timeout_ns() const override { return 60LL * 1000 * 1000 * 1000; }
  int32_t sample_rate() const override { return 0; }
  void deliver(const nsqd::MessagePtr& msg, uint16_t) override {
    ++in_flight;
    got.push_back(msg);
  }
  void message_done(Outcome) override { --in_flight; }
  void in_flight_reset() override { in_flight = 0; }

  std::vector<std::string> bodies() const {
    std::vector<std::string> out;
    for (const auto& m : got) out.emplace_back(m->body());
    return out;
  }

  const int64_t id_;
  int64_t rdy;
  int64_t in_flight = 0;
  std::vector<nsqd::MessagePtr> got;
};

}  // namespace nsq::test_support
