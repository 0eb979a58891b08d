#include "nsqlookupd/options.hpp"

#include "common/util/hostname.hpp"

namespace nsq::nsqlookupd {

void register_nsqlookupd_flags(config::FlagSet& f, NsqlookupdOptions& o) {
  o.broadcast_address = util::os_hostname();

  // Same names, types, help texts and defaults as apps/nsqlookupd, so `-h` reads the same.
  daemon::register_daemon_flags(f, o);

  f.add_string("tcp-address", &o.tcp_address, "<addr>:<port> to listen on for TCP clients");
  f.add_string("http-address", &o.http_address, "<addr>:<port> to listen on for HTTP clients");
  f.add_string("broadcast-address", &o.broadcast_address,
               "address of this lookupd node, (default to the OS hostname)");

  f.add_duration("inactive-producer-timeout", &o.inactive_producer_timeout,
                 "duration of time a producer will remain in the active list since its last ping");
  f.add_duration("tombstone-lifetime", &o.tombstone_lifetime,
                 "duration of time a producer will remain tombstoned if registration remains");
}

}  // namespace nsq::nsqlookupd
