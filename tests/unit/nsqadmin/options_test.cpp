// nsqadmin options: base-path normalisation, CIDR checks, start-up validation messages, and the
// response compression helper.
#include <gtest/gtest.h>

#include "nsqadmin/compress.hpp"
#include "nsqadmin/options.hpp"

namespace nsq::nsqadmin {
namespace {

TEST(AdminOptions, NormalizeBasePath) {
  EXPECT_EQ(normalize_base_path(""), "/");
  EXPECT_EQ(normalize_base_path("/"), "/");
  EXPECT_EQ(normalize_base_path("admin"), "/admin");
  EXPECT_EQ(normalize_base_path("/a//b/../c/"), "/a/c");
}

TEST(AdminOptions, Cidr) {
  Cidr c;
  ASSERT_TRUE(parse_cidr("127.0.0.1/8", c));
  EXPECT_TRUE(c.contains("127.9.9.9"));
  EXPECT_FALSE(c.contains("10.0.0.1"));
  EXPECT_TRUE(c.contains("::ffff:127.0.0.2"));
  EXPECT_FALSE(parse_cidr("bad", c));
  EXPECT_FALSE(parse_cidr("1.2.3.4/33", c));
  ASSERT_TRUE(parse_cidr("::1/128", c));
  EXPECT_TRUE(c.contains("::1"));
}

TEST(AdminOptions, ValidateLikeTheReference) {
  AdminOptions o;
  EXPECT_EQ(validate_admin_options(o), "--nsqd-http-address or --lookupd-http-address required");
  o.nsqd_http_addresses = {"127.0.0.1:4151"};
  o.lookupd_http_addresses = {"127.0.0.1:4161"};
  EXPECT_EQ(validate_admin_options(o),
            "use --nsqd-http-address or --lookupd-http-address not both");
  o.lookupd_http_addresses.clear();
  EXPECT_EQ(validate_admin_options(o), "");
  o.http_client_tls_cert = "x";
  EXPECT_EQ(validate_admin_options(o),
            "--http-client-tls-key must be specified with --http-client-tls-cert");
}

TEST(Compress, FirstListedEncodingWins) {
  EXPECT_EQ(pick_encoding("gzip, deflate"), "gzip");
  EXPECT_EQ(pick_encoding("br, deflate, gzip"), "deflate");
  EXPECT_EQ(pick_encoding("gzip;q=1.0"), "");  // exact tokens only, like the reference
  EXPECT_EQ(pick_encoding(""), "");
  http::Response r;
  r.body = std::string(10000, 'a');
  maybe_compress("gzip", r);
  EXPECT_TRUE(r.has_header("Content-Encoding"));
  EXPECT_LT(r.body.size(), 200u);
  EXPECT_EQ(static_cast<unsigned char>(r.body[0]), 0x1f);  // gzip magic
}

}  // namespace
}  // namespace nsq::nsqadmin
