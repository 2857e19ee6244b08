// Asio's TLS with OpenSSL's headers (decision 0008): the server side of the HTTPS listener.
#include "http/tls.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <boost/asio/ssl.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/log.h"

namespace tollgate::http {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2's suites: ECDHE key exchange and AEAD ciphers only (Mozilla's "intermediate" list).
// TLS 1.3's suites are OpenSSL's defaults, all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

constexpr unsigned char kSessionIdContext[] = {'t', 'o', 'l', 'l', 'g', 'a', 't', 'e'};

// Session tickets are encrypted under a key of this process, replaced every kTicketKeyPeriod;
// the one before stays usable for decryption (its tickets are renewed), so a ticket lives at
// most two periods. Tickets are not shared between nodes: a client resuming at another node
// makes a full handshake.
constexpr auto kTicketKeyPeriod = std::chrono::hours(1);

struct TicketKey {
  std::array<unsigned char, 16> name{};
  std::array<unsigned char, 32> aes{};
  std::array<unsigned char, 32> hmac{};
};

class TicketKeys {
 public:
  TicketKeys() { current_ = Fresh(); }
  ~TicketKeys() {
    OPENSSL_cleanse(&current_, sizeof(current_));
    OPENSSL_cleanse(&previous_, sizeof(previous_));
  }
  TicketKeys(const TicketKeys&) = delete;
  TicketKeys& operator=(const TicketKeys&) = delete;

  // The key to encrypt a new ticket with.
  TicketKey ForEncryption() {
    std::lock_guard lock(mu_);
    Rotate();
    return current_;
  }
  // The key named `name`: 1 with the current key, 2 with the previous one (the ticket is then
  // renewed), 0 for an unknown or expired name (a full handshake follows).
  int ForDecryption(const unsigned char* name, TicketKey& out) {
    std::lock_guard lock(mu_);
    Rotate();
    if (std::memcmp(name, current_.name.data(), current_.name.size()) == 0) {
      out = current_;
      return 1;
    }
    if (has_previous_ && std::memcmp(name, previous_.name.data(), previous_.name.size()) == 0) {
      out = previous_;
      return 2;
    }
    return 0;
  }

 private:
  static TicketKey Fresh() {
    TicketKey k;
    if (RAND_bytes(k.name.data(), static_cast<int>(k.name.size())) != 1 ||
        RAND_bytes(k.aes.data(), static_cast<int>(k.aes.size())) != 1 ||
        RAND_bytes(k.hmac.data(), static_cast<int>(k.hmac.size())) != 1) {
      log::Error("TLS: no random bytes for session ticket keys");
      std::abort();
    }
    return k;
  }
  void Rotate() {
    const auto now = std::chrono::steady_clock::now();
    if (now - rotated_ < kTicketKeyPeriod) return;
    if (rotated_ != std::chrono::steady_clock::time_point{}) {
      previous_ = current_;
      has_previous_ = true;
      current_ = Fresh();
    }
    rotated_ = now;
  }

  std::mutex mu_;
  TicketKey current_, previous_;
  bool has_previous_ = false;
  std::chrono::steady_clock::time_point rotated_{};
};

// The ex_data slot of an SSL_CTX that points at its TicketKeys (Asio keeps its own verify callback
// in the "app data" slot, index 0, and deletes it with the context).
int TicketKeysIndex() {
  static const int kIndex = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return kIndex;
}

// SSL_CTX_set_tlsext_ticket_key_evp_cb: AES-256-CBC with HMAC-SHA256 under the key named in the
// ticket (RFC 5077 §4's recommended format, as OpenSSL's own keys).
int TicketKeyCallback(SSL* s, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                      EVP_MAC_CTX* mac, int encrypt) {
  auto* keys = static_cast<TicketKeys*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s), TicketKeysIndex()));
  if (keys == nullptr) return 0;
  TicketKey key;
  int result = 1;
  if (encrypt == 1) {
    key = keys->ForEncryption();
    std::memcpy(key_name, key.name.data(), key.name.size());
    if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
  } else {
    result = keys->ForDecryption(key_name, key);
    if (result == 0) return 0;
  }
  std::array<OSSL_PARAM, 3> params{
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac.data(), key.hmac.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  const bool ok =
      EVP_CipherInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes.data(), iv, encrypt) == 1 &&
      EVP_MAC_CTX_set_params(mac, params.data()) == 1;
  OPENSSL_cleanse(&key, sizeof(key));
  return ok ? result : -1;
}

// RFC 7301 §3.2: http/1.1 when the client offers it; a client offering only other protocols
// (h2 alone) gets the fatal no_application_protocol alert. No ALPN at all is fine.
int SelectAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
               const unsigned char* offered, unsigned int offered_length, void* /*arg*/) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, kHttp11, sizeof(kHttp11), offered,
                            offered_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// RFC 8705: the handshake asks for a client certificate and accepts whatever comes, or nothing.
// Whether it proves anything is for client authentication to say, per environment (its trusted
// CAs) or per client (its registered keys); the handshake still proves the key's possession
// (CertificateVerify). Replacing OpenSSL's chain verification, not only its verdict, means an
// unauthenticated client's chain costs no signature check here.
int AcceptAnyClientChain(X509_STORE_CTX* /*ctx*/, void* /*arg*/) { return 1; }

