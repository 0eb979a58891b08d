#include "nsqd/tcp/tls_config.hpp"

#include <openssl/ssl.h>

#include "common/config/flag_set.hpp"
#include "common/net/tls_files.hpp"

namespace nsq::nsqd {

namespace ssl = boost::asio::ssl;

TlsRequired tls_required_mode(const NsqdOptions& opts) {
  TlsRequired mode = TlsRequired::kNo;
  bool yes = false;
  if (opts.tls_required == "tcp-https") {
    mode = TlsRequired::kExceptHttp;
  } else if (gocompat::parse_go_bool(opts.tls_required, yes)) {
    mode = yes ? TlsRequired::kYes : TlsRequired::kNo;
  } else {
    mode = TlsRequired::kYes;
  }
  if (!opts.tls_client_auth_policy.empty() && mode == TlsRequired::kNo) mode = TlsRequired::kYes;
  return mode;
}

namespace {

int min_version(const std::string& v) {
  if (v == "tls1.1") return TLS1_1_VERSION;
  if (v == "tls1.2") return TLS1_2_VERSION;
  if (v == "tls1.3") return TLS1_3_VERSION;
  return TLS1_VERSION;  // "tls1.0" and the default
}

}  // namespace

util::Result<std::shared_ptr<ssl::context>> build_tls_context(const NsqdOptions& opts) {
  if (opts.tls_cert.empty() && opts.tls_key.empty()) return std::shared_ptr<ssl::context>();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::single_dh_use,
                   ec);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), min_version(opts.tls_min_version));
  // Go's crypto/tls server choice (AES-128-GCM first on AES hardware, ECDHE only), so
  // /stats names the same suite for the same client.
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_cipher_list(ctx->native_handle(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                          "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:"
                          "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA");
  SSL_CTX_set_ciphersuites(ctx->native_handle(),
                           "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                           "TLS_AES_256_GCM_SHA384");
  // Go's tls.LoadX509KeyPair and os.ReadFile errors, word for word.
  if (auto pair = net::load_key_pair(*ctx, opts.tls_cert, opts.tls_key); !pair) {
    return util::fail(pair.error());
  }
  if (!opts.tls_root_ca_file.empty()) {
    const auto added = net::load_root_cas(*ctx, opts.tls_root_ca_file);
    if (!added) return util::fail(added.error());
    if (*added == 0) return util::fail("failed to append certificate to pool");
  }
  // The reference's switch maps any other policy (including none) to NoClientCert.
  if (opts.tls_client_auth_policy == "require") {
    // RequireAnyClientCert: a certificate must be presented but is not verified.
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    ctx->set_verify_callback([](bool, ssl::verify_context&) { return true; });
  } else if (opts.tls_client_auth_policy == "require-verify") {
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  return ctx;
}

util::Result<std::shared_ptr<ssl::context>> build_client_tls_context(const NsqdOptions& opts) {
  net::ClientTlsOptions o;
  o.root_ca_file = opts.tls_root_ca_file;
  o.min_version = min_version(opts.tls_min_version);
  net::ClientTlsStage stage{};
  auto ctx = net::build_client_tls_context(o, stage);
  if (!ctx && stage == net::ClientTlsStage::kAppendCa) {
    return util::fail("failed to append certificate to pool");
  }
  return ctx;
}

}  // namespace nsq::nsqd

namespace nsq::nsqd {

std::string tls_version_name(int v) {
  switch (v) {
    case TLS1_VERSION:
      return "TLS1.0";
    case TLS1_1_VERSION:
      return "TLS1.1";
    case TLS1_2_VERSION:
      return "TLS1.2";
    case TLS1_3_VERSION:
      return "TLS1.3";
    default:
      return "Unknown " + std::to_string(v);
  }
}

std::string tls_cipher_suite_name(uint16_t id) {
  switch (id) {
    case 0x0005:
      return "TLS_RSA_WITH_RC4_128_SHA";
    case 0x000a:
      return "TLS_RSA_WITH_3DES_EDE_CBC_SHA";
    case 0x002f:
      return "TLS_RSA_WITH_AES_128_CBC_SHA";
    case 0x0035:
      return "TLS_RSA_WITH_AES_256_CBC_SHA";
    case 0xc007:
      return "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA";
    case 0xc009:
      return "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA";
    case 0xc00a:
      return "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA";
    case 0xc011:
      return "TLS_ECDHE_RSA_WITH_RC4_128_SHA";
    case 0xc012:
      return "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA";
    case 0xc013:
      return "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA";
    case 0xc014:
      return "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA";
    case 0xc02f:
      return "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    case 0xc02b:
      return "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    default:
      return "Unknown " + std::to_string(id);
  }
}

}  // namespace nsq::nsqd
