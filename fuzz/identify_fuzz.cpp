// An IDENTIFY body as a client sends it: decoded like Go's json.Unmarshal, then validated and
// negotiated by nsqd. Input: [server feature flags][JSON body...].
#include <nlohmann/json.hpp>

#include "common/gocompat/go_json.hpp"
#include "fuzz/fuzz_target.hpp"
#include "nsq/protocol/identify.hpp"
#include "nsqd/tcp/identify_negotiation.hpp"

namespace {

using nsq::protocol::IdentifyRequest;

nlohmann::json encode(const IdentifyRequest& r) {
  return {{"client_id", r.client_id},
          {"hostname", r.hostname},
          {"user_agent", r.user_agent},
          {"feature_negotiation", r.feature_negotiation},
          {"heartbeat_interval", r.heartbeat_interval},
          {"output_buffer_size", r.output_buffer_size},
          {"output_buffer_timeout", r.output_buffer_timeout},
          {"tls_v1", r.tls_v1},
          {"deflate", r.deflate},
          {"deflate_level", r.deflate_level},
          {"snappy", r.snappy},
          {"sample_rate", r.sample_rate},
          {"msg_timeout", r.msg_timeout}};
}

bool same(const IdentifyRequest& a, const IdentifyRequest& b) {
  return encode(a) == encode(b);
}

}  // namespace

NSQ_FUZZ_TARGET(identify) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  const std::string_view body = nsq::fuzz::as_view(data + 1, size - 1);
  const auto req = nsq::protocol::decode_identify(body);
  if (!req) return 0;
  // Whatever the decoder accepts is JSON by Go's rules too.
  FUZZ_CHECK(nsq::gocompat::go_json_syntax_error(body).empty());
  const auto again = nsq::protocol::decode_identify(encode(*req).dump());
  FUZZ_CHECK(again && same(*again, *req));

  const nsq::nsqd::NsqdOptions opts;
  auto settings = nsq::nsqd::ClientSettings::defaults(opts);
  if (nsq::nsqd::apply_identify(*req, opts, settings)) return 0;
  FUZZ_CHECK(settings.heartbeat_interval_ns >= 0);
  FUZZ_CHECK(settings.output_buffer_size >= 0 &&
             settings.output_buffer_size <= opts.max_output_buffer_size);
  FUZZ_CHECK(settings.sample_rate >= 0 && settings.sample_rate <= 99);
  const nsq::nsqd::ServerFeatures server{(flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0,
                                         (flags & 8) != 0};
  const auto features = nsq::nsqd::negotiate_features(*req, opts, server);
  FUZZ_CHECK(!features.tls || server.tls);
  FUZZ_CHECK(!features.snappy || server.snappy);
  FUZZ_CHECK(!features.deflate || server.deflate);
  FUZZ_CHECK(!features.deflate ||
             (features.deflate_level >= 1 && features.deflate_level <= opts.max_deflate_level));
  const std::string reply = nsq::nsqd::identify_reply_json(opts, settings, features, server.auth);
  FUZZ_CHECK(nsq::gocompat::go_json_syntax_error(reply).empty());
  return 0;
}
