// nsq_load: a lean TCP load generator for nsqd (ours or the reference), one phase per run,
// one JSON line of results on stdout. bench/compare_load.py drives it against both servers.
//
// Why not bench_writer/bench_reader: they always send MPUB (never PUB) and burn more CPU per
// message than the server under test. Here every connection is one thread on a blocking
// socket, so a round trip costs the client one write and one read, and the client's CPU per
// message (getrusage) is printed next to the rate.
//
// Phases:
//   pub      --conns N publishers, one PUB per round trip (wait for OK)
//   mpub     --conns N publishers, MPUB of --batch messages per round trip
//   sub      --conns N consumers (RDY --rdy) drain topic/channel, FIN every message
//   pubsub   --conns N PUB publishers (batch 1) or MPUB (--batch > 1) and --consumers M
//   latency  one publisher paced at --rate msg/s (PUBs written without waiting), one
//            consumer (RDY --rdy) that FINs at once; publish -> delivery percentiles
// --output-buffer-size N: consumers IDENTIFY with that output_buffer_size first (-1: no
// output buffering, every delivery written at once: the "unbuffered" consumer; the
// reference's output_buffer_timeout -1 alone keeps its 250 ms flush ticker). Without it they
// keep the server's default (the reference holds deliveries up to 250 ms when RDY > 1).
// Stop after --seconds, or once --count messages are published (pub, mpub) or consumed (sub:
// the time to drain a backlog of that size, so a server that drains it early is not charged
// for the idle rest of the window).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string phase = "pub";
  std::string host = "127.0.0.1";
  int port = 4150;
  std::string topic = "bench";
  std::string channel = "ch";
  int conns = 1;
  int consumers = 1;
  int batch = 1;
  int size = 200;
  int rdy = 200;
  double seconds = 4;
  int64_t count = 0;  // mpub: stop after this many messages (0: run for --seconds)
  double rate = 1000;
  std::optional<int> output_buffer_size;  // consumers IDENTIFY with it when set
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "nsq_load: %s\n", why.c_str());
  std::exit(1);
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void put_u32(std::string& out, uint32_t v) {
  const uint32_t be = htonl(v);
  out.append(reinterpret_cast<const char*>(&be), 4);
}

uint32_t get_u32(const char* p) {
  uint32_t be = 0;
  std::memcpy(&be, p, 4);
  return ntohl(be);
}

// One blocking connection with a frame reader.
class Conn {
 public:
  Conn(const Options& o) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(o.port));
    if (fd_ < 0 || inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      die("connect " + o.host + ":" + std::to_string(o.port) + ": " + std::strerror(errno));
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    send("  V2");
  }
  ~Conn() { ::close(fd_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) die(std::string("send: ") + std::strerror(errno));
      data.remove_prefix(static_cast<size_t>(n));
    }
  }

  // The next frame (type, data); data stays valid until the next call. Heartbeats are
  // answered with NOP and skipped.
  std::pair<uint32_t, std::string_view> frame() {
    for (;;) {
      if (end_ - start_ >= 8) {
        const uint32_t size = get_u32(buf_.data() + start_);
        if (end_ - start_ >= 4 + size) {
          const uint32_t type = get_u32(buf_.data() + start_ + 4);
          std::string_view data(buf_.data() + start_ + 8, size - 4);
          start_ += 4 + size;
          if (type == 0 && data == "_heartbeat_") {
            send("NOP\n");
            continue;
          }
          if (type == 1) die("server error: " + std::string(data));
          return {type, data};
        }
        if (buf_.size() < 4 + size) buf_.resize(4 + size + 65536);
      }
      if (start_ > 0 && (start_ == end_ || buf_.size() - end_ < 16384)) {
        std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
      }
      const ssize_t n = ::recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
      if (n <= 0) die(n == 0 ? "server closed the connection" : std::strerror(errno));
      end_ += static_cast<size_t>(n);
    }
  }
  // Whether a whole frame is already buffered (no syscall).
  bool frame_buffered() const {
    return end_ - start_ >= 8 && end_ - start_ >= 4 + get_u32(buf_.data() + start_);
  }

 private:
  int fd_ = -1;
  std::vector<char> buf_ = std::vector<char>(256 * 1024);
  size_t start_ = 0;
  size_t end_ = 0;
};

