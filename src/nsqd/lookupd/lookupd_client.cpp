#include "nsqd/lookupd/lookupd_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include <boost/asio/io_context.hpp>
#include <set>

#include "common/gocompat/json_writer.hpp"
#include "common/http/client.hpp"
#include "common/http/query.hpp"
#include "common/log/logger.hpp"
#include "common/util/go_strict_json.hpp"
#include "nsq/protocol/lookup_v1.hpp"
#include "nsqd/lookupd/lookup_peer.hpp"

namespace nsq::nsqd {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kMinBackoff = std::chrono::seconds(1);
constexpr auto kMaxBackoff = std::chrono::seconds(15);

// "REGISTER t c" as go-nsq's Command.String() prints it in the reference's logs.
std::string command_text(std::string_view name, const std::string& topic,
                         const std::string& channel) {
  std::string s(name);
  s += " " + topic;
  if (!channel.empty()) s += " " + channel;
  return s;
}

std::string encode(const RegistryEvent& e, std::string& label) {
  std::string out;
  const bool topic_event =
      e.kind == RegistryEvent::Kind::kTopicCreated || e.kind == RegistryEvent::Kind::kTopicDeleted;
  const bool created = e.kind == RegistryEvent::Kind::kTopicCreated ||
                       e.kind == RegistryEvent::Kind::kChannelCreated;
  const std::string channel = topic_event ? std::string() : e.channel;
  if (created) {
    protocol::append_lookup_register(out, e.topic, channel);
  } else {
    protocol::append_lookup_unregister(out, e.topic, channel);
  }
  label = std::string(topic_event ? "topic " : "channel ") +
          command_text(created ? "REGISTER" : "UNREGISTER", e.topic, channel);
  return out;
}

}  // namespace

struct LookupdClient::PeerState {
  explicit PeerState(std::string address, int64_t max_body) : peer(std::move(address), max_body) {}
  LookupPeer peer;
  Clock::time_point next_attempt{};  // when a disconnected peer is tried again
  Clock::duration backoff = kMinBackoff;
  bool announced = false;  // the first dial logged "LOOKUP connecting to"
};

LookupdClient::LookupdClient(Nsqd& nsqd, std::vector<std::string> addresses, int64_t max_body_size)
    : nsqd_(nsqd), max_body_size_(max_body_size) {
  for (auto& a : addresses) {
    if (std::find(addresses_.begin(), addresses_.end(), a) == addresses_.end()) {
      addresses_.push_back(std::move(a));
    }
  }
  if (::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) wake_fds_[0] = wake_fds_[1] = -1;
}

LookupdClient::~LookupdClient() {
  stop();
  for (int fd : wake_fds_) {
    if (fd >= 0) ::close(fd);
  }
}

void LookupdClient::observe(Nsqd& nsqd) {
  std::weak_ptr<LookupdClient> weak = shared_from_this();
  nsqd.add_registry_observer([weak](const RegistryEvent& e) {
    if (auto self = weak.lock()) self->enqueue(e);
  });
}

void LookupdClient::start(LookupdIdentity identity) {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  identity_ = std::move(identity);
  thread_ = std::thread([this] { run(); });
}

void LookupdClient::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake();
  if (thread_.joinable()) thread_.join();
}

void LookupdClient::set_addresses(std::vector<std::string> addresses) {
  {
    std::lock_guard lock(mu_);
    addresses_.clear();
    for (auto& a : addresses) {
      if (std::find(addresses_.begin(), addresses_.end(), a) == addresses_.end()) {
        addresses_.push_back(std::move(a));
      }
    }
  }
  wake();
}

std::vector<std::string> LookupdClient::addresses() const {
  std::lock_guard lock(mu_);
  return addresses_;
}

std::vector<std::string> LookupdClient::http_addresses() const {
  std::lock_guard lock(mu_);
  return http_addresses_;
}

std::vector<std::string> LookupdClient::topic_channels(
    const std::string& topic, std::chrono::nanoseconds connect_timeout,
    std::chrono::nanoseconds request_timeout) const {
  const auto lookupds = http_addresses();
  if (lookupds.empty()) {
    if (!addresses().empty()) {
      log::error("no available nsqlookupd to query for channels to pre-create for topic {}", topic);
    }
    return {};
  }
  // A private io_context run to completion on this thread: the caller's event loop is not
  // re-entered, it just waits like the reference's blocking call.
  boost::asio::io_context ctx;
  std::set<std::string> channels;
  std::vector<std::string> errors;
  for (const auto& addr : lookupds) {
    auto url = http::parse_url("http://" + addr + "/channels?topic=" + http::query_escape(topic));
    if (!url) continue;
    http::ClientRequest req;
    req.host = url->host;
    req.port = url->port;
    req.target = url->target;
    req.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(connect_timeout);
    req.request_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(request_timeout);
    http::async_request(ctx.get_executor(), std::move(req), [&, addr](http::ClientResponse r) {
      if (!r.ok() || r.status != 200) {
        errors.push_back(addr + ": " + (r.ok() ? "status " + std::to_string(r.status) : r.error));
        return;
      }
      const auto doc = util::parse_json_as_go(r.body);
      if (!doc.is_object() || !doc.contains("channels") || !doc["channels"].is_array()) {
        errors.push_back(addr + ": bad response");
        return;
      }
      for (const auto& c : doc["channels"]) {
        if (c.is_string()) channels.insert(c.get<std::string>());
      }
    });
  }
  ctx.run();
  if (errors.size() == lookupds.size()) {
    log::warn("failed to query nsqlookupd for channels to pre-create for topic {} - {}", topic,
              errors.front());
  }
  return {channels.begin(), channels.end()};
}

