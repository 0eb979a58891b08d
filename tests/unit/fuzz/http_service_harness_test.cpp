// The harness of the HTTP fuzz targets (fuzz/http_service_harness.hpp): its input format, and
// that it takes a request through a Service the way http::Server does (body limit before the
// body, 413 by the service, raw 400 for a bad chunk unless the route answers it, nothing for a
// head the client never finished).
#include "fuzz/http_service_harness.hpp"

#include <gtest/gtest.h>

#include "common/http/api.hpp"

namespace nsq::fuzz {
namespace {

class EchoService : public http::RoutedService {
 public:
  EchoService() : http::RoutedService(8) {
    add("POST", "/echo", [](http::Request& req, http::Response& resp) {
      http::v1_text(resp, req.body_incomplete ? "incomplete:" + req.body : req.body);
    });
    http::RouteOptions lenient;
    lenient.incomplete_body = true;
    add(
        "POST", "/lenient",
        [](http::Request& req, http::Response& resp) {
          http::v1_text(resp, req.body_incomplete ? "incomplete" : "complete");
        },
        lenient);
  }
};

HttpOutcome serve(std::string_view input) {
  static EchoService service;
  const auto wires = wire_requests(input, 1);
  EXPECT_EQ(wires.size(), 1u);
  return serve_wire(service, wires.at(0), "127.0.0.1:1");
}

TEST(HttpServiceHarness, WritesTheWireRequest) {
  const auto wires = wire_requests("POST /echo\nX-A: 1\n\nbody\n===\nGET /x HTTP/1.0\n===\n", 8);
  ASSERT_EQ(wires.size(), 2u);
  // The separator's line end is not the body's.
  EXPECT_EQ(wires[0],
            "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nX-A: 1\r\n\r\nbody");
  EXPECT_EQ(wires[1], "GET /x HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(wire_requests("a\n===\nb\n===\nc", 2).size(), 2u);
}

TEST(HttpServiceHarness, ServesThroughTheRouter) {
  auto ok = serve("POST /echo\n\nhi");
  EXPECT_TRUE(ok.answered);
  EXPECT_TRUE(ok.raw.empty());
  EXPECT_EQ(ok.response.status, 200u);
  EXPECT_EQ(ok.response.body, "hi");
  check_outcome(ok, {200});

  EXPECT_EQ(serve("GET /echo").response.status, 405u);
  EXPECT_EQ(serve("GET /nope").response.status, 404u);
  EXPECT_EQ(serve("POST /echo/\n\nhi").response.status, 307u);
}

TEST(HttpServiceHarness, LimitsTheBodyBeforeReadingIt) {
  EXPECT_EQ(serve("POST /echo\n\n123456789").response.status, 413u);
  EXPECT_EQ(serve("POST /echo\nTransfer-Encoding: chunked\n\n9\r\n123456789\r\n0\r\n\r\n")
                .response.status,
            413u);
  EXPECT_EQ(serve("POST /echo\nTransfer-Encoding: chunked\n\n2\r\nab\r\n0\r\n\r\n").response.body,
            "ab");
}

TEST(HttpServiceHarness, MalformedBodiesAndHeads) {
  // A bad chunk: net/http's raw 400, unless the route answers a failed read itself.
  EXPECT_EQ(serve("POST /echo\nTransfer-Encoding: chunked\n\nzz\r\n").raw, http::kRawBadRequest);
  EXPECT_EQ(serve("POST /lenient\nTransfer-Encoding: chunked\n\nzz\r\n").response.body,
            "incomplete");
  // The client closed before sending the declared body.
  EXPECT_EQ(serve("POST /lenient\nContent-Length: 5\n\nab").response.body, "incomplete");
  EXPECT_EQ(serve("POST /echo\nContent-Length: 5\n\nab").raw, http::kRawBadRequest);
  // Heads Beast or net/http refuse.
  EXPECT_EQ(serve("GET ping").raw, http::kRawBadRequest);
  EXPECT_TRUE(serve("POST /echo\nTransfer-Encoding: gzip\n\nx").raw.starts_with("HTTP/1.1 501"));
  EXPECT_EQ(serve("\x01 V2").raw, http::kRawBadRequest);
}

}  // namespace
}  // namespace nsq::fuzz