std::string pub_cmd(const Options& o, int batch) {
  std::string body(static_cast<size_t>(o.size), 'x');
  std::string out;
  if (batch == 1) {
    out = "PUB " + o.topic + "\n";
    put_u32(out, static_cast<uint32_t>(body.size()));
    out += body;
    return out;
  }
  out = "MPUB " + o.topic + "\n";
  put_u32(out, static_cast<uint32_t>(4 + batch * (4 + body.size())));
  put_u32(out, static_cast<uint32_t>(batch));
  for (int i = 0; i < batch; ++i) {
    put_u32(out, static_cast<uint32_t>(body.size()));
    out += body;
  }
  return out;
}

struct Shared {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> published{0};
  std::atomic<int64_t> consumed{0};
};

void publisher(const Options& o, int batch, Shared& sh) {
  Conn c(o);
  const std::string cmd = pub_cmd(o, batch);
  while (!sh.stop.load(std::memory_order_relaxed)) {
    if (o.count > 0 && sh.published.fetch_add(batch) >= o.count) break;
    c.send(cmd);
    c.frame();  // OK
    // With --count the messages were claimed before sending, so the total stops at count.
    if (o.count == 0) sh.published.fetch_add(batch, std::memory_order_relaxed);
  }
}

void subscribe(Conn& c, const Options& o) {
  if (o.output_buffer_size) {
    const std::string json =
        "{\"output_buffer_size\":" + std::to_string(*o.output_buffer_size) + "}";
    std::string cmd = "IDENTIFY\n";
    put_u32(cmd, static_cast<uint32_t>(json.size()));
    c.send(cmd + json);
    c.frame();  // OK (no feature negotiation asked)
  }
  c.send("SUB " + o.topic + " " + o.channel + "\n");
  c.frame();  // OK
  c.send("RDY " + std::to_string(o.rdy) + "\n");
}

// Reads messages and FINs them, one write per batch of buffered messages. `on_message` gets
// the body of each.
template <class OnMessage>
void consume_loop(Conn& c, Shared& sh, OnMessage&& on_message) {
  std::string fins;
  while (!sh.stop.load(std::memory_order_relaxed)) {
    auto [type, data] = c.frame();
    if (type != 2 || data.size() < 26) continue;
    fins.append("FIN ").append(data.substr(10, 16)).append("\n");
    on_message(data.substr(26));
    sh.consumed.fetch_add(1, std::memory_order_relaxed);
    if (!c.frame_buffered()) {
      c.send(fins);
      fins.clear();
    }
  }
}

void consumer(const Options& o, Shared& sh) {
  Conn c(o);
  subscribe(c, o);
  consume_loop(c, sh, [](std::string_view) {});
}

