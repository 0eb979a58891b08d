// nsqd's HTTP API (nsqd/http/http_api.*: every route of the reference's nsqd/http.go) through
// its real router and handlers, over one Nsqd built once with a scratch data directory.
// Input: up to 8 requests in the format of http_service_harness.hpp ("===" between them), so
// that a run can create, publish, pause, read /stats and delete in one go.
// Invariants: every request is answered (or refused as net/http would); the status is one the
// reference's nsqd uses, 500 only for a body that failed to read and never 503 (nothing is
// exiting); JSON answers parse, errors carry "message"; GET /ping says OK; nothing throws.
// Each input starts from the same state: the API object is rebuilt and every topic is deleted
// afterwards (creation is cheap, memory queues only, small -max-msg-size / -max-body-size so
// that the 413 paths are in reach of short inputs).
#include <memory>
#include <set>
#include <string>

#include "fuzz/fuzz_target.hpp"
#include "fuzz/http_service_harness.hpp"
#include "fuzz/scratch_dir.hpp"
#include "nsqd/http/http_api.hpp"
#include "nsqd/nsqd.hpp"
#include "nsqd/stats/stats.hpp"

namespace {

// What the reference's nsqd answers with, -tls-required (403) not being set.
const std::set<unsigned> kStatuses = {200, 301, 307, 400, 404, 405, 413, 500};

struct FuzzNsqd {
  nsq::fuzz::ScratchDir data{"nsq-nsqd-http-fuzz-"};
  std::unique_ptr<nsq::nsqd::Nsqd> nsqd;
  std::unique_ptr<nsq::nsqd::StatsCollector> stats;

  FuzzNsqd() {
    nsq::nsqd::NsqdOptions o;
    o.data_path = data.path();
    o.node_id = 1;
    o.broadcast_address = "fuzz-host";
    o.max_msg_size = 64;
    o.max_body_size = 512;
    nsqd = std::make_unique<nsq::nsqd::Nsqd>(o);
    // No TCP server: /stats lists no clients.
    stats = std::make_unique<nsq::nsqd::StatsCollector>(
        *nsqd, [] { return std::vector<nsq::nsqd::ClientStats>{}; });
  }
  ~FuzzNsqd() {
    stats.reset();
    nsqd.reset();  // before the data directory goes
  }

  void reset() {
    for (const auto& topic : nsqd->topics()) nsqd->delete_topic(topic->name());
    nsqd->set_lookupd_addresses({});
  }
};

}  // namespace

NSQ_FUZZ_TARGET(nsqd_http) {
  // The logger first: statics are destroyed in reverse order, and Nsqd logs while it closes.
  nsq::fuzz::LogLevelGuard log_level;
  static FuzzNsqd fixture;
  if (fixture.data.path().empty()) return 0;
  nsq::nsqd::NsqdHttpApi api(*fixture.nsqd, *fixture.stats);
  api.set_ports(4150, 4151, 0);

  for (const auto& wire : nsq::fuzz::wire_requests(nsq::fuzz::as_view(data, size), 8)) {
    const auto out = nsq::fuzz::serve_and_check(api, wire, "127.0.0.1:50000", kStatuses);
    if (!out.answered || !out.raw.empty()) continue;
    FUZZ_CHECK(out.response.status != 500 || out.body_incomplete);
    if (out.method == "GET" && out.path == "/ping") FUZZ_CHECK(out.response.body == "OK");
  }
  fixture.reset();
  return 0;
}
