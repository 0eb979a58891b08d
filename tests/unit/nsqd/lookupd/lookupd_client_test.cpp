// LookupdClient against an in-process fake nsqlookupd: IDENTIFY content, the registration
// snapshot on connect, registry events as REGISTER/UNREGISTER, set_addresses() switching
// peers at run time, and reconnection after the lookupd drops the connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "nsq/protocol/wire.hpp"
#include "nsqd/lookupd/lookupd_client.hpp"
#include "nsqd/nsqd.hpp"
#include "support/temp_dir.hpp"

namespace nsq::nsqd {
namespace {

// Nsqd writes nsqd.dat and disk queues under -data-path: keep them out of the cwd.
NsqdOptions options_in(const test_support::TempDir& dir) {
  NsqdOptions opts;
  opts.data_path = dir.path();
  return opts;
}

// A listening socket that accepts one nsqd at a time and answers its V1 commands.
class FakeLookupd {
 public:
  FakeLookupd() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(listen_fd_, 4);
    socklen_t len = sizeof(a);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    address_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  }
  ~FakeLookupd() {
    drop();
    ::close(listen_fd_);
  }
  const std::string& address() const { return address_; }

  bool accept(int timeout_ms = 5000) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return false;
    conn_ = ::accept(listen_fd_, nullptr, nullptr);
    buf_.clear();
    return conn_ >= 0 && read_exact(4) == "  V1";
  }
  void drop() {
    if (conn_ >= 0) ::close(conn_);
    conn_ = -1;
  }

  // The next command line; for IDENTIFY `body` gets the JSON. "" on timeout/EOF.
  std::string next(std::string* body = nullptr) {
    size_t nl;
    while ((nl = buf_.find('\n')) == std::string::npos) {
      if (!fill()) return "";
    }
    std::string line = buf_.substr(0, nl);
    buf_.erase(0, nl + 1);
    if (line == "IDENTIFY") {
      const std::string size = read_exact(4);
      if (size.size() != 4) return "";
      const std::string b = read_exact(protocol::read_be32(size.data()));
      if (body) *body = b;
      reply(
          R"({"broadcast_address":"lk","hostname":"lk","http_port":4161,"tcp_port":4160,"version":"1.3.0"})");
    } else {
      reply("OK");
    }
    return line;
  }

