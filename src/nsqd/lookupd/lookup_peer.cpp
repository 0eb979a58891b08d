#include "nsqd/lookupd/lookup_peer.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/gocompat/go_errno.hpp"
#include "common/net/address.hpp"
#include "nsq/protocol/lookup_v1.hpp"

namespace nsq::nsqd {

namespace {

constexpr int kConnectTimeoutMs = 1000;  // the reference's net.DialTimeout(.., time.Second)
constexpr int kIoTimeoutMs = 1000;       // its read and write deadlines

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Waits for `events` on `fd` until `deadline_ms`; an error on timeout or failure.
util::Status wait_fd(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    const int64_t left = deadline_ms - steady_ms();
    if (left <= 0) return util::fail("i/o timeout");
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return util::fail(gocompat::go_errno_text(errno));
    if (rc == 0) continue;  // re-check the deadline
    return {};
  }
}

// Non-blocking connect to one resolved address within the deadline.
util::Result<int> connect_one(const addrinfo* ai, int64_t deadline_ms) {
  const int fd =
      ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
  if (fd < 0) return util::fail(gocompat::go_errno_text(errno));
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      auto error = util::fail(gocompat::go_errno_text(errno));
      ::close(fd);
      return error;
    }
    if (auto writable = wait_fd(fd, POLLOUT, deadline_ms); !writable) {
      ::close(fd);
      return util::fail(writable.error());
    }
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
      ::close(fd);
      return util::fail(gocompat::go_errno_text(so_error));
    }
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

LookupPeer::LookupPeer(std::string address, int64_t max_body_size)
    : address_(std::move(address)), max_body_size_(max_body_size) {}

LookupPeer::~LookupPeer() {
  close();
}

void LookupPeer::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

util::Status LookupPeer::connect() {
  close();
  const auto hp = net::split_host_port(address_);
  if (!hp) {
    return util::fail("dial tcp: address " + address_ + ": missing port in address");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string host = hp->host.empty() ? "127.0.0.1" : hp->host;
  const std::string port = std::to_string(hp->port);
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return util::fail("dial tcp: lookup " + host + ": " + ::gai_strerror(rc));
  }
  const int64_t deadline = steady_ms() + kConnectTimeoutMs;
  std::string why = "no address";
  for (const addrinfo* ai = res; ai != nullptr && fd_ < 0; ai = ai->ai_next) {
    auto fd = connect_one(ai, deadline);
    if (fd) {
      fd_ = *fd;
    } else {
      why = fd.error();
    }
  }
  ::freeaddrinfo(res);
  if (fd_ < 0) return util::fail("dial tcp " + address_ + ": connect: " + why);
  return write_all(protocol::kMagicV1);
}

util::Status LookupPeer::write_all(std::string_view bytes) {
  const int64_t deadline = steady_ms() + kIoTimeoutMs;
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (auto writable = wait_fd(fd_, POLLOUT, deadline); !writable) {
        close();
        return writable;
      }
      continue;
    }
    auto error = util::fail("write: " + gocompat::go_errno_text(errno));
    close();
    return error;
  }
  return {};
}

util::Status LookupPeer::read_exact(char* out, size_t n) {
  const int64_t deadline = steady_ms() + kIoTimeoutMs;
  while (n > 0) {
    const ssize_t got = ::recv(fd_, out, n, 0);
    if (got > 0) {
      out += got;
      n -= static_cast<size_t>(got);
      continue;
    }
    if (got == 0) {
      close();
      return util::fail("EOF");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto readable = wait_fd(fd_, POLLIN, deadline); !readable) {
        close();
        return readable;
      }
      continue;
    }
    auto error = util::fail("read: " + gocompat::go_errno_text(errno));
    close();
    return error;
  }
  return {};
}

util::Result<std::string> LookupPeer::command(std::string_view bytes) {
  if (fd_ < 0) return util::fail("not connected");
  if (auto written = write_all(bytes); !written) return util::fail(written.error());
  char head[4];
  if (auto read = read_exact(head, sizeof(head)); !read) return util::fail(read.error());
  const auto r =
      protocol::read_lookup_response(std::string_view(head, sizeof(head)), max_body_size_);
  if (r.status == protocol::LookupResponse::Status::kError) {
    close();
    return util::fail(r.error);
  }
  const uint32_t size = (static_cast<uint32_t>(static_cast<unsigned char>(head[0])) << 24) |
                        (static_cast<uint32_t>(static_cast<unsigned char>(head[1])) << 16) |
                        (static_cast<uint32_t>(static_cast<unsigned char>(head[2])) << 8) |
                        static_cast<uint32_t>(static_cast<unsigned char>(head[3]));
  std::string body(size, '\0');
  if (size > 0) {
    if (auto read = read_exact(body.data(), size); !read) return util::fail(read.error());
  }
  return body;
}

}  // namespace nsq::nsqd
