// The client TLS context of nsqadmin's calls to nsqd and nsqlookupd, from the
// -http-client-tls-* flags as the reference's New() builds it: an optional client certificate,
// the CA file (else the system's CAs) and -http-client-tls-insecure-skip-verify. Start-up only.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/util/result.hpp"
#include "nsqadmin/options.hpp"

namespace nsq::nsqadmin {

// The context, or the reference's error text ("failed to LoadX509KeyPair <cert>, <key> - ...",
// "failed to read TLS root CA file <f> - ...", "failed to AppendCertsFromPEM <f>").
util::Result<std::shared_ptr<boost::asio::ssl::context>> build_upstream_tls_context(
    const AdminOptions& opts);

}  // namespace nsq::nsqadmin
