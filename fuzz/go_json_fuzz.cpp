// Go's JSON syntax checker (the text of nsqd.dat and config errors), checked against a second
// JSON reader: nlohmann must accept exactly what Go accepts once invalid UTF-8 is replaced as
// Go's decoder replaces it. Also: the UTF-8 coercion is idempotent and its output valid, and
// every byte has a quoted form.
#include <nlohmann/json.hpp>

#include "common/gocompat/go_json.hpp"
#include "fuzz/fuzz_target.hpp"

NSQ_FUZZ_TARGET(go_json) {
  const std::string_view in = nsq::fuzz::as_view(data, size);
  const std::string go_error = nsq::gocompat::go_json_syntax_error(in);
  const std::string coerced = nsq::gocompat::go_json_coerce_utf8(in);
  FUZZ_CHECK(nsq::gocompat::go_json_coerce_utf8(coerced) == coerced);
  // nlohmann skips a byte-order mark that Go calls an invalid character, and ends its input at
  // a NUL byte (which Go rejects anywhere): no second opinion for those.
  if (!in.starts_with("\xEF\xBB\xBF") && in.find('\0') == std::string_view::npos) {
    FUZZ_CHECK(go_error.empty() == nlohmann::json::accept(coerced));
  }
  if (size > 0) FUZZ_CHECK(!nsq::gocompat::go_json_quote_char(data[0]).empty());
  return 0;
}
