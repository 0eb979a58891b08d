// Go encoding/json compatibility helpers: where the reference prints a JSON error to the user
// (e.g. "failed to parse metadata in nsqd.dat - invalid character 'x' looking for beginning of
// value") we print the same text, so these reproduce Go's syntax checker (checkValid), its
// error wording and its byte quoting.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace nsq::gocompat {

// "" when `data` is one valid JSON value (surrounded by optional whitespace) by Go's rules,
// else Go's SyntaxError text: "unexpected end of JSON input", "invalid character '}' in
// literal true (expecting 'e')", "invalid character 'x' after top-level value", ...
std::string go_json_syntax_error(std::string_view data);

// Go's quoteChar: how a byte appears in its syntax errors ('x', '\n', '\'', '\x01', '\u0080').
std::string go_json_quote_char(unsigned char c);

// Replaces every byte that is not part of valid UTF-8 with U+FFFD, as Go's decoder does inside
// strings (surrogates count as invalid), so a decoder that rejects bad UTF-8 accepts the rest.
std::string go_json_coerce_utf8(std::string_view data);

// The bytes between the quotes of a JSON string that go_json_syntax_error accepted, decoded as
// Go's unquote does: escapes resolved, each byte of invalid UTF-8 and each \u escape of a
// surrogate that is not half of a valid pair become U+FFFD.
std::string go_json_unquote(std::string_view inner);

}  // namespace nsq::gocompat
