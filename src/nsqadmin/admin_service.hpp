// AdminService: nsqadmin's HTTP surface (the reference's nsqadmin/http.go) under -base-path:
// the /api endpoints, /ping, /config/:opt, the embedded UI (index page for every UI route,
// /static/:asset) and the optional graphite proxy.
//
// Threads: routing happens on the HTTP loop; every handler then runs on a small worker pool,
// because most of them wait on nsqd/nsqlookupd (Upstream blocks the worker, never a loop).
// Options that /config PUT may change are guarded by a mutex and copied per request.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <mutex>
#include <optional>
#include <string>

#include "common/http/api.hpp"
#include "nsqadmin/cluster_info.hpp"
#include "nsqadmin/options.hpp"
#include "nsqadmin/upstream.hpp"

namespace nsq::nsqadmin {

class AdminService : public http::RoutedService {
 public:
  // `upstream_tls`: the -http-client-tls-* context for https:// nsqd/nsqlookupd calls.
  AdminService(AdminOptions opts, std::shared_ptr<boost::asio::ssl::context> upstream_tls);
  ~AdminService() override;

  void handle_async(http::Request& req, std::function<void(http::Response)> done) override;

  AdminOptions options() const;

 private:
  void add_routes();
  std::string bp(const std::string& p) const;  // path.Join(base_path, p)
  bool is_admin(const http::Request& req, const AdminOptions& o) const;
  // The options for an admin action, or nullopt with 403 FORBIDDEN answered.
  std::optional<AdminOptions> admin_options(const http::Request& req, http::Response& resp) const;
  void notify(const std::string& action, const std::string& topic, const std::string& channel,
              const std::string& node, const http::Request& req);

  void index(http::Request& req, http::Response& resp);
  void static_asset(http::Request& req, http::Response& resp);
  void topics(http::Request& req, http::Response& resp);
  void topic(http::Request& req, http::Response& resp);
  void channel(http::Request& req, http::Response& resp);
  void nodes(http::Request& req, http::Response& resp);
  void node(http::Request& req, http::Response& resp);
  void tombstone_node_for_topic(http::Request& req, http::Response& resp);
  void create_topic_channel(http::Request& req, http::Response& resp);
  void delete_topic(http::Request& req, http::Response& resp);
  void delete_channel(http::Request& req, http::Response& resp);
  void topic_channel_action(http::Request& req, http::Response& resp, bool with_channel);
  void counter(http::Request& req, http::Response& resp);
  void graphite(http::Request& req, http::Response& resp);
  void render_proxy(http::Request& req, http::Response& resp);
  void config(http::Request& req, http::Response& resp);

  mutable std::mutex mu_;  // guards opts_ (lookupd list and log level change at run time)
  AdminOptions opts_;
  Cidr config_cidr_;
  bool has_config_cidr_ = false;
  std::string hostname_;
  Upstream upstream_;
  ClusterInfo ci_;
  boost::asio::thread_pool workers_;
};

}  // namespace nsq::nsqadmin
