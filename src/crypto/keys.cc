// PrivateKey: generation, PKCS#8 PEM, JWK export, JWS signing and self-signed certificates.

#include "crypto/keys.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <array>
#include <atomic>
#include <climits>
#include <vector>

#include "common/base64.h"
#include "common/thread_annotations.h"
#include "crypto/ossl_util.h"

namespace tollgate::crypto {

using internal::BnPtr;
using internal::Bytes;
using internal::FetchedMd;
using internal::Md;
using internal::MdCtxPtr;
using internal::MutableBytes;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;
using internal::TakeError;
using internal::X509Ptr;

namespace {

// One thread's signing state for one key, built on that thread's first Sign() with the key and
// reused by every later call: a private copy of the key (so that no OpenSSL object, not even
// RSA's blinding state, is shared between threads) and contexts initialized once, so a
// signature costs no provider look-up, no context copy and no lock.
struct ThreadSigner {
  PkeyPtr pkey;     // this thread's copy of the key
  PkeyCtxPtr pctx;  // RSA, P-256: EVP_PKEY_sign_init'ed on pkey, padding and digest set
  MdCtxPtr digest;  // RSA, P-256: SHA-256 of the signing input (EVP_PKEY_sign signs a hash)
  MdCtxPtr eddsa;   // Ed25519: EVP_DigestSignInit'ed on pkey (one-shot EVP_DigestSign)
};

// Threads get a small index for the per-key slots below, taken on a thread's first Sign() and
// given back when the thread exits (its ThreadSigners stay with the keys and serve the next
// thread that takes the index: at any time one index belongs to at most one live thread).
// Threads beyond kThreadSlots sign through the shared template (a context copy per call).
constexpr size_t kThreadSlots = 64;

class ThreadSlots {
 public:
  static ThreadSlots& Get() {
    static auto* slots = new ThreadSlots();  // never destroyed: threads exit after main
    return *slots;
  }
  size_t Acquire() {
    common::MutexLock lock(mu_);
    for (size_t i = 0; i < kThreadSlots; ++i) {
      if (!used_[i]) {
        used_[i] = true;
        return i;
      }
    }
    return kThreadSlots;
  }
  void Release(size_t i) {
    common::MutexLock lock(mu_);
    if (i < kThreadSlots) used_[i] = false;
  }

 private:
  common::Mutex mu_;
  std::array<bool, kThreadSlots> used_ GUARDED_BY(mu_){};
};

struct ThreadIndex {
  size_t index = ThreadSlots::Get().Acquire();
  ~ThreadIndex() { ThreadSlots::Get().Release(index); }
};

size_t ThisThreadSlot() {
  thread_local ThreadIndex index;
  return index.index;
}

}  // namespace

struct PrivateKey::Impl {
  PkeyPtr pkey;
  KeyKind kind = KeyKind::kRsa;
  // Initialized once for signing with this key (EVP_DigestSignInit with the pre-fetched
  // digest): the source of every thread's signer, and the fallback of threads without a slot,
  // which copy it into a per-thread context on each call. Only ever read: needs no lock.
  MdCtxPtr sign_template;
  size_t max_signature_size = 0;  // RSA modulus size, 72 (DER ECDSA P-256), 64 (Ed25519)
  PublicJwk jwk;
  // slots[i] is created and used only by the thread holding index i (see ThreadSlots); the
  // atomic only orders its publication for the destructor and for the index's next holder.
  std::array<std::atomic<ThreadSigner*>, kThreadSlots> slots{};

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    for (auto& slot : slots) delete slot.load(std::memory_order_acquire);
  }
};

namespace {

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 16384;
constexpr size_t kP256CoordinateSize = 32;
constexpr std::string_view kPkcs8PemLabel = "-----BEGIN PRIVATE KEY-----";

using BioPtr = std::unique_ptr<BIO, internal::Deleter<BIO_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, internal::Deleter<ECDSA_SIG_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, internal::Deleter<X509_EXTENSION_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, internal::Deleter<X509_NAME_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, internal::Deleter<ASN1_INTEGER_free>>;

// The digest a key signs with; nullptr for Ed25519, which hashes internally (RFC 8032).
const EVP_MD* SigningMd(KeyKind kind) {
  return kind == KeyKind::kEd25519 ? nullptr : FetchedMd(Md::kSha256);
}

// Refuses every passphrase request, so that an encrypted PEM fails instead of prompting on the
// terminal (OpenSSL's default callback).
int RefusePassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return -1; }

