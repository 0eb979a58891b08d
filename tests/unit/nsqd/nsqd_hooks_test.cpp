// Hooks the HTTP API drives: PUT /config/nsqlookupd_tcp_addresses and (un)pause persistence.
#include <gtest/gtest.h>

#include "nsqd/nsqd.hpp"
#include "support/temp_dir.hpp"

namespace nsq::nsqd {
namespace {

TEST(NsqdHooks, LookupdAddressesStartFromOptionsAndNotifyObservers) {
  test_support::TempDir data;
  NsqdOptions opts;
  opts.data_path = data.path();
  opts.lookupd_tcp_addresses = {"127.0.0.1:4160"};
  Nsqd nsqd(opts);
  EXPECT_EQ(nsqd.lookupd_addresses(), opts.lookupd_tcp_addresses);
  std::vector<std::vector<std::string>> seen;
  nsqd.add_lookupd_addresses_observer([&](std::vector<std::string> a) { seen.push_back(a); });
  nsqd.set_lookupd_addresses({"a:1", "b:2"});
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(nsqd.lookupd_addresses(), seen[0]);
}

TEST(NsqdHooks, PauseObservers) {
  test_support::TempDir data;
  NsqdOptions opts;
  opts.data_path = data.path();
  Nsqd nsqd(opts);
  std::vector<std::pair<std::string, std::string>> seen;
  nsqd.add_pause_observer(
      [&](const std::string& t, const std::string& c) { seen.emplace_back(t, c); });
  nsqd.notify_paused("t", "");
  nsqd.notify_paused("t", "c");
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"t", ""}, {"t", "c"}}));
}

}  // namespace
}  // namespace nsq::nsqd
