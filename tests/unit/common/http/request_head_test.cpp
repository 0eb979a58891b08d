// accept_request_head(): the Request a parsed head becomes, and the raw answers net/http gives
// to heads it refuses before any handler runs (what Server and the HTTP fuzz targets share).
#include "common/http/request_head.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/message.hpp>

namespace nsq::http {
namespace {

namespace bhttp = boost::beast::http;

bhttp::request_header<> head(bhttp::verb method, std::string_view target, unsigned version = 11) {
  bhttp::request_header<> h;
  h.method(method);
  h.target(target);
  h.version(version);
  h.set(bhttp::field::host, "127.0.0.1");
  return h;
}

TEST(AcceptRequestHead, SplitsAndDecodesTheTarget) {
  const auto h = head(bhttp::verb::post, "/pub%2Fx?topic=a%23b&x");
  Request req;
  EXPECT_TRUE(accept_request_head(h, 5, req).empty());
  EXPECT_EQ(req.method_text, "POST");
  EXPECT_EQ(req.target, "/pub%2Fx?topic=a%23b&x");
  EXPECT_EQ(req.path, "/pub/x");
  EXPECT_EQ(req.raw_query, "topic=a%23b&x");
  EXPECT_EQ(req.content_length, 5u);
  EXPECT_EQ(req.version, 11u);
  EXPECT_EQ(req.header("host"), "127.0.0.1");
}

TEST(AcceptRequestHead, AbsoluteFormAndAsterisk) {
  Request req;
  EXPECT_TRUE(accept_request_head(head(bhttp::verb::get, "http://h:1/ping?a=1"), {}, req).empty());
  EXPECT_EQ(req.path, "/ping");
  EXPECT_EQ(req.raw_query, "a=1");
  Request star;
  EXPECT_TRUE(accept_request_head(head(bhttp::verb::options, "*"), {}, star).empty());
  EXPECT_EQ(star.path, "*");
}

TEST(AcceptRequestHead, RefusesWhatNetHttpRefuses) {
  Request req;
  EXPECT_EQ(accept_request_head(head(bhttp::verb::get, "ping"), {}, req), kRawBadRequest);
  EXPECT_EQ(accept_request_head(head(bhttp::verb::get, "/%zz"), {}, req), kRawBadRequest);
  EXPECT_EQ(accept_request_head(head(bhttp::verb::get, "http://h?x"), {}, req), kRawBadRequest);

  auto no_host = head(bhttp::verb::get, "/ping");
  no_host.erase(bhttp::field::host);
  EXPECT_TRUE(accept_request_head(no_host, {}, req)
                  .starts_with("HTTP/1.1 400 Bad Request: missing required Host header"));
  auto http10 = head(bhttp::verb::get, "/ping", 10);
  http10.erase(bhttp::field::host);
  EXPECT_TRUE(accept_request_head(http10, {}, req).empty());  // HTTP/1.0 needs no Host

  auto gzip = head(bhttp::verb::post, "/pub");
  gzip.set(bhttp::field::transfer_encoding, "gzip");
  EXPECT_TRUE(accept_request_head(gzip, {}, req).starts_with("HTTP/1.1 501 Not Implemented"));
  auto chunked = head(bhttp::verb::post, "/pub");
  chunked.set(bhttp::field::transfer_encoding, "Chunked");
  EXPECT_TRUE(accept_request_head(chunked, {}, req).empty());
}

}  // namespace
}  // namespace nsq::http