CryptoResult<void> RsaJwk(const EVP_PKEY* pkey, PublicJwk& jwk) {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1) {
    return Fail(TakeError("reading RSA modulus"));
  }
  BnPtr n_owner(n);
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    return Fail(TakeError("reading RSA exponent"));
  }
  BnPtr e_owner(e);
  jwk.kty = "RSA";
  jwk.alg = "RS256";
  // RFC 7518 §6.3.1.1: n and e are Base64urlUInt, without leading zero octets.
  jwk.n = Base64UrlEncode(internal::BnToBytes(n));
  jwk.e = Base64UrlEncode(internal::BnToBytes(e));
  return {};
}

CryptoResult<void> EcJwk(const EVP_PKEY* pkey, PublicJwk& jwk) {
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1) {
    return Fail(TakeError("reading EC public x"));
  }
  BnPtr x_owner(x);
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) {
    return Fail(TakeError("reading EC public y"));
  }
  BnPtr y_owner(y);
  // RFC 7518 §6.2.1.2/3: x and y are the full coordinate size, zero-padded on the left.
  std::string xb, yb;
  if (!internal::BnToPaddedBytes(x, kP256CoordinateSize, xb) ||
      !internal::BnToPaddedBytes(y, kP256CoordinateSize, yb)) {
    return Fail(CryptoError{"EC public point is not a P-256 point"});
  }
  jwk.kty = "EC";
  jwk.alg = "ES256";
  jwk.crv = "P-256";
  jwk.x = Base64UrlEncode(xb);
  jwk.y = Base64UrlEncode(yb);
  return {};
}

CryptoResult<void> Ed25519Jwk(const EVP_PKEY* pkey, PublicJwk& jwk) {
  std::string raw(32, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey, MutableBytes(raw), &len) != 1 || len != raw.size()) {
    return Fail(TakeError("reading Ed25519 public key"));
  }
  // RFC 8037 §2: kty OKP, crv Ed25519, x the 32-byte public key.
  jwk.kty = "OKP";
  jwk.alg = "EdDSA";
  jwk.crv = "Ed25519";
  jwk.x = Base64UrlEncode(raw);
  return {};
}

// Classifies a key: only RSA (2048..16384 bits), P-256 and Ed25519 are accepted.
CryptoResult<KeyKind> Classify(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    const int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) {
      return Fail(CryptoError{"RSA key size must be 2048..16384 bits"});
    }
    return KeyKind::kRsa;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    std::array<char, 64> group{};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                       &len) != 1) {
      return Fail(TakeError("EC key without a named curve"));
    }
    const std::string_view name(group.data(), len);
    if (name != "prime256v1" && name != "P-256") {
      return Fail(CryptoError{"EC key is not on P-256"});
    }
    return KeyKind::kEcP256;
  }
  if (EVP_PKEY_is_a(pkey, "ED25519")) return KeyKind::kEd25519;
  return Fail(CryptoError{"unsupported key type (want RSA, P-256 or Ed25519)"});
}

// One EVP_MD_CTX per thread, reused by every Sign() on that thread for any key. Holds no key
// reference between calls (reset after each use).
EVP_MD_CTX* ThreadSignContext() {
  thread_local MdCtxPtr ctx(EVP_MD_CTX_new());
  return ctx.get();
}

// Converts a DER ECDSA-Sig-Value to the JOSE form r||s, each `width` bytes (RFC 7518 §3.4).
CryptoResult<std::string> DerToJose(std::string_view der, size_t width) {
  const unsigned char* p = Bytes(der);
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return Fail(TakeError("decoding ECDSA signature"));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string rb, sb;
  if (!internal::BnToPaddedBytes(r, width, rb) || !internal::BnToPaddedBytes(s, width, sb)) {
    return Fail(CryptoError{"ECDSA signature component too large"});
  }
  return rb + sb;
}

