// LoopRoundRobin: each acceptor spreads its own connections over all loops, whatever other
// acceptors of the same pool pick in between (a shared counter put nsqd's first two TCP
// connections on one loop, because the HTTP acceptor took every other turn).
#include "common/net/io_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <thread>

namespace nsq::net {

TEST(LoopRoundRobin, EachAcceptorAlternatesLoopsOnItsOwn) {
  IoPool pool(2);
  LoopRoundRobin tcp(pool);
  LoopRoundRobin http(pool);
  // Both acceptors arm at start-up, then each re-arms after each of its connections.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(&tcp.next(), &pool.at(i % 2)) << "tcp connection " << i;
    EXPECT_EQ(&http.next(), &pool.at(i % 2)) << "http connection " << i;
  }
  EXPECT_EQ(&tcp.next(), &pool.at(0));
  EXPECT_EQ(&tcp.next(), &pool.at(1));
}

TEST(LoopRoundRobin, ASingleLoopPoolAlwaysGivesThatLoop) {
  IoPool pool(1);
  LoopRoundRobin rr(pool);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(&rr.next(), &pool.at(0));
}

// A loop that polls before blocking still runs every handler, posted from outside or from
// its own handlers, whether it is polling or blocked, and stop() ends it while it polls.
TEST(IoPool, ALoopThatPollsWhenIdleRunsEveryHandlerAndStops) {
  IoPool pool(2, 50'000'000);  // a 50 ms window: the loops are polling most of this test
  pool.start();
  std::atomic<int> ran{0};
  for (int round = 0; round < 200; ++round) {
    auto& ctx = pool.at(round % 2);
    boost::asio::post(ctx, [&ran, &ctx] {
      ++ran;
      boost::asio::post(ctx, [&ran] { ++ran; });
    });
    if (round % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ran.load() < 400 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(ran.load(), 400);
  const auto before = std::chrono::steady_clock::now();
  pool.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(1));
}

}  // namespace nsq::net
