// nsqd.dat as read at start-up: decoded with Go's encoding/json rules. What decodes is JSON by
// Go's checker, holds only valid names, and survives serialize -> parse unchanged (ephemeral
// topics and channels are left out when saving).
#include <string>
#include <vector>

#include "common/gocompat/go_json.hpp"
#include "fuzz/fuzz_target.hpp"
#include "nsq/protocol/names.hpp"
#include "nsqd/storage/metadata.hpp"

namespace {

nsq::nsqd::Metadata without_ephemeral(nsq::nsqd::Metadata m) {
  using nsq::protocol::is_ephemeral_name;
  std::erase_if(m.topics, [](const auto& t) { return is_ephemeral_name(t.name); });
  for (auto& t : m.topics) {
    std::erase_if(t.channels, [](const auto& c) { return is_ephemeral_name(c.name); });
  }
  return m;
}

}  // namespace

NSQ_FUZZ_TARGET(metadata) {
  const std::string_view json = nsq::fuzz::as_view(data, size);
  std::vector<std::string> warnings;
  const auto m = nsq::nsqd::parse_metadata(json, &warnings);
  if (!m) {
    FUZZ_CHECK(!m.error().empty());
    return 0;
  }
  FUZZ_CHECK(nsq::gocompat::go_json_syntax_error(json).empty());
  for (const auto& t : m->topics) {
    FUZZ_CHECK(nsq::protocol::is_valid_topic_name(t.name));
    for (const auto& c : t.channels) FUZZ_CHECK(nsq::protocol::is_valid_channel_name(c.name));
  }
  const std::string saved = nsq::nsqd::serialize_metadata(*m);
  const auto back = nsq::nsqd::parse_metadata(saved);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == without_ephemeral(*m));
  return 0;
}
