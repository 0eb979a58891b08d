// LoopRoundRobin: each acceptor spreads its own connections over all loops, whatever other
// acceptors of the same pool pick in between (a shared counter put nsqd's first two TCP
// connections on one loop, because the HTTP acceptor took every other turn).
#include "common/net/io_pool.hpp"

#include <gtest/gtest.h>

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

}  // namespace nsq::net
