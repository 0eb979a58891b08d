// nsqlookupd's HTTP API (nsqlookupd/http_api.*: the reference's nsqlookupd/http.go) through its
// real router and handlers, over one Nsqlookupd built once.
// Input: up to 8 requests in the format of http_service_harness.hpp ("===" between them).
// Each input starts from the same registry: one nsqd ("fuzz-nsqd", topic "t" with channel "c")
// registered as over TCP, so /lookup, /nodes, /debug and /topic/tombstone have a producer to
// show or tombstone; everything is removed afterwards.
// Invariants: every request is answered (or refused as net/http would) with a status the
// reference's nsqlookupd uses (never 5xx); JSON answers parse, errors carry "message";
// GET /ping says OK; nothing throws.
#include <memory>
#include <set>
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "fuzz/http_service_harness.hpp"
#include "nsqlookupd/http_api.hpp"
#include "nsqlookupd/nsqlookupd.hpp"

namespace {

namespace lookupd = nsq::nsqlookupd;

// What the reference's nsqlookupd answers with: never a 5xx.
const std::set<unsigned> kStatuses = {200, 301, 307, 400, 404, 405, 413};

void register_fixture_producer(lookupd::RegistrationDB& db) {
  auto peer = std::make_shared<lookupd::PeerInfo>();
  peer->id = "127.0.0.1:40001";
  peer->remote_address = peer->id;
  peer->hostname = "fuzz-nsqd";
  peer->broadcast_address = "fuzz-nsqd";
  peer->tcp_port = 4150;
  peer->http_port = 4151;
  peer->version = "1.3.0";
  peer->last_update_ns = lookupd::unix_now_ns();
  const std::string cat_client(lookupd::kCategoryClient);
  const std::string cat_topic(lookupd::kCategoryTopic);
  const std::string cat_channel(lookupd::kCategoryChannel);
  db.add_producer({cat_client, "", ""}, peer);
  db.add_producer({cat_topic, "t", ""}, peer);
  db.add_producer({cat_channel, "t", "c"}, peer);
}

void clear(lookupd::RegistrationDB& db) {
  for (const auto& [registration, producers] : db.dump()) db.remove_registration(registration);
}

}  // namespace

NSQ_FUZZ_TARGET(nsqlookupd_http) {
  nsq::fuzz::LogLevelGuard log_level;  // first: the logger must outlive the statics below
  static lookupd::Nsqlookupd daemon{[] {
    lookupd::NsqlookupdOptions o;
    o.broadcast_address = "fuzz-lookupd";
    return o;
  }()};
  daemon.set_ports(4160, 4161);
  register_fixture_producer(daemon.db());
  lookupd::LookupHttpService api(daemon);

  for (const auto& wire : nsq::fuzz::wire_requests(nsq::fuzz::as_view(data, size), 8)) {
    const auto out = nsq::fuzz::serve_and_check(api, wire, "127.0.0.1:50000", kStatuses);
    if (!out.answered || !out.raw.empty()) continue;
    if (out.method == "GET" && out.path == "/ping") FUZZ_CHECK(out.response.body == "OK");
  }
  clear(daemon.db());
  return 0;
}
