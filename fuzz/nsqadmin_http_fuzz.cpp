// nsqadmin's HTTP surface (nsqadmin/admin_service.*: the reference's nsqadmin/http.go — /api,
// /config, /ping, the UI pages and assets) through its real router, worker pool and handlers.
// No call leaves the process: each request goes to three services built once,
//   * `by_lookupd`: -lookupd-http-address and -graphite-url name a loopback port that is bound
//     but never listens, so every upstream call is refused at once (the 502 UPSTREAM_ERROR and
//     partial-result paths); -admin-user is set, so actions need X-Forwarded-User: admin;
//   * `by_nsqd`: -nsqd-http-address names the same refused port;
//   * `alone`: no nsqd and no nsqlookupd (empty answers, no upstream call at all).
// Input: one request in the format of http_service_harness.hpp (one only: a PUT to
// /config/nsqlookupd_http_addresses could otherwise point the next request at a real address);
// after a PUT the lookupd list and log level are put back through the same API.
// Invariants: every request is answered (or refused as net/http would) with a status the
// reference's nsqadmin uses, 500 only from /api/graphite (a failed graphite query; otherwise it
// would mean a handler threw); JSON answers parse, errors carry "message"; nothing throws.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.hpp"
#include "fuzz/http_service_harness.hpp"
#include "nsqadmin/admin_service.hpp"

namespace {

namespace admin = nsq::nsqadmin;

// A TCP port on 127.0.0.1 that refuses connections for as long as the process lives: bound
// (so nothing else can take it) and never listening.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    }
  }
  ~RefusingPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

// One service and how to undo what PUT /config changes.
struct Admin {
  std::unique_ptr<admin::AdminService> service;
  std::string restore_lookupd;  // PUT /config/nsqlookupd_http_addresses with the original list
  std::string restore_level;    // PUT /config/log_level with the original level

  explicit Admin(const admin::AdminOptions& o)
      : service(std::make_unique<admin::AdminService>(o, nullptr)),
        restore_lookupd("PUT /config/nsqlookupd_http_addresses\n\n" +
                        nlohmann::json(o.lookupd_http_addresses).dump()),
        restore_level("PUT /config/log_level\n\n" + o.log_level) {}

  void restore() const {
    for (const auto& input : {restore_lookupd, restore_level}) {
      const auto out =
          nsq::fuzz::serve_wire(*service, nsq::fuzz::wire_requests(input, 1)[0], kRemote);
      FUZZ_CHECK(out.answered && out.response.status == 200);
    }
  }

  static constexpr const char* kRemote = "127.0.0.1:50000";
};

struct FuzzAdmins {
  RefusingPort refused;
  std::vector<Admin> admins;

  FuzzAdmins() {
    if (refused.address().empty()) return;
    admin::AdminOptions base;
    base.http_client_connect_timeout = std::chrono::milliseconds(200);
    base.http_client_request_timeout = std::chrono::milliseconds(500);
    admins.reserve(3);
    admin::AdminOptions o = base;  // by lookupd, with admin users
    o.lookupd_http_addresses = {refused.address()};
    o.graphite_url = "http://" + refused.address();
    o.admin_users = {"admin"};
    admins.emplace_back(o);
    o = base;  // by nsqd
    o.nsqd_http_addresses = {refused.address()};
    admins.emplace_back(o);
    admins.emplace_back(base);  // alone
  }
};

// What the reference's nsqadmin answers with.
const std::set<unsigned> kStatuses = {200, 301, 307, 400, 403, 404, 405, 413, 500, 502};

void check(const nsq::fuzz::HttpOutcome& out) {
  if (!out.answered || !out.raw.empty()) return;
  FUZZ_CHECK(out.response.status != 500 || out.path == "/api/graphite");
  if (out.method == "GET" && out.path == "/ping") FUZZ_CHECK(out.response.body == "OK");
}

}  // namespace

NSQ_FUZZ_TARGET(nsqadmin_http) {
  // The logger first: statics are destroyed in reverse order, and the services log to the end.
  nsq::fuzz::LogLevelGuard log_level;
  static const FuzzAdmins fixture;
  if (fixture.admins.empty()) return 0;
  const auto wires = nsq::fuzz::wire_requests(nsq::fuzz::as_view(data, size), 1);
  if (wires.empty()) return 0;
  for (const auto& a : fixture.admins) {
    const auto out = nsq::fuzz::serve_and_check(*a.service, wires[0], Admin::kRemote, kStatuses);
    check(out);
    if (out.method == "PUT") a.restore();
  }
  return 0;
}
