// What nsqadmin reads from an nsqd's /stats?format=json: the body is checked and decoded as
// cluster_info.cpp does (Go's syntax check, invalid UTF-8 replaced), every topic becomes
// TopicStats (with its channels, clients and e2e percentiles), all of them are summed into one
// aggregate as the topic and channel pages do, and every result must encode to valid JSON.
#include <nlohmann/json.hpp>

#include "common/gocompat/go_json.hpp"
#include "common/gocompat/json_writer.hpp"
#include "fuzz/fuzz_target.hpp"
#include "nsqadmin/cluster_types.hpp"

namespace {

void check_encodes(const nsq::nsqadmin::TopicStats& t) {
  nsq::gocompat::JsonWriter w;
  nsq::nsqadmin::write_topic(w, t);
  FUZZ_CHECK(nsq::gocompat::go_json_syntax_error(w.str()).empty());
}

}  // namespace

NSQ_FUZZ_TARGET(nsqadmin_stats) {
  using nsq::nsqadmin::TopicStats;
  const std::string_view body = nsq::fuzz::as_view(data, size);
  if (!nsq::gocompat::go_json_syntax_error(body).empty()) return 0;
  const auto doc = nlohmann::json::parse(nsq::gocompat::go_json_coerce_utf8(body), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return 0;
  const auto topics = doc.find("topics");
  if (topics == doc.end() || !topics->is_array()) return 0;
  auto total = std::make_shared<TopicStats>();
  for (const auto& tj : *topics) {
    const auto t = TopicStats::from_nsqd(tj, 1700000000);
    check_encodes(*t);
    total->add(t);
  }
  check_encodes(*total);
  return 0;
}
