// Nsqlookupd: the daemon's shared state — options, the registration DB, and what IDENTIFY
// replies say about this lookupd (hostname, the real listening ports). It owns no sockets or
// threads; the TCP and HTTP services call into it.
//
// Owner: NsqlookupdServer. Threads: all; set_ports() runs once before serving, the DB has its
// own lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "nsqlookupd/options.hpp"
#include "nsqlookupd/registration_db.hpp"

namespace nsq::nsqlookupd {

class Nsqlookupd {
 public:
  explicit Nsqlookupd(NsqlookupdOptions opts);

  const NsqlookupdOptions& options() const { return opts_; }
  RegistrationDB& db() { return db_; }
  const RegistrationDB& db() const { return db_; }
  const std::string& hostname() const { return hostname_; }

  // The bound ports (a listen address with port 0 gets a real port), for IDENTIFY replies.
  void set_ports(uint16_t tcp_port, uint16_t http_port);
  uint16_t tcp_port() const { return tcp_port_.load(std::memory_order_relaxed); }
  uint16_t http_port() const { return http_port_.load(std::memory_order_relaxed); }

  int64_t inactive_timeout_ns() const { return opts_.inactive_producer_timeout.count(); }
  int64_t tombstone_lifetime_ns() const { return opts_.tombstone_lifetime.count(); }

 private:
  const NsqlookupdOptions opts_;
  const std::string hostname_;
  RegistrationDB db_;
  std::atomic<uint16_t> tcp_port_{0};
  std::atomic<uint16_t> http_port_{0};
};

// Wall clock in nanoseconds since the Unix epoch: last_update and tombstone times, as the
// reference keeps them (and shows them in /debug).
int64_t unix_now_ns();

}  // namespace nsq::nsqlookupd