 private:
  bool fill() {
    pollfd p{conn_, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return false;
    char tmp[4096];
    const ssize_t n = ::recv(conn_, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  std::string read_exact(size_t n) {
    while (buf_.size() < n) {
      if (!fill()) return "";
    }
    std::string out = buf_.substr(0, n);
    buf_.erase(0, n);
    return out;
  }
  void reply(const std::string& data) {
    std::string out;
    protocol::append_be32(out, static_cast<uint32_t>(data.size()));
    out += data;
    ::send(conn_, out.data(), out.size(), MSG_NOSIGNAL);
  }

  int listen_fd_ = -1;
  int conn_ = -1;
  std::string address_;
  std::string buf_;
};

LookupdIdentity identity() {
  LookupdIdentity id;
  id.broadcast_address = "node1";
  id.hostname = "host1";
  id.tcp_port = 4150;
  id.http_port = 4151;
  return id;
}

// A started client of `nsqd`'s registry, connecting to `addresses`.
std::shared_ptr<LookupdClient> start_client(Nsqd& nsqd, std::vector<std::string> addresses) {
  auto client = std::make_shared<LookupdClient>(nsqd, std::move(addresses), 1 << 20);
  client->observe(nsqd);
  client->start(identity());
  return client;
}

TEST(LookupdClient, IdentifiesRegistersSnapshotAndFollowsEvents) {
  test_support::TempDir data;
  Nsqd nsqd{options_in(data)};
  nsqd.get_topic("existing")->get_channel("ch");
  nsqd.get_topic("bare");
  FakeLookupd fake;
  auto client = start_client(nsqd, {fake.address()});

  ASSERT_TRUE(fake.accept());
  std::string body;
  ASSERT_EQ(fake.next(&body), "IDENTIFY");
  EXPECT_EQ(
      body,
      R"({"broadcast_address":"node1","hostname":"host1","http_port":4151,"tcp_port":4150,"version":"1.3.0"})");
  // Topics in name order: a topic without channels as itself, else its channels.
  EXPECT_EQ(fake.next(), "REGISTER bare");
  EXPECT_EQ(fake.next(), "REGISTER existing ch");

  nsqd.get_topic("new")->get_channel("c2");
  EXPECT_EQ(fake.next(), "REGISTER new");
  EXPECT_EQ(fake.next(), "REGISTER new c2");
  nsqd.find_topic("new")->delete_channel("c2");
  EXPECT_EQ(fake.next(), "UNREGISTER new c2");
  nsqd.delete_topic("new");
  EXPECT_EQ(fake.next(), "UNREGISTER new");
  EXPECT_EQ(client->http_addresses(), std::vector<std::string>{"lk:4161"});

  // lookupd goes away: the client reconnects and registers everything again.
  fake.drop();
  ASSERT_TRUE(fake.accept());
  EXPECT_EQ(fake.next(), "IDENTIFY");
  EXPECT_EQ(fake.next(), "REGISTER bare");
  EXPECT_EQ(fake.next(), "REGISTER existing ch");
  client->stop();
}

// Two events a few microseconds apart, thousands of times: the second must always reach
// lookupd promptly. The client thread once took the queue before draining its wake-up pipe,
// so an event enqueued between the two lost its wake-up and waited for the next 15 s ping
// (seen on CI as a pre-created channel missing from lookupd). The sweep of gaps lands the
// second event inside that window on some bursts; fake.next() gives up after 5 s.
TEST(LookupdClient, EventsEnqueuedBackToBackAreNeverDelayed) {
  test_support::TempDir data;
  Nsqd nsqd{options_in(data)};
  auto topic = nsqd.get_topic("t");
  FakeLookupd fake;
  auto client = start_client(nsqd, {fake.address()});
  ASSERT_TRUE(fake.accept());
  ASSERT_EQ(fake.next(), "IDENTIFY");
  ASSERT_EQ(fake.next(), "REGISTER t");

  for (int burst = 0; burst < 3000; ++burst) {
    topic->get_channel("a#ephemeral");
    // 0..~30 us of spinning: the lookupd thread's wake-up latency lies somewhere in there.
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::nanoseconds(burst % 300 * 100);
    while (std::chrono::steady_clock::now() < until) {
    }
    topic->delete_channel("a#ephemeral");
    ASSERT_EQ(fake.next(), "REGISTER t a#ephemeral") << "burst " << burst;
    ASSERT_EQ(fake.next(), "UNREGISTER t a#ephemeral") << "burst " << burst;
  }
  client->stop();
}

TEST(LookupdClient, SetAddressesSwitchesPeers) {
  test_support::TempDir data;
  Nsqd nsqd{options_in(data)};
  nsqd.get_topic("t");
  FakeLookupd first, second;
  auto client = start_client(nsqd, {});
  EXPECT_FALSE(first.accept(300));  // nothing configured yet

  client->set_addresses({first.address(), first.address()});
  EXPECT_EQ(client->addresses(), std::vector<std::string>{first.address()});
  ASSERT_TRUE(first.accept());
  EXPECT_EQ(first.next(), "IDENTIFY");
  EXPECT_EQ(first.next(), "REGISTER t");

  client->set_addresses({second.address()});
  ASSERT_TRUE(second.accept());
  EXPECT_EQ(second.next(), "IDENTIFY");
  EXPECT_EQ(second.next(), "REGISTER t");
  EXPECT_EQ(first.next(), "");  // the dropped peer's connection is closed
  client->stop();
}

}  // namespace
}  // namespace nsq::nsqd
