// HTTP /mpub bodies in both formats. Input: [mode][body...]; mode bit 0 = binary, bit 1 =
// small limits. Accepted messages are non-empty, within -max-msg-size and views into the body;
// re-encoding them in the same format parses back to the same list.
#include <string>
#include <vector>

#include "fuzz/fuzz_target.hpp"
#include "nsq/protocol/wire.hpp"
#include "nsqd/http/http_mpub_body.hpp"

namespace {

std::string encode_binary(const std::vector<std::string_view>& messages) {
  std::string out;
  nsq::protocol::append_be32(out, static_cast<uint32_t>(messages.size()));
  for (auto m : messages) {
    nsq::protocol::append_be32(out, static_cast<uint32_t>(m.size()));
    out.append(m);
  }
  return out;
}

std::string encode_text(const std::vector<std::string_view>& messages) {
  std::string out;
  for (auto m : messages) out.append(m).push_back('\n');
  return out;
}

std::vector<std::string> copies(const std::vector<std::string_view>& views) {
  return {views.begin(), views.end()};
}

}  // namespace

NSQ_FUZZ_TARGET(http_mpub_body) {
  if (size < 1) return 0;
  const bool binary = (data[0] & 1) != 0;
  const int64_t max_msg = (data[0] & 2) != 0 ? 8 : 1048576;
  const int64_t max_body = (data[0] & 2) != 0 ? 64 : 5242880;
  const std::string_view body = nsq::fuzz::as_view(data + 1, size - 1);
  const auto parse = binary ? nsq::nsqd::parse_binary_mpub : nsq::nsqd::split_text_mpub;

  std::vector<std::string_view> messages;
  const auto err = parse(body, max_msg, max_body, messages);
  if (err) {
    FUZZ_CHECK(!err->code.empty());
    return 0;
  }
  FUZZ_CHECK(!binary || !messages.empty());
  for (auto m : messages) {
    FUZZ_CHECK(!m.empty() && static_cast<int64_t>(m.size()) <= max_msg);
    FUZZ_CHECK(m.data() >= body.data() && m.data() + m.size() <= body.data() + body.size());
    FUZZ_CHECK(binary || m.find('\n') == std::string_view::npos);
  }
  const std::string again = binary ? encode_binary(messages) : encode_text(messages);
  std::vector<std::string_view> reparsed;
  // The re-encoded body can be longer than the limit only in text mode (an added '\n').
  FUZZ_CHECK(!parse(again, max_msg, max_body + 1, reparsed));
  FUZZ_CHECK(copies(reparsed) == copies(messages));
  return 0;
}