void LookupdClient::enqueue(const RegistryEvent& event) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    events_.push_back(event);
  }
  wake();
}

void LookupdClient::wake() {
  if (wake_fds_[1] < 0) return;
  const char b = 1;
  [[maybe_unused]] const auto n = ::write(wake_fds_[1], &b, 1);  // full pipe = already woken
}

void LookupdClient::sync_peers(std::vector<std::unique_ptr<PeerState>>& peers) {
  const auto wanted = addresses();
  std::erase_if(peers, [&](const std::unique_ptr<PeerState>& p) {
    if (std::find(wanted.begin(), wanted.end(), p->peer.address()) != wanted.end()) return false;
    log::info("LOOKUP({}): removing peer", p->peer.address());
    return true;
  });
  for (const auto& a : wanted) {
    const bool known = std::any_of(peers.begin(), peers.end(),
                                   [&](const auto& p) { return p->peer.address() == a; });
    if (known) continue;
    log::info("LOOKUP({}): adding peer", a);
    peers.push_back(std::make_unique<PeerState>(a, max_body_size_));
  }
}

void LookupdClient::failed(PeerState& p, const std::string& what, const std::string& error) {
  log::error("LOOKUPD({}): {} - {}", p.peer.address(), what, error);
  retry_later(p);
}

void LookupdClient::retry_later(PeerState& p) {
  p.peer.close();
  p.next_attempt = Clock::now() + p.backoff;
  p.backoff = std::min<Clock::duration>(p.backoff * 2, kMaxBackoff);
}

util::Result<bool> LookupdClient::connect_peer(PeerState& p, bool announce) {
  if (announce) log::info("LOOKUP connecting to {}", p.peer.address());
  if (auto connected = p.peer.connect(); !connected) {
    retry_later(p);
    return util::fail(connected.error());
  }
  // go-nsq's Identify marshals a Go map: keys in sorted order.
  gocompat::JsonWriter w;
  w.begin_object();
  w.key("broadcast_address").string(identity_.broadcast_address);
  w.key("hostname").string(identity_.hostname);
  w.key("http_port").number(identity_.http_port);
  w.key("tcp_port").number(identity_.tcp_port);
  w.key("version").string(NSQ_COMPAT_VERSION);
  w.end_object();
  std::string cmd;
  protocol::append_lookup_identify(cmd, w.str());
  auto reply = p.peer.command(cmd);
  if (!reply) {
    failed(p, "IDENTIFY " + w.str(), reply.error());
    return false;
  }
  const auto doc = util::parse_json_as_go(*reply);
  if (doc.is_discarded() || !doc.is_object()) {
    // lookupd refused the IDENTIFY (e.g. `E_BAD_BODY IDENTIFY missing fields`) and closes.
    log::error("LOOKUPD({}): parsing response - {}", p.peer.address(), *reply);
    failed(p, "IDENTIFY", *reply);
    return false;
  }
  LookupPeerInfo info;
  info.tcp_port = doc.value("tcp_port", int64_t{0});
  info.http_port = doc.value("http_port", int64_t{0});
  info.version = doc.value("version", std::string());
  info.broadcast_address = doc.value("broadcast_address", std::string());
  p.peer.info = info;
  log::info("LOOKUPD({}): peer info {{TCPPort:{} HTTPPort:{} Version:{} BroadcastAddress:{}}}",
            p.peer.address(), info.tcp_port, info.http_port, info.version, info.broadcast_address);
  if (info.broadcast_address.empty()) {
    log::error("LOOKUPD({}): no broadcast address", p.peer.address());
  }

  // Everything that exists now: a topic without channels as itself, else each channel
  // (which registers the topic too).
  for (const auto& topic : nsqd_.topics()) {
    const auto channels = topic->channels();
    std::vector<std::string> names;
    if (channels.empty()) {
      names.emplace_back();
    } else {
      for (const auto& c : channels) names.push_back(c->name());
    }
    for (const auto& channel : names) {
      std::string reg;
      protocol::append_lookup_register(reg, topic->name(), channel);
      const std::string text = command_text("REGISTER", topic->name(), channel);
      log::info("LOOKUPD({}): {}", p.peer.address(), text);
      if (auto registered = p.peer.command(reg); !registered) {
        failed(p, text, registered.error());
        return false;
      }
    }
  }
  p.backoff = kMinBackoff;
  return true;
}

