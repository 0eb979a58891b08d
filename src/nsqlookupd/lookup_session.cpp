#include "nsqlookupd/lookup_session.hpp"

#include "common/config/flag_set.hpp"
#include "common/gocompat/json_writer.hpp"
#include "common/log/logger.hpp"
#include "nsq/protocol/names.hpp"

namespace nsq::nsqlookupd {

using protocol::LookupCommandType;

LookupSession::LookupSession(Nsqlookupd& lookupd, std::string remote_address)
    : lookupd_(lookupd), remote_address_(std::move(remote_address)) {}

std::optional<protocol::ProtocolError> LookupSession::execute(const protocol::LookupCommand& cmd,
                                                              std::string& reply) {
  switch (cmd.type) {
    case LookupCommandType::kPing:
      ping();
      reply.append("OK");
      return std::nullopt;
    case LookupCommandType::kIdentify:
      return identify(cmd.body, reply);
    case LookupCommandType::kRegister:
      do_register(cmd.topic, cmd.channel);
      reply.append("OK");
      return std::nullopt;
    case LookupCommandType::kUnregister:
      do_unregister(cmd.topic, cmd.channel);
      reply.append("OK");
      return std::nullopt;
  }
  return protocol::ProtocolError{"E_INVALID", "invalid command", true};
}

std::optional<protocol::ProtocolError> LookupSession::identify(std::string_view body,
                                                               std::string& reply) {
  protocol::LookupPeerIdentity id;
  if (auto err = protocol::decode_lookup_identify(body, id)) return err;

  auto peer = std::make_shared<PeerInfo>();
  peer->id = remote_address_;
  peer->remote_address = remote_address_;
  peer->hostname = std::move(id.hostname);
  peer->broadcast_address = std::move(id.broadcast_address);
  peer->tcp_port = id.tcp_port;
  peer->http_port = id.http_port;
  peer->version = std::move(id.version);
  peer->last_update_ns.store(unix_now_ns(), std::memory_order_relaxed);
  log::info("CLIENT({}): IDENTIFY Address:{} TCP:{} HTTP:{} Version:{}", remote_address_,
            peer->broadcast_address, peer->tcp_port, peer->http_port, peer->version);
  peer_ = std::move(peer);
  if (lookupd_.db().add_producer(Registration{std::string(kCategoryClient), {}, {}}, peer_)) {
    log::info("DB: client({}) REGISTER category:client key: subkey:", remote_address_);
  }

  // The reference marshals a Go map: keys sorted.
  gocompat::JsonWriter w;
  w.begin_object();
  w.key("broadcast_address").string(lookupd_.options().broadcast_address);
  w.key("hostname").string(lookupd_.hostname());
  w.key("http_port").number(static_cast<int64_t>(lookupd_.http_port()));
  w.key("tcp_port").number(static_cast<int64_t>(lookupd_.tcp_port()));
  w.key("version").string(NSQ_COMPAT_VERSION);
  w.end_object();
  reply.append(w.str());
  return std::nullopt;
}

void LookupSession::do_register(std::string_view topic, std::string_view channel) {
  auto& db = lookupd_.db();
  if (!channel.empty()) {
    if (db.add_producer(
            Registration{std::string(kCategoryChannel), std::string(topic), std::string(channel)},
            peer_)) {
      log::info("DB: client({}) REGISTER category:channel key:{} subkey:{}", remote_address_, topic,
                channel);
    }
  }
  if (db.add_producer(Registration{std::string(kCategoryTopic), std::string(topic), {}}, peer_)) {
    log::info("DB: client({}) REGISTER category:topic key:{} subkey:", remote_address_, topic);
  }
}

void LookupSession::do_unregister(std::string_view topic, std::string_view channel) {
  auto& db = lookupd_.db();
  if (!channel.empty()) {
    const Registration key{std::string(kCategoryChannel), std::string(topic), std::string(channel)};
    auto [removed, left] = db.remove_producer(key, peer_->id);
    if (removed) {
      log::info("DB: client({}) UNREGISTER category:channel key:{} subkey:{}", remote_address_,
                topic, channel);
    }
    // An ephemeral channel disappears with its last producer.
    if (left == 0 && protocol::is_ephemeral_name(channel)) db.remove_registration(key);
    return;
  }
  // A topic UNREGISTER takes the peer off every channel of the topic too; an nsqd normally
  // unregisters its channels first, hence the warning when there was anything left.
  for (const auto& r : db.find_registrations(kCategoryChannel, topic, "*")) {
    if (db.remove_producer(r, peer_->id).first) {
      log::warn("client({}) unexpected UNREGISTER category:channel key:{} subkey:{}",
                remote_address_, topic, r.subkey);
    }
  }
  const Registration key{std::string(kCategoryTopic), std::string(topic), {}};
  auto [removed, left] = db.remove_producer(key, peer_->id);
  if (removed) {
    log::info("DB: client({}) UNREGISTER category:topic key:{} subkey:", remote_address_, topic);
  }
  if (left == 0 && protocol::is_ephemeral_name(topic)) db.remove_registration(key);
}

void LookupSession::ping() {
  // A PING before IDENTIFY is allowed and answered, but there is no peer to refresh.
  if (!peer_) return;
  const int64_t now = unix_now_ns();
  const int64_t last = peer_->last_update_ns.exchange(now, std::memory_order_relaxed);
  log::info("CLIENT({}): pinged (last ping {})", peer_->id,
            gocompat::format_go_duration(std::chrono::nanoseconds(now - last)));
}

void LookupSession::close() {
  if (closed_) return;
  closed_ = true;
  if (!peer_) return;
  auto& db = lookupd_.db();
  for (const auto& r : db.lookup_registrations(peer_->id)) {
    if (db.remove_producer(r, peer_->id).first) {
      log::info("DB: client({}) UNREGISTER category:{} key:{} subkey:{}", remote_address_,
                r.category, r.key, r.subkey);
    }
  }
}

}  // namespace nsq::nsqlookupd
