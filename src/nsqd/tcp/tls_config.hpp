// The server's TLS settings from the --tls-* flags, as the reference's buildTLSConfig: a
// certificate and key (both or none), the client-certificate policy, the CA bundle that
// verifies client certificates, and the minimum protocol version.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "common/util/result.hpp"
#include "nsqd/options.hpp"

namespace nsq::nsqd {

enum class TlsRequired { kNo, kExceptHttp, kYes };

// --tls-required as the reference reads it ("true"/"false"/"tcp-https"), raised to kYes when
// a client-auth policy is set (nsqd.go New()).
TlsRequired tls_required_mode(const NsqdOptions& opts);

// Null when no certificate is configured; an error when the files cannot be loaded, which
// reads as the reference's "failed to build TLS config - ..." detail.
util::Result<std::shared_ptr<boost::asio::ssl::context>> build_tls_context(const NsqdOptions& opts);

// The client side, as the reference's buildClientTLSConfig: what nsqd verifies an https://
// -auth-http-address with (-tls-root-ca-file, else the system CAs; -tls-min-version). An
// error (the "failed to build client TLS config - ..." detail) on a bad CA file.
util::Result<std::shared_ptr<boost::asio::ssl::context>> build_client_tls_context(
    const NsqdOptions& opts);

}  // namespace nsq::nsqd

namespace nsq::nsqd {

// /stats names for a TLS connection, as the reference's prettyConnectionState prints them:
// "TLS1.2", and its short list of suite names else "Unknown <id>" (TLS 1.3 suites included).
std::string tls_version_name(int openssl_version);
std::string tls_cipher_suite_name(uint16_t iana_id);

}  // namespace nsq::nsqd