void LookupdClient::send_to_all(std::vector<std::unique_ptr<PeerState>>& peers,
                                const std::string& command, const std::string& label) {
  // The reference's error lines name the command without its branch ("REGISTER t").
  const std::string cmd_text = label.substr(label.find(' ') + 1);
  for (auto& p : peers) {
    log::info("LOOKUPD({}): {}", p->peer.address(), label);
    if (!p->peer.connected()) {
      // As the reference's lazy Command(): dial now; a new connection registers everything.
      if (auto dialed = connect_peer(*p, true); !dialed) {
        log::error("LOOKUPD({}): {} - {}", p->peer.address(), cmd_text, dialed.error());
      }
      continue;
    }
    if (auto reply = p->peer.command(command); !reply) failed(*p, cmd_text, reply.error());
  }
}

void LookupdClient::publish_http_addresses(const std::vector<std::unique_ptr<PeerState>>& peers) {
  std::vector<std::string> out;
  for (const auto& p : peers) {
    if (!p->peer.connected() || p->peer.info.broadcast_address.empty()) continue;
    const auto& host = p->peer.info.broadcast_address;
    const bool v6 = host.find(':') != std::string::npos;
    out.push_back((v6 ? "[" + host + "]" : host) + ":" + std::to_string(p->peer.info.http_port));
  }
  std::lock_guard lock(mu_);
  http_addresses_ = std::move(out);
}

void LookupdClient::run() {
  std::vector<std::unique_ptr<PeerState>> peers;
  auto next_ping = Clock::now() + kPingInterval;
  std::string ping;
  protocol::append_lookup_ping(ping);

  for (;;) {
    // Drain the wake-up pipe before looking at the state it signalled: an event enqueued after
    // the drain leaves a fresh byte in the pipe, so the poll below returns at once. (Draining
    // after taking the events lost that byte, and the event waited for the next 15 s ping.)
    char buf[64];
    while (wake_fds_[0] >= 0 && ::read(wake_fds_[0], buf, sizeof(buf)) > 0) {
    }
    std::deque<RegistryEvent> events;
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      events.swap(events_);
    }

    sync_peers(peers);
    auto now = Clock::now();
    for (auto& p : peers) {
      if (p->peer.connected() || now < p->next_attempt) continue;
      // A new peer is announced as the reference's first Command(nil), whose dial error it
      // ignores; later retries (1 s..15 s backoff, faster than the reference's next ping)
      // stay silent: the 15 s ping and each registration log the failure, as the reference.
      static_cast<void>(connect_peer(*p, !p->announced));
      p->announced = true;
    }
    for (const auto& e : events) {
      std::string label;
      const std::string cmd = encode(e, label);
      send_to_all(peers, cmd, label);
    }
    now = Clock::now();
    if (now >= next_ping) {
      for (auto& p : peers) {
        log::debug("LOOKUPD({}): sending heartbeat", p->peer.address());
        if (!p->peer.connected()) {
          if (auto dialed = connect_peer(*p, true); !dialed) {
            log::error("LOOKUPD({}): PING - {}", p->peer.address(), dialed.error());
          }
          continue;
        }
        if (auto reply = p->peer.command(ping); !reply) failed(*p, "PING", reply.error());
      }
      next_ping = now + kPingInterval;
    }
    publish_http_addresses(peers);

    // Sleep until the next ping or reconnect attempt, a wake-up, or a lookupd closing on us
    // (it never speaks unasked, so readable = EOF or error).
    auto deadline = next_ping;
    std::vector<pollfd> fds;
    fds.push_back(pollfd{wake_fds_[0], POLLIN, 0});
    for (auto& p : peers) {
      if (p->peer.connected()) {
        fds.push_back(pollfd{p->peer.fd(), POLLIN, 0});
      } else {
        deadline = std::min(deadline, p->next_attempt);
      }
    }
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    const int timeout = static_cast<int>(std::clamp<int64_t>(wait.count() + 1, 0, 15000));
    if (::poll(fds.data(), fds.size(), timeout) > 0) {
      for (size_t i = 1; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        for (auto& p : peers) {
          if (p->peer.connected() && p->peer.fd() == fds[i].fd) {
            failed(*p, "connection", "closed by nsqlookupd");
            // Reconnect promptly: lookupd restarts are the common cause.
            p->next_attempt = Clock::now() + kMinBackoff;
          }
        }
      }
    }
  }
  for (auto& p : peers) p->peer.close();
  log::info("LOOKUP: closing");
}

}  // namespace nsq::nsqd
