// LookupHttpService: nsqlookupd's HTTP API (the reference's nsqlookupd/http.go) over the shared
// RoutedService: discovery reads (/lookup, /topics, /channels, /nodes, /debug), registry edits
// (/topic/create|delete|tombstone, /channel/create|delete), /ping and /info, with the
// reference's V1 envelope and JSON field order.
//
// Owner: NsqlookupdServer. Threads: every HTTP loop; handlers only touch the RegistrationDB
// (which has its own lock) and never block.
#pragma once

#include "common/http/api.hpp"
#include "nsqlookupd/nsqlookupd.hpp"

namespace nsq::nsqlookupd {

class LookupHttpService : public http::RoutedService {
 public:
  explicit LookupHttpService(Nsqlookupd& lookupd);

 private:
  void ping(http::Request& req, http::Response& resp);
  void info(http::Request& req, http::Response& resp);
  void debug(http::Request& req, http::Response& resp);
  void lookup(http::Request& req, http::Response& resp);
  void topics(http::Request& req, http::Response& resp);
  void channels(http::Request& req, http::Response& resp);
  void nodes(http::Request& req, http::Response& resp);
  void create_topic(http::Request& req, http::Response& resp);
  void delete_topic(http::Request& req, http::Response& resp);
  void tombstone_topic_producer(http::Request& req, http::Response& resp);
  void create_channel(http::Request& req, http::Response& resp);
  void delete_channel(http::Request& req, http::Response& resp);

  Nsqlookupd& lookupd_;
};

}  // namespace nsq::nsqlookupd