// Builds a name from "CN=a,O=b". Values are UTF-8; no escaping, no empty parts.
CryptoResult<X509NamePtr> ParseDn(std::string_view dn) {
  X509NamePtr name(X509_NAME_new());
  if (!name) return Fail(TakeError("allocating X509 name"));
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  if (dn.empty()) return Fail(CryptoError{"empty subject DN"});
  while (true) {
    const size_t comma = dn.find(',');
    std::string_view part = trim(dn.substr(0, comma));
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) return Fail(CryptoError{"malformed subject DN"});
    const std::string key(trim(part.substr(0, eq)));
    const std::string_view value = trim(part.substr(eq + 1));
    if (key.empty() || value.empty() || value.size() > 256) {
      return Fail(CryptoError{"malformed subject DN"});
    }
    if (X509_NAME_add_entry_by_txt(name.get(), key.c_str(), MBSTRING_UTF8, Bytes(value),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return Fail(TakeError("unsupported subject DN attribute"));
    }
    if (comma == std::string_view::npos) break;
    dn.remove_prefix(comma + 1);
  }
  if (X509_NAME_entry_count(name.get()) == 0) return Fail(CryptoError{"empty subject DN"});
  return name;
}

CryptoResult<void> AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext) return Fail(TakeError("building certificate extension"));
  if (X509_add_ext(cert, ext.get(), -1) != 1) return Fail(TakeError("adding extension"));
  return {};
}

}  // namespace

PrivateKey::PrivateKey(std::unique_ptr<Impl> impl, KeyKind kind, int bits)
    : impl_(std::move(impl)), kind_(kind), bits_(bits) {}

PrivateKey::~PrivateKey() = default;

