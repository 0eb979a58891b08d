#include "common/net/tls_files.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace nsq::net {

namespace ssl = boost::asio::ssl;

namespace {

// os.ReadFile: the whole file, or Go's *PathError text.
bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    // Go's syscall error strings are strerror's, lower-cased at the start.
    std::string why = std::strerror(errno);
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    error = "open " + path + ": " + why;
    return false;
  }
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

bool has_pem_block(const std::string& pem) {
  return pem.find("-----BEGIN ") != std::string::npos;
}

}  // namespace

bool load_key_pair(ssl::context& ctx, const std::string& cert_file, const std::string& key_file,
                   std::string& error) {
  std::string cert_pem, key_pem;
  if (!read_file(cert_file, cert_pem, error)) return false;
  if (!read_file(key_file, key_pem, error)) return false;
  if (!has_pem_block(cert_pem)) {
    error = "tls: failed to find any PEM data in certificate input";
    return false;
  }
  if (!has_pem_block(key_pem)) {
    error = "tls: failed to find any PEM data in key input";
    return false;
  }
  boost::system::error_code ec;
  ctx.use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) {
    error = "tls: failed to parse certificate: " + ec.message();
    return false;
  }
  ctx.use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) {
    // OpenSSL checks the pair while loading the key.
    error = ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH
                ? "tls: private key does not match public key"
                : "tls: failed to parse private key";
    return false;
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    error = "tls: private key does not match public key";
    return false;
  }
  return true;
}

CaLoadError load_root_cas(ssl::context& ctx, const std::string& ca_file, std::string& error) {
  std::string pem;
  if (!read_file(ca_file, pem, error)) return CaLoadError::kRead;
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
  return added > 0 ? CaLoadError::kNone : CaLoadError::kNoCertificates;
}

std::shared_ptr<ssl::context> build_client_tls_context(const ClientTlsOptions& o,
                                                       ClientTlsStage& stage, std::string& error) {
  stage = ClientTlsStage::kOk;
  error.clear();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx->native_handle(),
                                o.min_version != 0 ? o.min_version : TLS1_2_VERSION);
  if (!o.cert_file.empty() || !o.key_file.empty()) {
    if (!load_key_pair(*ctx, o.cert_file, o.key_file, error)) {
      stage = ClientTlsStage::kKeyPair;
      return nullptr;
    }
  }
  if (!o.root_ca_file.empty()) {
    switch (load_root_cas(*ctx, o.root_ca_file, error)) {
      case CaLoadError::kRead:
        stage = ClientTlsStage::kReadCa;
        return nullptr;
      case CaLoadError::kNoCertificates:
        stage = ClientTlsStage::kAppendCa;
        return nullptr;
      case CaLoadError::kNone:
        break;
    }
  } else {
    boost::system::error_code ignored;
    ctx->set_default_verify_paths(ignored);
  }
  ctx->set_verify_mode(o.insecure_skip_verify ? ssl::verify_none : ssl::verify_peer);
  return ctx;
}

}  // namespace nsq::net
