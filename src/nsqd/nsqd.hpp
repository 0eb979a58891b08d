// Nsqd: the daemon's shared state — options, the topic registry, the message-id factory and
// the client-id sequence. It owns no sockets or threads; the servers (TCP now, HTTP later)
// and the timer loop call into it.
//
// Owner: main() (via NsqdServer). Threads: all; the registry is behind its own mutex.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/util/result.hpp"
#include "nsqd/options.hpp"
#include "nsqd/queue/guid.hpp"
#include "nsqd/queue/timer_set.hpp"
#include "nsqd/queue/topic.hpp"
#include "nsqd/storage/disk_worker.hpp"
#include "nsqd/storage/group_committer.hpp"
#include "nsqd/storage/message_backend.hpp"

namespace boost::asio::ssl {
class context;
}

namespace nsq::nsqd {

// A topic or channel appeared or disappeared: what nsqlookupd registration and the
// metadata file follow.
struct RegistryEvent {
  enum class Kind { kTopicCreated, kTopicDeleted, kChannelCreated, kChannelDeleted };
  Kind kind;
  std::string topic;
  std::string channel;  // empty for topic events
};

class Nsqd {
 public:
  using RegistryObserver = std::function<void(const RegistryEvent&)>;

  explicit Nsqd(NsqdOptions opts);
  ~Nsqd();

  const NsqdOptions& options() const { return opts_; }

  // The TLS server context built from --tls-* at startup (null: TLS not offered). Set once
  // before the listeners start.
  void set_tls_context(std::shared_ptr<boost::asio::ssl::context> ctx) {
    tls_context_ = std::move(ctx);
  }
  const std::shared_ptr<boost::asio::ssl::context>& tls_context() const { return tls_context_; }
  // The client context for https:// auth servers (always built, as the reference's
  // clientTLSConfig). Set once before the listeners start.
  void set_client_tls_context(std::shared_ptr<boost::asio::ssl::context> ctx) {
    client_tls_context_ = std::move(ctx);
  }
  const std::shared_ptr<boost::asio::ssl::context>& client_tls_context() const {
    return client_tls_context_;
  }

  // Returns the topic, creating it if needed; null only while shutting down.
  std::shared_ptr<Topic> get_topic(const std::string& name);
  std::shared_ptr<Topic> find_topic(const std::string& name) const;
  // Deletes the named topic (only if it is `only_if`, when given).
  bool delete_topic(const std::string& name, const Topic* only_if = nullptr);
  std::vector<std::shared_ptr<Topic>> topics() const;  // sorted by name

  int64_t next_client_id() { return client_ids_.fetch_add(1, std::memory_order_relaxed) + 1; }

  // Runs every channel's in-flight timeouts and deferred releases due at `now_steady_ns`.
  void process_timers(int64_t now_steady_ns);

  // Shutdown: stops accepting publishes, flushes every topic and channel to its disk queue
  // (memory, in-flight and deferred messages, as the reference does), syncs, and writes
  // nsqd.dat. Idempotent.
  void close_all();

  // nsqd.dat: recreates the topics and channels it lists (paused state included). Call once
  // before serving, then persist_metadata() as the reference does; the reference's error text
  // on an unreadable or invalid file.
  util::Status load_metadata();
  // Writes nsqd.dat now (atomic); the error (already logged) on failure.
  util::Status persist_metadata();
  // Writes nsqd.dat soon, on the disk worker (several requests coalesce into one write).
  void persist_metadata_async();

  // When this daemon started (unix ns): /info and /stats `start_time`.
  int64_t start_time_ns() const { return start_time_ns_; }
  // "OK", or "NOK - <error>" while the last disk write failed (/ping, /stats `health`).
  std::string health() const;
  // -durable: fsyncs made by the commit thread so far (/metrics; proves group commit).
  uint64_t durable_fsync_count() const;
  bool healthy() const;
  // "" = healthy again.
  void set_health_error(std::string error);

  // Adds an observer of topic/channel creation and deletion. Observers run outside the
  // registry/topic/channel locks on whatever thread made the change, so they must be quick
  // and thread-safe (queue the work). Register them before serving.
  void add_registry_observer(RegistryObserver observer);

  // --- nsqlookupd addresses: -lookupd-tcp-address at start, replaced by
  // PUT /config/nsqlookupd_tcp_addresses at run time ---
  using LookupdAddressesObserver = std::function<void(std::vector<std::string>)>;
  std::vector<std::string> lookupd_addresses() const;
  // Stores the list and calls every observer with it (outside the lock, on the caller's thread).
  void set_lookupd_addresses(std::vector<std::string> addresses);
  // Register before serving; observers must be quick and thread-safe (queue the work).
  void add_lookupd_addresses_observer(LookupdAddressesObserver observer);

  // A topic or channel was paused or unpaused over HTTP: the reference persists its metadata
  // file right away. Observers run on the HTTP thread; register them before serving.
  using PauseObserver = std::function<void(const std::string& topic, const std::string& channel)>;
  void add_pause_observer(PauseObserver observer);
  void notify_paused(const std::string& topic, const std::string& channel);
  // Where a new topic learns the channels it must have from the start (nsqlookupd's
  // /channels, so a message published to a new topic reaches every channel consumers use
  // elsewhere in the cluster). Called by get_topic() after creating a topic, on the creating
  // thread, and may block briefly. Set before serving.
  using TopicChannelSource = std::function<std::vector<std::string>(const std::string& topic)>;
  void set_topic_channel_source(TopicChannelSource source) { channel_source_ = std::move(source); }

 private:
  ChannelLimits channel_limits() const;
  std::shared_ptr<const DiskContext> make_disk_context();
  void sync_all_backends();
  void notify(RegistryEvent::Kind kind, const std::string& topic, const std::string& channel);

  static int64_t wall_clock_ns();

  const NsqdOptions opts_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  std::shared_ptr<boost::asio::ssl::context> client_tls_context_;
  const int64_t start_time_ns_ = wall_clock_ns();
  GuidFactory guids_;
  std::atomic<int64_t> client_ids_{0};

  // Declared before the registry: topics keep pointers into these.
  DiskWorker disk_worker_;
  std::unique_ptr<GroupCommitter> committer_;  // -durable only
  std::shared_ptr<const DiskContext> disk_ctx_;
  // What process_timers visits (timer_set.hpp); mutable: handed out by channel_limits().
  mutable ChannelTimerSet timers_;
  mutable TopicRetrySet topic_retries_;
  std::vector<std::shared_ptr<Channel>> timer_batch_, timer_keep_;  // timer loop only
  std::vector<std::shared_ptr<Topic>> retry_batch_;                 // timer loop only
  std::atomic<bool> loading_{false};
  std::atomic<bool> persist_pending_{false};
  std::atomic<bool> sync_pending_{false};
  std::mutex persist_mu_;     // one nsqd.dat write at a time
  int64_t last_sync_ns_ = 0;  // timer loop only

  mutable std::mutex mu_;
  bool closing_ = false;
  std::map<std::string, std::shared_ptr<Topic>> topics_;
  std::vector<RegistryObserver> observers_;  // fixed before serving: read without a lock
  TopicChannelSource channel_source_;        // likewise
  mutable std::mutex health_mu_;
  std::string health_error_;
  mutable std::mutex lookupd_mu_;
  std::vector<std::string> lookupd_addresses_;
  std::vector<LookupdAddressesObserver> lookupd_observers_;  // fixed before serving
  std::vector<PauseObserver> pause_observers_;               // fixed before serving
};

}  // namespace nsq::nsqd
