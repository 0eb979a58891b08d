// ClusterInfo: how nsqadmin gathers and changes cluster state through nsqd and nsqlookupd
// (the reference's internal/clusterinfo/data.go), with its error semantics:
//   * a query that fails on every upstream is fatal ("failed to query any nsqlookupd: <errs>")
//     and becomes 502 UPSTREAM_ERROR in the handler;
//   * a query that fails on some upstreams is partial: the data from the others plus the error
//     list, which handlers turn into "WARNING: ..." in a 200 reply.
// Each batch of upstream requests runs concurrently (Upstream::call_all).
// Stateless apart from the Upstream it borrows; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nsqadmin/cluster_types.hpp"
#include "nsqadmin/upstream.hpp"

namespace nsq::nsqadmin {

// The outcome of one operation: no error, a partial error (list) or a fatal error (text).
struct CiError {
  enum class Kind { kNone, kPartial, kFatal } kind = Kind::kNone;
  std::vector<std::string> errors;  // kPartial
  std::string fatal;                // kFatal

  bool fatal_error() const { return kind == Kind::kFatal; }
  bool partial() const { return kind == Kind::kPartial; }
  // Go's ErrList.Error(): the errors joined by "\n".
  std::string text() const;
  // Accumulates `other` into this the way the composite operations do (errs = append(errs,
  // pe.Errors()...)); returns false when `other` is fatal (then this becomes that fatal error).
  bool absorb(const CiError& other);
};

struct ChannelStatsResult {
  std::vector<TopicPtr> topics;
  std::map<std::string, ChannelPtr> channels;  // keyed by channel, or "topic:channel"
  std::vector<std::string> channel_order;      // keys in first-seen order
};

class ClusterInfo {
 public:
  explicit ClusterInfo(Upstream& up) : up_(up) {}

  std::vector<std::string> lookupd_topics(const std::vector<std::string>& lookupds, CiError& err);
  Producers lookupd_producers(const std::vector<std::string>& lookupds, CiError& err);
  Producers lookupd_topic_producers(const std::string& topic,
                                    const std::vector<std::string>& lookupds, CiError& err);
  // Topics of `topics` that no lookupd lists a producer for, with their channels (lookupd
  // errors ignored, as the reference does); every /lookup and /channels call in one batch.
  std::map<std::string, std::vector<std::string>> lookupd_inactive_topics(
      const std::vector<std::string>& topics, const std::vector<std::string>& lookupds);
  std::vector<std::string> nsqd_topics(const std::vector<std::string>& nsqds, CiError& err);
  Producers nsqd_producers(const std::vector<std::string>& nsqds, CiError& err);
  Producers nsqd_topic_producers(const std::string& topic, const std::vector<std::string>& nsqds,
                                 CiError& err);
  ChannelStatsResult nsqd_stats(const Producers& producers, const std::string& topic,
                                const std::string& channel, bool include_clients, CiError& err);

  Producers producers(const std::vector<std::string>& lookupds,
                      const std::vector<std::string>& nsqds, CiError& err);
  Producers topic_producers(const std::string& topic, const std::vector<std::string>& lookupds,
                            const std::vector<std::string>& nsqds, CiError& err);

  CiError tombstone_node_for_topic(const std::string& topic, const std::string& node,
                                   const std::vector<std::string>& lookupds);
  CiError create_topic_channel(const std::string& topic, const std::string& channel,
                               const std::vector<std::string>& lookupds);
  CiError delete_topic(const std::string& topic, const std::vector<std::string>& lookupds,
                       const std::vector<std::string>& nsqds);
  CiError delete_channel(const std::string& topic, const std::string& channel,
                         const std::vector<std::string>& lookupds,
                         const std::vector<std::string>& nsqds);
  // pause/unpause/empty of a topic (channel empty) or channel: `uri` is e.g. "topic/pause".
  CiError topic_channel_action(const std::string& topic, const std::string& channel,
                               const std::string& uri, const std::vector<std::string>& lookupds,
                               const std::vector<std::string>& nsqds);

 private:
  CiError post_all(const std::vector<std::string>& addrs, const std::string& uri,
                   const std::string& qs);

  Upstream& up_;
};

}  // namespace nsq::nsqadmin
