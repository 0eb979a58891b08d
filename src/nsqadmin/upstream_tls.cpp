#include "nsqadmin/upstream_tls.hpp"

#include "common/net/tls_files.hpp"

namespace nsq::nsqadmin {

std::shared_ptr<boost::asio::ssl::context> build_upstream_tls_context(const AdminOptions& opts,
                                                                      std::string& error) {
  net::ClientTlsOptions o;
  o.cert_file = opts.http_client_tls_cert;
  o.key_file = opts.http_client_tls_key;
  o.root_ca_file = opts.http_client_tls_root_ca_file;
  o.insecure_skip_verify = opts.http_client_tls_insecure_skip_verify;
  net::ClientTlsStage stage{};
  std::string detail;
  auto ctx = net::build_client_tls_context(o, stage, detail);
  switch (stage) {
    case net::ClientTlsStage::kOk:
      break;
    case net::ClientTlsStage::kKeyPair:
      error = "failed to LoadX509KeyPair " + o.cert_file + ", " + o.key_file + " - " + detail;
      break;
    case net::ClientTlsStage::kReadCa:
      error = "failed to read TLS root CA file " + o.root_ca_file + " - " + detail;
      break;
    case net::ClientTlsStage::kAppendCa:
      error = "failed to AppendCertsFromPEM " + o.root_ca_file;
      break;
  }
  return ctx;
}

}  // namespace nsq::nsqadmin
