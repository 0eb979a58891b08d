// The two body formats of HTTP /mpub, decoded the way the reference's doMPUB does (pure
// functions over a body that is already in memory; the server capped it at -max-body-size):
//   * text (default): messages separated by '\n'; a trailing '\r' stays part of the message;
//     empty lines are skipped; a line over -max-msg-size fails the whole request;
//   * binary (`binary=true`): [int32 count]([int32 size][size bytes])*, checked like TCP MPUB
//     after its body-size word; bytes after the last message are ignored, as the reference
//     stops reading there.
// Errors are the reference's HTTP messages (all 413): MSG_TOO_BIG, BODY_TOO_BIG, BAD_BODY,
// BAD_MESSAGE. Returned views point into `body`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nsq::nsqd {

struct MpubBodyError {
  std::string code;    // the HTTP error message, e.g. "BAD_MESSAGE"
  std::string detail;  // the reference's TCP error text, for logs ("MPUB message too big ...")
};

// `binary` query value -> binary mode: true/1 -> true, false/0/absent -> false, anything
// else -> true (the reference logs it as deprecated).
bool mpub_binary_mode(std::optional<std::string_view> value, bool* deprecated_value = nullptr);

std::optional<MpubBodyError> split_text_mpub(std::string_view body, int64_t max_msg_size,
                                             int64_t max_body_size,
                                             std::vector<std::string_view>& out);

std::optional<MpubBodyError> parse_binary_mpub(std::string_view body, int64_t max_msg_size,
                                               int64_t max_body_size,
                                               std::vector<std::string_view>& out);

}  // namespace nsq::nsqd
