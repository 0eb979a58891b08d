// Acceptor: the one listener of every daemon, on TCP or on a unix socket path as the
// reference's util.TypeOfAddr decides; its error texts, peer names and socket file handling.
#include "common/net/acceptor.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <chrono>
#include <filesystem>
#include <future>

#include "common/gocompat/go_errno.hpp"

namespace nsq::net {

namespace asio = boost::asio;

namespace {

std::string temp_socket_path(const std::string& name) {
  auto dir =
      std::filesystem::temp_directory_path() / ("nsq-acceptor-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::filesystem::remove(path);
  return path.string();
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

TEST(IsUnixAddress, FollowsNetSplitHostPort) {
  EXPECT_FALSE(is_unix_address("127.0.0.1:4150"));
  EXPECT_FALSE(is_unix_address(":4150"));
  EXPECT_FALSE(is_unix_address("[::1]:4150"));
  EXPECT_FALSE(is_unix_address("localhost:http"));  // a bad port fails later, as TCP
  EXPECT_TRUE(is_unix_address("/var/run/nsqd.sock"));
  EXPECT_TRUE(is_unix_address("nsqd.sock"));
  EXPECT_TRUE(is_unix_address("::1:4150"));  // too many colons
  EXPECT_TRUE(is_unix_address("[::1]x:4150"));
}

TEST(GoErrnoText, LowersTheFirstLetterAsGoSyscallErrno) {
  EXPECT_EQ(gocompat::go_errno_text(ECONNREFUSED), "connection refused");
  EXPECT_EQ(gocompat::go_errno_text(EADDRINUSE), "address already in use");
  EXPECT_EQ(gocompat::go_errno_text(ENOENT), "no such file or directory");
}

TEST(Acceptor, ServesAUnixSocketAndRemovesItsFileOnStop) {
  IoPool pool(1);
  Acceptor acceptor(pool, "TCP");
  const auto path = temp_socket_path("serve.sock");
  const auto listening = acceptor.listen(path, /*allow_unix=*/true);
  ASSERT_TRUE(listening) << listening.error();
  EXPECT_EQ(acceptor.address(), path);
  EXPECT_FALSE(acceptor.tcp_endpoint());
  std::promise<PeerAddress> peer;
  acceptor.start([&](StreamSocket socket) { peer.set_value(peer_address(socket)); });
  pool.start();

  asio::io_context client_ctx;
  asio::local::stream_protocol::socket client(client_ctx);
  client.connect(asio::local::stream_protocol::endpoint(path));
  auto got = peer.get_future();
  ASSERT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const auto p = got.get();
  EXPECT_EQ(p.address, "@");  // Go's name for an unnamed unix peer
  EXPECT_EQ(p.host, "");
  EXPECT_TRUE(p.unix_socket);

  EXPECT_TRUE(exists(path));
  acceptor.stop();
  EXPECT_FALSE(exists(path));
  pool.stop();
}

TEST(Acceptor, AStaleSocketFileFailsAsTheReference) {
  const auto path = temp_socket_path("stale.sock");
  IoPool pool(1);
  {
    Acceptor first(pool, "TCP");
    const auto listening = first.listen(path, true);
    ASSERT_TRUE(listening) << listening.error();
    // Never stopped: the file stays behind as after a crash.
  }
  Acceptor second(pool, "TCP");
  const auto in_use = second.listen(path, true);
  ASSERT_FALSE(in_use);
  EXPECT_EQ(in_use.error(), "listen (" + path + ") failed - listen unix " + path +
                                ": bind: address already in use");
  ::unlink(path.c_str());

  const std::string missing = "/nonexistent-dir-for-nsq/x.sock";
  const auto no_dir = second.listen(missing, true);
  ASSERT_FALSE(no_dir);
  EXPECT_EQ(no_dir.error(), "listen (" + missing + ") failed - listen unix " + missing +
                                ": bind: no such file or directory");
}

TEST(Acceptor, WithoutUnixAPathIsAMissingPort) {
  IoPool pool(1);
  Acceptor acceptor(pool, "TCP");
  const auto listening = acceptor.listen("/tmp/x.sock", /*allow_unix=*/false);
  ASSERT_FALSE(listening);
  EXPECT_EQ(listening.error(),
            "listen (/tmp/x.sock) failed - listen tcp: address /tmp/x.sock: missing port in "
            "address");
}

TEST(Acceptor, TcpReportsItsEndpointAndPeer) {
  IoPool pool(1);
  Acceptor acceptor(pool, "TCP");
  const auto listening = acceptor.listen("127.0.0.1:0", true);
  ASSERT_TRUE(listening) << listening.error();
  ASSERT_TRUE(acceptor.tcp_endpoint());
  const auto ep = *acceptor.tcp_endpoint();
  EXPECT_NE(ep.port(), 0);
  EXPECT_EQ(acceptor.address(), "127.0.0.1:" + std::to_string(ep.port()));
  std::promise<PeerAddress> peer;
  acceptor.start([&](StreamSocket socket) { peer.set_value(peer_address(socket)); });
  pool.start();
  asio::io_context client_ctx;
  asio::ip::tcp::socket client(client_ctx);
  client.connect(ep);
  auto got = peer.get_future();
  ASSERT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const auto p = got.get();
  EXPECT_EQ(p.address, "127.0.0.1:" + std::to_string(client.local_endpoint().port()));
  EXPECT_EQ(p.host, "127.0.0.1");
  EXPECT_FALSE(p.unix_socket);
  acceptor.stop();
  pool.stop();
}

TEST(ConnectionRegistry, RefusesNewConnectionsOnceClosed) {
  ConnectionRegistry<int> reg;
  auto a = std::make_shared<int>(1);
  auto b = std::make_shared<int>(2);
  EXPECT_TRUE(reg.add(1, a));
  EXPECT_TRUE(reg.add(2, b));
  reg.remove(2);
  EXPECT_EQ(reg.live().size(), 1u);
  auto live = reg.close_all();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(*live[0], 1);
  EXPECT_FALSE(reg.add(3, b));
}

}  // namespace nsq::net
