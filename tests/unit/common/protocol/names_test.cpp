#include "nsq/protocol/names.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/gocompat/go_quote.hpp"

namespace nsq::protocol {
namespace {

TEST(Names, AcceptsTheReferenceAlphabet) {
  EXPECT_TRUE(is_valid_name("orders"));
  EXPECT_TRUE(is_valid_name("a.b_c-D9"));
  EXPECT_TRUE(is_valid_name("ch#ephemeral"));
  EXPECT_TRUE(is_valid_name(std::string(64, 'x')));
  EXPECT_TRUE(is_valid_name(std::string(54, 'x') + "#ephemeral"));
}

TEST(Names, RejectsEverythingElse) {
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_FALSE(is_valid_name(std::string(65, 'x')));
  EXPECT_FALSE(is_valid_name(std::string(55, 'x') + "#ephemeral"));
  EXPECT_FALSE(is_valid_name("#ephemeral"));
  EXPECT_FALSE(is_valid_name("a b"));
  EXPECT_FALSE(is_valid_name("a/b"));
  EXPECT_FALSE(is_valid_name("test:ephemeral"));
  EXPECT_FALSE(is_valid_name("a#ephemeral#ephemeral"));
  EXPECT_FALSE(is_valid_name("caf\xc3\xa9"));
}

TEST(Names, EphemeralSuffix) {
  EXPECT_TRUE(is_ephemeral_name("x#ephemeral"));
  EXPECT_FALSE(is_ephemeral_name("x"));
}

TEST(GoQuote, MatchesStrconvQuote) {
  EXPECT_EQ(gocompat::go_quote("abc"), "\"abc\"");
  EXPECT_EQ(gocompat::go_quote("a b"), "\"a b\"");
  EXPECT_EQ(gocompat::go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(gocompat::go_quote("\n\t\x01\x7f"), "\"\\n\\t\\x01\\x7f\"");
  EXPECT_EQ(gocompat::go_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(gocompat::go_quote("\xff"), "\"\\xff\"");
  EXPECT_EQ(gocompat::go_quote("\xc2\x80"), "\"\\u0080\"");
}

}  // namespace
}  // namespace nsq::protocol
