// Query strings as Go's url.ParseQuery reads them. What parses re-encodes (QueryEscape) to a
// query that parses to the same pairs; query and path escaping round-trip any bytes.
#include <string>

#include "common/http/query.hpp"
#include "fuzz/fuzz_target.hpp"

NSQ_FUZZ_TARGET(query) {
  namespace h = nsq::http;
  const std::string_view raw = nsq::fuzz::as_view(data, size);
  const auto params = h::parse_query(raw);
  if (!params) {
    FUZZ_CHECK(!params.error().empty());
  } else {
    std::string again;
    for (const auto& [key, values] : params->values()) {
      for (const auto& v : values) {
        if (!again.empty()) again.push_back('&');
        again += h::query_escape(key) + "=" + h::query_escape(v);
      }
    }
    const auto reparsed = h::parse_query(again);
    FUZZ_CHECK(reparsed && reparsed->values() == params->values());
  }
  std::string back;
  FUZZ_CHECK(h::query_unescape(h::query_escape(raw), back) && back == raw);
  FUZZ_CHECK(h::path_unescape(h::path_escape(raw), back) && back == raw);
  return 0;
}
