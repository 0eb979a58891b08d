// The reference http_api.Client's answer to -tls-required=true: a 403 from an http://
// endpoint carries the daemon's {"https_port": N}, and GETV1/POSTV1 retry once at
// https://<same host>:N<same path and query>. Used by nsqadmin's upstream calls and nsqd's
// auth queries. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "common/util/result.hpp"

namespace nsq::http {

// True when the reference would retry `url` over HTTPS after this status.
bool wants_https_retry(std::string_view url, unsigned status);

// The HTTPS endpoint for the 403 `body` (Go's httpsEndpoint), or the error when the body is not
// the JSON object it expects.
util::Result<std::string> https_endpoint(std::string_view url, std::string_view body);

}  // namespace nsq::http
