#include "nsqlookupd/nsqlookupd.hpp"

#include "common/util/hostname.hpp"

namespace nsq::nsqlookupd {

Nsqlookupd::Nsqlookupd(NsqlookupdOptions opts)
    : opts_(std::move(opts)), hostname_(util::os_hostname()) {}

void Nsqlookupd::set_ports(uint16_t tcp_port, uint16_t http_port) {
  tcp_port_.store(tcp_port, std::memory_order_relaxed);
  http_port_.store(http_port, std::memory_order_relaxed);
}

int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace nsq::nsqlookupd
