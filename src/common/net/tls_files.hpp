// Loading certificates, keys and CA bundles into an OpenSSL context with the error texts of
// Go's crypto/tls and os packages, so that start-up failures read as the reference's:
// "open <path>: no such file or directory", "tls: failed to find any PEM data in certificate
// input", "tls: private key does not match public key". Also the client-side context that the
// daemons' HTTPS peer calls use (nsqadmin upstreams, nsqd's auth servers).
// Called at start-up from the main thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/util/result.hpp"

namespace nsq::net {

// Go's tls.LoadX509KeyPair(cert, key) into `ctx`, or Go's error text.
util::Status load_key_pair(boost::asio::ssl::context& ctx, const std::string& cert_file,
                           const std::string& key_file);

// os.ReadFile + CertPool.AppendCertsFromPEM: the CAs `ctx` verifies peers with. The number of
// certificates added (0: AppendCertsFromPEM's false), or the os error ("open <path>: ...").
util::Result<int> load_root_cas(boost::asio::ssl::context& ctx, const std::string& ca_file);

struct ClientTlsOptions {
  std::string cert_file;  // client certificate offered to servers that ask (with key_file)
  std::string key_file;
  std::string root_ca_file;  // empty: the system's CAs, as Go's nil RootCAs
  bool insecure_skip_verify = false;
  int min_version = 0;  // OpenSSL TLS1_x_VERSION; 0 = Go's client default (TLS 1.2)
};

// A client context that verifies the server's chain (unless insecure_skip_verify); the host
// name is checked per connection (see http::ClientRequest::tls). On failure the error is Go's
// detail and `stage` says which step failed, from which the caller words the error as its
// reference does.
enum class ClientTlsStage { kOk, kKeyPair, kReadCa, kAppendCa };
util::Result<std::shared_ptr<boost::asio::ssl::context>> build_client_tls_context(
    const ClientTlsOptions& o, ClientTlsStage& stage);

}  // namespace nsq::net
