// InFlightQueue: lookups by id, ownership errors, expiry in deadline order across lanes and
// the irregular heap, and bounded memory under FIN churn.
#include "nsqd/queue/in_flight_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nsq/protocol/wire.hpp"

namespace nsq::nsqd {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

MessagePtr msg(uint64_t n) {
  return Message::create(protocol::message_id_from_guid(n), 0, "x");
}

std::vector<std::string> expire(InFlightQueue& q, int64_t now) {
  std::vector<std::string> ids;
  q.pop_expired(now, [&](InFlightQueue::Entry&& e) {
    const auto& m = e.msg->id();
    ids.emplace_back(m.begin(), m.end());
  });
  return ids;
}

std::string id(uint64_t n) {
  const auto m = protocol::message_id_from_guid(n);
  return {m.begin(), m.end()};
}

TEST(InFlightQueue, TakeChecksIdAndOwner) {
  InFlightQueue q;
  ASSERT_TRUE(q.insert(msg(1), 1, /*consumer=*/7, 0, kSecond));
  EXPECT_FALSE(q.insert(msg(1), 1, 7, 0, kSecond)) << "same id twice";
  InFlightQueue::Entry out;
  EXPECT_EQ(q.take(protocol::message_id_from_guid(2), 7, out), "ID not in flight");
  EXPECT_EQ(q.take(protocol::message_id_from_guid(1), 8, out), "client does not own message");
  EXPECT_EQ(q.take(protocol::message_id_from_guid(1), 7, out), std::nullopt);
  EXPECT_EQ(out.attempts, 1);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.take(protocol::message_id_from_guid(1), 7, out), "ID not in flight");
}

TEST(InFlightQueue, NonHexIdsAreComparedInFull) {
  InFlightQueue q;
  const auto odd = protocol::message_id_from_bytes("ABCDEFGHIJKLMNOP");
  ASSERT_TRUE(q.insert(Message::create(odd, 0, "x"), 1, 1, 0, kSecond));
  InFlightQueue::Entry out;
  EXPECT_EQ(q.take(protocol::message_id_from_bytes("ABCDEFGHIJKLMNOQ"), 1, out),
            "ID not in flight");
  EXPECT_EQ(q.take(odd, 1, out), std::nullopt);
}

// A foreign id's hashed key can equal a hex id's decoded value: the two must not be taken
// for each other (the shortcut that skips the byte compare needs both keys exact).
TEST(InFlightQueue, HashedForeignIdNeverMatchesAHexIdWithTheSameKey) {
  const auto odd = protocol::message_id_from_bytes("ABCDEFGHIJKLMNOP");
  uint64_t fnv = 1469598103934665603ULL;  // the same FNV-1a as the queue's fallback
  for (char b : odd) fnv = (fnv ^ static_cast<unsigned char>(b)) * 1099511628211ULL;
  const auto twin = protocol::message_id_from_guid(fnv);  // decodes to that same key

  InFlightQueue q;
  ASSERT_TRUE(q.insert(Message::create(odd, 0, "odd"), 1, 1, 0, kSecond));
  InFlightQueue::Entry out;
  EXPECT_EQ(q.take(twin, 1, out), "ID not in flight");
  EXPECT_FALSE(q.insert(Message::create(twin, 0, "twin"), 1, 1, 0, kSecond))
      << "one key, two ids: refused as a duplicate, never confused";
  EXPECT_EQ(q.take(odd, 1, out), std::nullopt);
  EXPECT_EQ(out.msg->body(), "odd");

  ASSERT_TRUE(q.insert(Message::create(twin, 0, "twin"), 1, 1, 0, kSecond));
  EXPECT_EQ(q.take(odd, 1, out), "ID not in flight");
  EXPECT_EQ(q.take(twin, 1, out), std::nullopt);
  EXPECT_EQ(out.msg->body(), "twin");
}

TEST(InFlightQueue, ExpiresInDeadlineOrderAcrossTimeouts) {
  InFlightQueue q;
  q.insert(msg(1), 1, 1, 0, 10 * kSecond);           // due 10
  q.insert(msg(2), 1, 1, 1 * kSecond, kSecond);      // due 2
  q.insert(msg(3), 1, 1, 2 * kSecond, kSecond);      // due 3
  q.insert(msg(4), 1, 1, 3 * kSecond, 5 * kSecond);  // due 8
  EXPECT_TRUE(expire(q, 2 * kSecond - 1).empty());
  EXPECT_EQ(expire(q, 3 * kSecond), (std::vector<std::string>{id(2), id(3)}));
  EXPECT_EQ(expire(q, 9 * kSecond), (std::vector<std::string>{id(4)}));
  EXPECT_EQ(expire(q, 10 * kSecond), (std::vector<std::string>{id(1)}));
  EXPECT_EQ(q.size(), 0u);
}

TEST(InFlightQueue, FinishedAndTouchedEntriesDoNotExpireAtTheirOldDeadline) {
  InFlightQueue q;
  q.insert(msg(1), 1, 1, 0, kSecond);
  q.insert(msg(2), 1, 1, 0, kSecond);
  InFlightQueue::Entry out;
  ASSERT_EQ(q.take(protocol::message_id_from_guid(1), 1, out), std::nullopt);
  ASSERT_EQ(q.touch(protocol::message_id_from_guid(2), 1, kSecond / 2, kSecond, 100 * kSecond),
            std::nullopt);
  EXPECT_TRUE(expire(q, kSecond).empty());
  EXPECT_EQ(expire(q, kSecond + kSecond / 2), (std::vector<std::string>{id(2)}));
}

TEST(InFlightQueue, TouchIsCappedAtDeliveryPlusMax) {
  InFlightQueue q;
  q.insert(msg(1), 1, 1, 0, kSecond);
  q.insert(msg(2), 1, 1, kSecond / 2, kSecond);  // lane back is now 1.5 s
  // Touch at 0.9 s asks for 1.9 s but the cap is delivery + 1.2 s: out of lane order.
  ASSERT_EQ(
      q.touch(protocol::message_id_from_guid(1), 1, 9 * kSecond / 10, kSecond, 12 * kSecond / 10),
      std::nullopt);
  EXPECT_TRUE(expire(q, 12 * kSecond / 10 - 1).empty());
  EXPECT_EQ(expire(q, 12 * kSecond / 10), (std::vector<std::string>{id(1)}));
  EXPECT_EQ(expire(q, 15 * kSecond / 10), (std::vector<std::string>{id(2)}));
}

TEST(InFlightQueue, ChurnBehindAStuckMessageStaysBounded) {
  // One message never answered at the front; a million later ones FIN'd. The queue must
  // still hold exactly one live entry and expire it on time.
  InFlightQueue q;
  q.insert(msg(0), 1, 1, 0, 60 * kSecond);
  InFlightQueue::Entry out;
  for (uint64_t n = 1; n <= 1'000'000; ++n) {
    ASSERT_TRUE(q.insert(msg(n), 1, 1, static_cast<int64_t>(n), 60 * kSecond));
    ASSERT_EQ(q.take(protocol::message_id_from_guid(n), 1, out), std::nullopt);
  }
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(expire(q, 60 * kSecond), (std::vector<std::string>{id(0)}));
  EXPECT_TRUE(expire(q, 120 * kSecond).empty());
}

}  // namespace
}  // namespace nsq::nsqd