namespace {

struct Prepared {
  std::unique_ptr<PrivateKey::Impl> impl;
  KeyKind kind;
  int bits;
};

// Takes ownership of a key, checks its type and size, exports its JWK and prepares its
// signing template.
CryptoResult<Prepared> Prepare(PkeyPtr pkey) {
  auto kind = Classify(pkey.get());
  if (!kind) return Fail(std::move(kind).error());
  auto impl = std::make_unique<PrivateKey::Impl>();
  CryptoResult<void> exported = *kind == KeyKind::kRsa      ? RsaJwk(pkey.get(), impl->jwk)
                                : *kind == KeyKind::kEcP256 ? EcJwk(pkey.get(), impl->jwk)
                                                            : Ed25519Jwk(pkey.get(), impl->jwk);
  if (!exported) return Fail(std::move(exported).error());

  const EVP_MD* md = SigningMd(*kind);
  if (*kind != KeyKind::kEd25519 && md == nullptr) {
    return Fail(CryptoError{"SHA-256 is not available"});
  }
  impl->sign_template.reset(EVP_MD_CTX_new());
  if (!impl->sign_template) return Fail(TakeError("allocating signing context"));
  EVP_PKEY_CTX* pctx = nullptr;  // owned by sign_template
  if (EVP_DigestSignInit(impl->sign_template.get(), &pctx, md, nullptr, pkey.get()) != 1) {
    return Fail(TakeError("initializing signing context"));
  }
  // RFC 7518 §3.3: RS256 is RSASSA-PKCS1-v1_5 (OpenSSL's default, made explicit).
  if (*kind == KeyKind::kRsa && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return Fail(TakeError("selecting PKCS#1 v1.5 padding"));
  }
  const int max_size = EVP_PKEY_get_size(pkey.get());
  if (max_size <= 0) return Fail(TakeError("sizing signatures"));
  impl->max_signature_size = static_cast<size_t>(max_size);
  const int bits = *kind == KeyKind::kRsa ? EVP_PKEY_get_bits(pkey.get()) : 256;
  impl->pkey = std::move(pkey);
  impl->kind = *kind;
  return Prepared{std::move(impl), *kind, bits};
}

// Signs a fixed message with the key's private half and verifies it with its public half.
CryptoResult<void> RsaPairwiseTest(const PrivateKey::Impl& impl) {
  constexpr std::string_view kMessage = "tollgate RSA pairwise consistency test";
  MdCtxPtr sign(EVP_MD_CTX_new());
  MdCtxPtr verify(EVP_MD_CTX_new());
  if (!sign || !verify) return Fail(TakeError("allocating key check context"));
  std::string sig(impl.max_signature_size, '\0');
  size_t len = sig.size();
  if (EVP_MD_CTX_copy_ex(sign.get(), impl.sign_template.get()) != 1 ||
      EVP_DigestSign(sign.get(), MutableBytes(sig), &len, Bytes(kMessage), kMessage.size()) != 1) {
    return Fail(TakeError("private key is inconsistent"));
  }
  EVP_PKEY_CTX* pctx = nullptr;  // owned by verify
  if (EVP_DigestVerifyInit(verify.get(), &pctx, SigningMd(KeyKind::kRsa), nullptr,
                           impl.pkey.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
      EVP_DigestVerify(verify.get(), Bytes(sig), len, Bytes(kMessage), kMessage.size()) != 1) {
    return Fail(TakeError("private key is inconsistent"));
  }
  return {};
}

}  // namespace

CryptoResult<std::shared_ptr<const PrivateKey>> PrivateKey::Generate(KeyKind kind, int rsa_bits) {
  PkeyPtr pkey;
  switch (kind) {
    case KeyKind::kRsa:
      if (rsa_bits != 2048 && rsa_bits != 3072 && rsa_bits != 4096) {
        return Fail(CryptoError{"RSA key size must be 2048, 3072 or 4096"});
      }
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(rsa_bits)));
      break;
    case KeyKind::kEcP256:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      break;
    case KeyKind::kEd25519:
      pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
  }
  if (!pkey) return Fail(TakeError("generating key"));
  auto prepared = Prepare(std::move(pkey));
  if (!prepared) return Fail(std::move(prepared).error());
  return std::shared_ptr<const PrivateKey>(
      new PrivateKey(std::move(prepared->impl), prepared->kind, prepared->bits));
}

CryptoResult<std::shared_ptr<const PrivateKey>> PrivateKey::FromPem(std::string_view pem,
                                                                    std::string_view jws_alg) {
  std::string_view body = pem;
  while (!body.empty() && (body.front() == ' ' || body.front() == '\n' || body.front() == '\r' ||
                           body.front() == '\t')) {
    body.remove_prefix(1);
  }
  if (body.substr(0, kPkcs8PemLabel.size()) != kPkcs8PemLabel) {
    return Fail(CryptoError{"not an unencrypted PKCS#8 PEM private key"});
  }
  if (body.size() > INT_MAX) return Fail(CryptoError{"PEM too large"});
  BioPtr bio(BIO_new_mem_buf(body.data(), static_cast<int>(body.size())));
  if (!bio) return Fail(TakeError("allocating BIO"));
  PkeyPtr pkey(
      PEM_read_bio_PrivateKey_ex(bio.get(), nullptr, RefusePassphrase, nullptr, nullptr, nullptr));
  if (!pkey) return Fail(TakeError("parsing PEM private key"));

  // A key whose public half does not match its private half would sign with one and publish
  // the other. EC and Ed25519: OpenSSL's pairwise check (the public point from the scalar).
  // RSA: a pairwise consistency test instead (sign, then verify with the public n and e), the
  // property that matters here; OpenSSL's RSA pairwise check also tests p and q for primality,
  // about 0.1 s of CPU per key, which made start-up grow with the number of environments.
  const bool rsa = EVP_PKEY_is_a(pkey.get(), "RSA");
  if (!rsa) {
    PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
    if (!check) return Fail(TakeError("allocating key check context"));
    if (EVP_PKEY_pairwise_check(check.get()) != 1) {
      return Fail(TakeError("private key is inconsistent"));
    }
  }
  auto prepared = Prepare(std::move(pkey));
  if (!prepared) return Fail(std::move(prepared).error());
  if (!jws_alg.empty() && jws_alg != prepared->impl->jwk.alg) {
    // RFC 9864 §2.2: the fully-specified name of what an Ed25519 key signs, the same bytes as
    // EdDSA. Every other key type has exactly one name here.
    if (prepared->kind != KeyKind::kEd25519 || jws_alg != "Ed25519") {
      return Fail(CryptoError{"the JWS alg does not suit the key"});
    }
    prepared->impl->jwk.alg = std::string(jws_alg);
  }
  if (rsa) {
    if (auto tested = RsaPairwiseTest(*prepared->impl); !tested) {
      return Fail(std::move(tested).error());
    }
  }
  return std::shared_ptr<const PrivateKey>(
      new PrivateKey(std::move(prepared->impl), prepared->kind, prepared->bits));
}

