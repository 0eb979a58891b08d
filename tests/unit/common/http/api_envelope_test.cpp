// The reference's V1 response envelope and Go net/http response bytes.
#include <gtest/gtest.h>

#include "common/http/api.hpp"
#include "common/http/message.hpp"

namespace nsq::http {
namespace {

std::string header_of(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

TEST(V1Envelope, ErrorIsJsonMessageWithNsqHeader) {
  Response r;
  v1_error(r, 400, "INVALID_TOPIC");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.body, R"({"message":"INVALID_TOPIC"})");
  EXPECT_EQ(header_of(r, "X-Nsq-Content-Type"), "nsq; version=1.0");
  EXPECT_EQ(header_of(r, "Content-Type"), "application/json; charset=utf-8");
}

TEST(V1Envelope, TextAndEmptyHaveNoJsonContentType) {
  Response t;
  v1_text(t, "OK");
  EXPECT_EQ(t.body, "OK");
  EXPECT_EQ(header_of(t, "Content-Type"), "<absent>");
  EXPECT_EQ(header_of(t, "X-Nsq-Content-Type"), "nsq; version=1.0");
  Response e;
  v1_empty(e);
  EXPECT_EQ(e.status, 200u);
  EXPECT_TRUE(e.body.empty());
}

TEST(V1Envelope, JsonSuccessIsTheBareValue) {
  Response r;
  v1_json(r, R"({"a":1})");
  EXPECT_EQ(r.body, R"({"a":1})");  // no {"status_code":..,"data":..} wrapper since 1.0
  EXPECT_EQ(header_of(r, "Content-Type"), "application/json; charset=utf-8");
}

TEST(V1Envelope, ErrorMessageIsJsonEscapedLikeGo) {
  Response r;
  v1_error(r, 500, "a<b>\"c\"");
  EXPECT_EQ(r.body, R"({"message":"a\u003cb\u003e\"c\""})");
}

TEST(PlainText, PingHasNoNsqHeader) {
  Response r;
  plain_text(r, 500, "NOK - disk full");
  EXPECT_EQ(r.status, 500u);
  EXPECT_EQ(header_of(r, "X-Nsq-Content-Type"), "<absent>");
}

TEST(SerializeResponse, GoLayout) {
  Response r;
  v1_text(r, "OK");
  const std::string bytes = serialize_response(r, true, false);
  EXPECT_TRUE(
      bytes.starts_with("HTTP/1.1 200 OK\r\nX-Nsq-Content-Type: nsq; version=1.0\r\nDate: "));
  EXPECT_NE(
      bytes.find("\r\nContent-Length: 2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOK"),
      std::string::npos);
  Response empty;
  v1_empty(empty);
  const std::string e = serialize_response(empty, true, true);
  EXPECT_NE(e.find("Content-Length: 0\r\nConnection: close\r\n\r\n"), std::string::npos);
  EXPECT_EQ(e.find("\r\nContent-Type"), std::string::npos);
}

}  // namespace
}  // namespace nsq::http

namespace nsq::http {
namespace {

TEST(SerializeResponse, Http10StatusLineAndKeepAlive) {
  Response r;
  plain_text(r, 200, "OK");
  const std::string closing = serialize_response(r, true, true, 10);
  EXPECT_TRUE(closing.starts_with("HTTP/1.0 200 OK\r\n"));
  EXPECT_EQ(closing.find("Connection:"), std::string::npos);  // closing is 1.0's default
  const std::string kept = serialize_response(r, true, false, 10);
  EXPECT_NE(kept.find("Connection: keep-alive\r\n"), std::string::npos);
}

}  // namespace
}  // namespace nsq::http