// The most a client's Certificate message may take: a leaf and a few intermediates (a long, as
// SSL_CTX_set_max_cert_list takes it).
constexpr long kMaxClientCertificateList = 32L * 1024;

// OpenSSL's reason for the last failure, for a one-line message.
std::string OpenSslReason(const boost::system::error_code& ec) {
  std::string reason = ec.message();
  ERR_clear_error();
  return reason;
}

// "" when `path` can be opened for reading, else why not.
std::string Unreadable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return std::strerror(errno);
  std::fclose(f);
  return {};
}

// A context and the ticket keys its callback reads, which must live as long as it does.
struct Holder {
  explicit Holder(std::shared_ptr<TicketKeys> k)
      : keys(std::move(k)), context(ssl::context::tls_server) {}
  std::shared_ptr<TicketKeys> keys;
  ssl::context context;
};

Result<std::shared_ptr<ssl::context>, std::string> Build(const TlsFiles& files,
                                                         const std::shared_ptr<TicketKeys>& keys) {
  for (const auto& [flag, path] :
       {std::pair("--tls-cert", &files.cert_file), std::pair("--tls-key", &files.key_file)}) {
    if (std::string why = Unreadable(*path); !why.empty()) {
      return Fail(std::string("cannot read ") + flag + " " + *path + ": " + why);
    }
  }
  auto holder = std::make_shared<Holder>(keys);
  ssl::context& ctx = holder->context;
  SSL_CTX* native = ctx.native_handle();
  // An encrypted key file is refused rather than prompting on the terminal for a passphrase.
  ctx.set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });
  boost::system::error_code ec;
  // The key first: loading a certificate that does not match it drops the key, which the check
  // below reports as a mismatch (the other order fails inside the key's loading, less clearly).
  ctx.use_private_key_file(files.key_file, ssl::context::pem, ec);
  if (ec) {
    return Fail("--tls-key " + files.key_file +
                " holds no usable unencrypted PEM private key: " + OpenSslReason(ec));
  }
  ctx.use_certificate_chain_file(files.cert_file, ec);
  if (ec) {
    return Fail("--tls-cert " + files.cert_file +
                " holds no usable PEM certificate: " + OpenSslReason(ec));
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return Fail("--tls-key " + files.key_file + " is not the private key of --tls-cert " +
                files.cert_file);
  }
  const bool ok =
      SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) == 1 &&
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) == 1 &&
      SSL_CTX_set_tlsext_ticket_key_evp_cb(native, TicketKeyCallback) == 1 &&
      TicketKeysIndex() >= 0 && SSL_CTX_set_ex_data(native, TicketKeysIndex(), keys.get()) == 1 &&
      SSL_CTX_set_num_tickets(native, 1) == 1 &&
      // Resumed sessions must name their context once peers are verified.
      SSL_CTX_set_session_id_context(native, kSessionIdContext, sizeof(kSessionIdContext)) == 1;
  if (!ok) {
    ERR_clear_error();
    return Fail(std::string("cannot configure TLS (OpenSSL)"));
  }
  SSL_CTX_set_options(
      native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  // Resumption is by ticket only: no per-session memory on the server.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_timeout(native,
                      static_cast<long>(std::chrono::seconds(kTicketKeyPeriod).count()));  // NOLINT
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  // Requested, never required; once per connection (no renegotiation asks again).
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, nullptr);
  SSL_CTX_set_cert_verify_callback(native, AcceptAnyClientChain, nullptr);
  SSL_CTX_set_max_cert_list(native, kMaxClientCertificateList);
  return std::shared_ptr<ssl::context>(holder, &holder->context);
}

}  // namespace

struct TlsServerContext::State {
  TlsFiles files;
  std::shared_ptr<TicketKeys> keys = std::make_shared<TicketKeys>();
  mutable std::mutex mu;
  std::shared_ptr<ssl::context> current;  // guarded by mu
};

TlsServerContext::TlsServerContext(std::unique_ptr<State> state) : state_(std::move(state)) {}
TlsServerContext::~TlsServerContext() = default;

Result<std::unique_ptr<TlsServerContext>, std::string> TlsServerContext::Load(TlsFiles files) {
  auto state = std::make_unique<State>();
  state->files = std::move(files);
  auto built = Build(state->files, state->keys);
  if (!built) return Fail(std::move(built).error());
  state->current = std::move(*built);
  return std::unique_ptr<TlsServerContext>(new TlsServerContext(std::move(state)));
}

std::shared_ptr<ssl::context> TlsServerContext::Current() const {
  std::lock_guard lock(state_->mu);
  return state_->current;
}

Result<void, std::string> TlsServerContext::Reload() {
  auto built = Build(state_->files, state_->keys);
  if (!built) return Fail(std::move(built).error());
  std::lock_guard lock(state_->mu);
  state_->current = std::move(*built);
  return {};
}

std::string TlsServerContext::Subject() const {
  auto ctx = Current();
  X509* cert = SSL_CTX_get0_certificate(ctx->native_handle());
  if (cert == nullptr) return {};
  std::array<char, 256> buffer{};
  X509_NAME_oneline(X509_get_subject_name(cert), buffer.data(), static_cast<int>(buffer.size()));
  return buffer.data();
}

}  // namespace tollgate::http