std::string_view PrivateKey::JwsAlg() const { return impl_->jwk.alg; }

std::string PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    internal::ClearErrors();
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) return {};
  std::string pem(data, static_cast<size_t>(len));
  // The BIO's buffer held the private key: wipe it before it is freed.
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return pem;
}

PublicJwk PrivateKey::Public() const { return impl_->jwk; }

namespace {

// Builds this thread's signer for `impl`; nullptr (with the error queue cleared) on failure.
std::unique_ptr<ThreadSigner> NewThreadSigner(const PrivateKey::Impl& impl) {
  auto signer = std::make_unique<ThreadSigner>();
  signer->pkey.reset(EVP_PKEY_dup(impl.pkey.get()));
  if (!signer->pkey) return nullptr;
  if (impl.kind == KeyKind::kEd25519) {
    signer->eddsa.reset(EVP_MD_CTX_new());
    if (!signer->eddsa || EVP_DigestSignInit(signer->eddsa.get(), nullptr, nullptr, nullptr,
                                             signer->pkey.get()) != 1) {
      return nullptr;
    }
    return signer;
  }
  const EVP_MD* md = SigningMd(impl.kind);
  signer->digest.reset(EVP_MD_CTX_new());
  signer->pctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, signer->pkey.get(), nullptr));
  if (!signer->digest || !signer->pctx || EVP_PKEY_sign_init(signer->pctx.get()) != 1) {
    return nullptr;
  }
  // RFC 7518 §3.3: RS256 is RSASSA-PKCS1-v1_5 over a SHA-256 DigestInfo; ES256 signs the hash.
  if (impl.kind == KeyKind::kRsa &&
      EVP_PKEY_CTX_set_rsa_padding(signer->pctx.get(), RSA_PKCS1_PADDING) != 1) {
    return nullptr;
  }
  if (EVP_PKEY_CTX_set_signature_md(signer->pctx.get(), md) != 1) return nullptr;
  return signer;
}

// This thread's signer for `impl`, created on first use; nullptr for a thread without a slot
// or when the signer cannot be built (the caller falls back to the template).
ThreadSigner* ThisThreadSigner(PrivateKey::Impl& impl) {
  const size_t slot = ThisThreadSlot();
  if (slot >= kThreadSlots) return nullptr;
  std::atomic<ThreadSigner*>& cell = impl.slots[slot];
  ThreadSigner* signer = cell.load(std::memory_order_acquire);
  if (signer != nullptr) return signer;
  auto fresh = NewThreadSigner(impl);
  if (!fresh) {
    internal::ClearErrors();
    return nullptr;
  }
  signer = fresh.release();
  cell.store(signer, std::memory_order_release);
  return signer;
}

}  // namespace

