// Go's JSON syntax checker (the text of nsqd.dat and config errors), checked against a second
// JSON reader: what nlohmann accepts, once invalid UTF-8 is replaced as Go's decoder replaces
// it, Go accepts too. Also: the UTF-8 coercion is idempotent and its output valid, and
// every byte has a quoted form.
#include <nlohmann/json.hpp>

#include "common/gocompat/go_json.hpp"
#include "fuzz/fuzz_target.hpp"

NSQ_FUZZ_TARGET(go_json) {
  const std::string_view in = nsq::fuzz::as_view(data, size);
  const std::string go_error = nsq::gocompat::go_json_syntax_error(in);
  const std::string coerced = nsq::gocompat::go_json_coerce_utf8(in);
  FUZZ_CHECK(nsq::gocompat::go_json_coerce_utf8(coerced) == coerced);
  // Go's checker is the more permissive of the two: it accepts numbers of any magnitude, which
  // nlohmann refuses once they overflow a double (1e5101). So one direction only: what
  // nlohmann reads is JSON by Go's rules. No opinion either on a byte-order mark (nlohmann skips
  // it, Go refuses it) or a NUL byte (nlohmann ends its input there, Go refuses it anywhere).
  if (!in.starts_with("\xEF\xBB\xBF") && in.find('\0') == std::string_view::npos &&
      nlohmann::json::accept(coerced)) {
    FUZZ_CHECK(go_error.empty());
  }
  if (size > 0) FUZZ_CHECK(!nsq::gocompat::go_json_quote_char(data[0]).empty());
  return 0;
}
