#include "common/http/https_redirect.hpp"

#include <nlohmann/json.hpp>

#include "common/http/client.hpp"

namespace nsq::http {

bool wants_https_retry(std::string_view url, unsigned status) {
  return status == 403 && !url.starts_with("https");
}

util::Result<std::string> https_endpoint(std::string_view url, std::string_view body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return util::fail("invalid JSON in 403 response " + std::string(body));
  }
  int64_t port = 0;  // absent: Go's zero value
  if (auto it = j.find("https_port"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer()) {
      return util::fail("json: cannot unmarshal " + std::string(it->type_name()) +
                        " into Go struct field .https_port of type int");
    }
    port = it->get<int64_t>();
  }
  auto u = parse_url(url);
  if (!u) {
    return util::fail("parse \"" + std::string(url) + "\": invalid URL");
  }
  const bool v6 = u->host.find(':') != std::string::npos;
  return "https://" + (v6 ? "[" + u->host + "]" : u->host) + ":" + std::to_string(port) + u->target;
}

}  // namespace nsq::http
