#include "nsqadmin/upstream_tls.hpp"

#include "common/net/tls_files.hpp"

namespace nsq::nsqadmin {

util::Result<std::shared_ptr<boost::asio::ssl::context>> build_upstream_tls_context(
    const AdminOptions& opts) {
  net::ClientTlsOptions o;
  o.cert_file = opts.http_client_tls_cert;
  o.key_file = opts.http_client_tls_key;
  o.root_ca_file = opts.http_client_tls_root_ca_file;
  o.insecure_skip_verify = opts.http_client_tls_insecure_skip_verify;
  net::ClientTlsStage stage{};
  auto ctx = net::build_client_tls_context(o, stage);
  if (ctx) return ctx;
  switch (stage) {
    case net::ClientTlsStage::kOk:
      break;
    case net::ClientTlsStage::kKeyPair:
      return util::fail("failed to LoadX509KeyPair " + o.cert_file + ", " + o.key_file + " - " +
                        ctx.error());
    case net::ClientTlsStage::kReadCa:
      return util::fail("failed to read TLS root CA file " + o.root_ca_file + " - " + ctx.error());
    case net::ClientTlsStage::kAppendCa:
      return util::fail("failed to AppendCertsFromPEM " + o.root_ca_file);
  }
  return ctx;
}

}  // namespace nsq::nsqadmin