// Paced publisher: at each tick writes the PUBs due by now, each carrying its send time.
void paced_publisher(const Options& o, Shared& sh) {
  Conn c(o);
  std::atomic<int64_t> oks{0};
  std::thread drain([&] {
    while (!sh.stop.load(std::memory_order_relaxed) || oks.load() < sh.published.load()) {
      c.frame();
      oks.fetch_add(1);
    }
  });
  std::string body(static_cast<size_t>(std::max(o.size, 8)), 'x');
  std::string out;
  const int64_t start = mono_ns();
  const double per_ns = o.rate / 1e9;
  int64_t sent = 0;
  while (!sh.stop.load(std::memory_order_relaxed)) {
    const int64_t now = mono_ns();
    const auto due = static_cast<int64_t>(static_cast<double>(now - start) * per_ns) + 1;
    out.clear();
    for (; sent < due; ++sent) {
      std::memcpy(body.data(), &now, 8);
      out.append("PUB ").append(o.topic).append("\n");
      put_u32(out, static_cast<uint32_t>(body.size()));
      out += body;
    }
    if (!out.empty()) {
      sh.published.store(sent);
      c.send(out);
    }
    const auto next = start + static_cast<int64_t>(static_cast<double>(sent) / per_ns);
    const int64_t wait = next - mono_ns();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(wait, 50'000L)));
  }
  drain.join();
}

int64_t percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      const auto eq = a.find('=');
      if (eq != std::string::npos) return a.substr(eq + 1);
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    const std::string key = a.substr(0, a.find('='));
    if (key == "--phase")
      o.phase = value();
    else if (key == "--addr") {
      const std::string v = value();
      const auto colon = v.rfind(':');
      if (colon == std::string::npos) die("--addr wants host:port");
      o.host = v.substr(0, colon);
      o.port = std::stoi(v.substr(colon + 1));
    } else if (key == "--topic")
      o.topic = value();
    else if (key == "--channel")
      o.channel = value();
    else if (key == "--conns")
      o.conns = std::stoi(value());
    else if (key == "--consumers")
      o.consumers = std::stoi(value());
    else if (key == "--batch")
      o.batch = std::stoi(value());
    else if (key == "--size")
      o.size = std::stoi(value());
    else if (key == "--rdy")
      o.rdy = std::stoi(value());
    else if (key == "--seconds")
      o.seconds = std::stod(value());
    else if (key == "--count")
      o.count = std::stoll(value());
    else if (key == "--rate")
      o.rate = std::stod(value());
    else if (key == "--output-buffer-size")
      o.output_buffer_size = std::stoi(value());
    else
      die("unknown option " + a + " (see the comment at the top of bench/nsq_load/main.cpp)");
  }
  if (o.conns < 1 || o.batch < 1 || o.size < 1 || o.rdy < 1 || o.rate <= 0) die("bad option");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  Shared sh;
  std::vector<std::thread> threads;
  std::vector<int64_t> latencies_ns;
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock::now();
  if (o.phase == "pub" || o.phase == "mpub") {
    for (int i = 0; i < o.conns; ++i) {
      threads.emplace_back(publisher, std::cref(o), o.phase == "pub" ? 1 : o.batch, std::ref(sh));
    }
  } else if (o.phase == "sub") {
    for (int i = 0; i < o.conns; ++i) threads.emplace_back(consumer, std::cref(o), std::ref(sh));
  } else if (o.phase == "pubsub") {
    for (int i = 0; i < o.consumers; ++i) {
      threads.emplace_back(consumer, std::cref(o), std::ref(sh));
    }
    for (int i = 0; i < o.conns; ++i) {
      threads.emplace_back(publisher, std::cref(o), o.batch, std::ref(sh));
    }
  } else if (o.phase == "latency") {
    latencies_ns.reserve(static_cast<size_t>(o.rate * o.seconds * 1.2) + 16);
    threads.emplace_back([&] {
      Conn c(o);
      subscribe(c, o);
      consume_loop(c, sh, [&](std::string_view body) {
        int64_t sent = 0;
        std::memcpy(&sent, body.data(), 8);
        const int64_t latency = mono_ns() - sent;
        // Never reallocated (reserved above): main reads the filled part at the end.
        if (latency > 0 && latency < 60'000'000'000 &&
            latencies_ns.size() < latencies_ns.capacity()) {
          latencies_ns.push_back(latency);
        }
      });
    });
    threads.emplace_back(paced_publisher, std::cref(o), std::ref(sh));
  } else {
    die("unknown phase " + o.phase);
  }
  const auto deadline = t0 + std::chrono::duration<double>(o.seconds);
  const bool count_consumed = o.phase == "sub";
  while (Clock::now() < deadline) {
    if (o.count > 0 && (count_consumed ? sh.consumed.load() : sh.published.load()) >= o.count) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  sh.stop = true;
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  // Consumers block in recv: give them their totals, then leave without joining.
  const int64_t published =
      std::min(sh.published.load(), o.count > 0 && !count_consumed ? o.count : INT64_MAX);
  const int64_t consumed = sh.consumed.load();
  const double cpu = cpu_seconds() - cpu0;
  const int64_t msgs = std::max(published, consumed);
  std::printf(
      "{\"phase\":\"%s\",\"conns\":%d,\"batch\":%d,\"seconds\":%.3f,\"published\":%lld,"
      "\"consumed\":%lld,\"pub_per_s\":%.0f,\"sub_per_s\":%.0f,\"client_cpu_s\":%.3f,"
      "\"client_cpu_us_per_msg\":%.3f",
      o.phase.c_str(), o.conns, o.batch, elapsed, static_cast<long long>(published),
      static_cast<long long>(consumed), static_cast<double>(published) / elapsed,
      static_cast<double>(consumed) / elapsed, cpu,
      msgs > 0 ? cpu * 1e6 / static_cast<double>(msgs) : 0.0);
  if (o.phase == "latency") {
    // The consumer thread may still append: copy what is there.
    std::vector<int64_t> l(
        latencies_ns.begin(),
        latencies_ns.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(
                                   static_cast<size_t>(consumed), latencies_ns.size())));
    // Skip the first 10 % (connection set-up, first allocations).
    l.erase(l.begin(), l.begin() + static_cast<std::ptrdiff_t>(l.size() / 10));
    std::printf(",\"rate\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f",
                o.rate, percentile(l, 0.5) / 1e3, percentile(l, 0.99) / 1e3,
                percentile(l, 0.999) / 1e3, percentile(l, 1.0) / 1e3);
  }
  std::printf("}\n");
  std::fflush(stdout);
  std::_Exit(0);
}
