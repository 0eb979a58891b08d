#include "common/net/tls_files.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/util/read_file.hpp"

namespace nsq::net {

namespace ssl = boost::asio::ssl;

namespace {

bool has_pem_block(const std::string& pem) {
  return pem.find("-----BEGIN ") != std::string::npos;
}

}  // namespace

util::Status load_key_pair(ssl::context& ctx, const std::string& cert_file,
                           const std::string& key_file) {
  auto cert_pem = util::read_file_as_go(cert_file);
  if (!cert_pem) return util::fail(cert_pem.error());
  auto key_pem = util::read_file_as_go(key_file);
  if (!key_pem) return util::fail(key_pem.error());
  if (!has_pem_block(*cert_pem)) {
    return util::fail("tls: failed to find any PEM data in certificate input");
  }
  if (!has_pem_block(*key_pem)) return util::fail("tls: failed to find any PEM data in key input");
  boost::system::error_code ec;
  ctx.use_certificate_chain(boost::asio::buffer(*cert_pem), ec);
  if (ec) return util::fail("tls: failed to parse certificate: " + ec.message());
  ctx.use_private_key(boost::asio::buffer(*key_pem), ssl::context::pem, ec);
  if (ec) {
    // OpenSSL checks the pair while loading the key.
    return util::fail(ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
                              X509_R_KEY_VALUES_MISMATCH
                          ? "tls: private key does not match public key"
                          : "tls: failed to parse private key");
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return util::fail("tls: private key does not match public key");
  }
  return {};
}

util::Result<int> load_root_cas(ssl::context& ctx, const std::string& ca_file) {
  auto read = util::read_file_as_go(ca_file);
  if (!read) return util::fail(read.error());
  const std::string& pem = *read;
  // AppendCertsFromPEM succeeds when at least one certificate parses.
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.native_handle());
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the bundle reads as a "no start line" error
  return added;
}

util::Result<std::shared_ptr<ssl::context>> build_client_tls_context(const ClientTlsOptions& o,
                                                                     ClientTlsStage& stage) {
  stage = ClientTlsStage::kOk;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(),
                                o.min_version != 0 ? o.min_version : TLS1_2_VERSION);
  if (!o.cert_file.empty() || !o.key_file.empty()) {
    if (auto pair = load_key_pair(*ctx, o.cert_file, o.key_file); !pair) {
      stage = ClientTlsStage::kKeyPair;
      return util::fail(pair.error());
    }
  }
  if (!o.root_ca_file.empty()) {
    auto added = load_root_cas(*ctx, o.root_ca_file);
    if (!added) {
      stage = ClientTlsStage::kReadCa;
      return util::fail(added.error());
    }
    if (*added == 0) {
      stage = ClientTlsStage::kAppendCa;
      return util::fail("no certificate in " + o.root_ca_file);
    }
  } else {
    boost::system::error_code ignored;
    ctx->set_default_verify_paths(ignored);
  }
  ctx->set_verify_mode(o.insecure_skip_verify ? ssl::verify_none : ssl::verify_peer);
  return ctx;
}

}  // namespace nsq::net