CryptoResult<std::string> PrivateKey::Sign(std::string_view signing_input) const {
  std::string sig(impl_->max_signature_size, '\0');
  size_t len = sig.size();
  if (ThreadSigner* signer = ThisThreadSigner(*impl_)) {
    if (kind_ == KeyKind::kEd25519) {
      if (EVP_DigestSign(signer->eddsa.get(), MutableBytes(sig), &len, Bytes(signing_input),
                         signing_input.size()) != 1) {
        return Fail(TakeError("signing"));
      }
    } else {
      std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
      unsigned int digest_len = 0;
      if (EVP_DigestInit_ex2(signer->digest.get(), SigningMd(kind_), nullptr) != 1 ||
          EVP_DigestUpdate(signer->digest.get(), signing_input.data(), signing_input.size()) != 1 ||
          EVP_DigestFinal_ex(signer->digest.get(), digest.data(), &digest_len) != 1) {
        return Fail(TakeError("hashing the signing input"));
      }
      if (EVP_PKEY_sign(signer->pctx.get(), MutableBytes(sig), &len, digest.data(), digest_len) !=
          1) {
        return Fail(TakeError("signing"));
      }
    }
  } else {
    EVP_MD_CTX* ctx = ThreadSignContext();
    if (ctx == nullptr) return Fail(TakeError("allocating signing context"));
    // Copying the prepared template avoids the provider lookups of EVP_DigestSignInit on every
    // call; the copy is this thread's alone.
    if (EVP_MD_CTX_copy_ex(ctx, impl_->sign_template.get()) != 1) {
      EVP_MD_CTX_reset(ctx);
      return Fail(TakeError("copying signing context"));
    }
    const int ok =
        EVP_DigestSign(ctx, MutableBytes(sig), &len, Bytes(signing_input), signing_input.size());
    EVP_MD_CTX_reset(ctx);  // drop this thread's reference to the key
    if (ok != 1) return Fail(TakeError("signing"));
  }
  sig.resize(len);
  if (kind_ == KeyKind::kEcP256) return DerToJose(sig, kP256CoordinateSize);
  return sig;
}

CryptoResult<std::string> PrivateKey::SelfSignedCertificate(std::string_view subject_dn,
                                                            int days) const {
  if (days < 1 || days > 36500) return Fail(CryptoError{"certificate validity out of range"});
  auto name = ParseDn(subject_dn);
  if (!name) return Fail(std::move(name).error());

  X509Ptr cert(X509_new());
  if (!cert) return Fail(TakeError("allocating certificate"));
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return Fail(TakeError("set version"));

  // RFC 5280 §4.1.2.2: a positive serial of at most 20 octets: 16 random octets, top bit clear.
  std::array<unsigned char, 16> serial_bytes{};
  if (RAND_bytes(serial_bytes.data(), static_cast<int>(serial_bytes.size())) != 1) {
    return Fail(TakeError("serial"));
  }
  serial_bytes[0] = static_cast<unsigned char>(serial_bytes[0] & 0x7F);
  BnPtr serial_bn(BN_bin2bn(serial_bytes.data(), static_cast<int>(serial_bytes.size()), nullptr));
  if (!serial_bn) return Fail(TakeError("serial"));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(serial_bn.get(), nullptr));
  if (!serial || X509_set_serialNumber(cert.get(), serial.get()) != 1) {
    return Fail(TakeError("setting serial"));
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) == nullptr) {
    return Fail(TakeError("setting validity"));
  }
  if (X509_set_subject_name(cert.get(), name->get()) != 1 ||
      X509_set_issuer_name(cert.get(), name->get()) != 1) {
    return Fail(TakeError("setting names"));
  }
  if (X509_set_pubkey(cert.get(), impl_->pkey.get()) != 1) return Fail(TakeError("public key"));

  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                            std::pair{NID_key_usage, "critical,digitalSignature"},
                            std::pair{NID_subject_key_identifier, "hash"}}) {
    auto added = AddExtension(cert.get(), &v3, nid, value);
    if (!added) return Fail(std::move(added).error());
  }

  if (X509_sign(cert.get(), impl_->pkey.get(), SigningMd(kind_)) <= 0) {
    return Fail(TakeError("signing certificate"));
  }
  const int len = i2d_X509(cert.get(), nullptr);
  if (len <= 0) return Fail(TakeError("encoding certificate"));
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = MutableBytes(der);
  if (i2d_X509(cert.get(), &p) != len) return Fail(TakeError("encoding certificate"));
  return der;
}

}  // namespace tollgate::crypto
