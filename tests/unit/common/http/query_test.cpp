// url.ParseQuery semantics the nsqd/nsqlookupd HTTP APIs depend on.
#include "common/http/query.hpp"

#include <gtest/gtest.h>

namespace nsq::http {
namespace {

TEST(ParseQuery, FirstValueOfRepeatedKeyAndPlusAsSpace) {
  auto q = parse_query("topic=a+b&topic=c&channel=%41x");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->get("topic"), "a b");
  ASSERT_NE(q->all("topic"), nullptr);
  EXPECT_EQ(q->all("topic")->size(), 2u);
  EXPECT_EQ(q->get("channel"), "Ax");
}

TEST(ParseQuery, PresentButEmptyDiffersFromAbsent) {
  auto q = parse_query("topic=&defer");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->has("topic"));
  EXPECT_EQ(q->get("topic"), "");
  EXPECT_EQ(q->get("defer"), "");
  EXPECT_FALSE(q->get("channel"));
}

TEST(ParseQuery, EmptyPairsAreSkipped) {
  auto q = parse_query("&&topic=t&");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->values().size(), 1u);
}

TEST(ParseQuery, BadEscapeFailsWithGoMessage) {
  const auto zz = parse_query("topic=%zz");
  ASSERT_FALSE(zz.ok());
  EXPECT_EQ(zz.error(), "invalid URL escape \"%zz\"");
  const auto short_escape = parse_query("topic=abc%4");
  ASSERT_FALSE(short_escape.ok());
  EXPECT_EQ(short_escape.error(), "invalid URL escape \"%4\"");
  // Go scans the whole query and reports the first problem.
  const auto two = parse_query("a=%zz&b=%yy");
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error(), "invalid URL escape \"%zz\"");
}

TEST(ParseQuery, SemicolonFails) {
  const auto q = parse_query("topic=a;b");
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.error(), "invalid semicolon separator in query");
  // As Go's parseQuery: a ';' replaces an earlier escape error, an escape error never
  // replaces an earlier one.
  const auto after_escape = parse_query("a=%zz&b=c;d");
  ASSERT_FALSE(after_escape.ok());
  EXPECT_EQ(after_escape.error(), "invalid semicolon separator in query");
  const auto before_escape = parse_query("b=c;d&a=%zz");
  ASSERT_FALSE(before_escape.ok());
  EXPECT_EQ(before_escape.error(), "invalid semicolon separator in query");
}

TEST(QueryEscape, RoundTrip) {
  const std::string raw = "a b/c?d=e&f#g%";
  std::string out;
  ASSERT_TRUE(query_unescape(query_escape(raw), out));
  EXPECT_EQ(out, raw);
  EXPECT_EQ(query_escape("a b"), "a+b");
}

}  // namespace
}  // namespace nsq::http
