#pragma once
// The only module that includes OpenSSL. RAII key types, JWS signing and verification, JWKs,
// AES-256-GCM for data at rest, and digests.
//
// Nothing here throws. Functions that can fail for reasons a caller must handle return
// CryptoResult; the few that return plain values document what they return on the internal
// failures (allocation failure, a broken OpenSSL installation) that are their only way to fail.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, opaque outside crypto/

namespace tollgate::crypto {

struct CryptoError {
  std::string message;  // for logs; never holds key material
};

template <class T>
using CryptoResult = Result<T, CryptoError>;

enum class KeyKind { kRsa, kEcP256, kEd25519 };

// The public parameters of a key as a JWK (RFC 7517/7518/8037), each value base64url.
struct PublicJwk {
  std::string kty;        // "RSA", "EC", "OKP"
  std::string alg;        // "RS256", "ES256", "EdDSA", "Ed25519"; empty when the JWK names none
  std::string n, e;       // RSA
  std::string crv, x, y;  // EC ("P-256"; x, y) and OKP ("Ed25519"; x)
};

// A private signing key. Immutable after construction; Sign() is safe to call from many
// threads at once (each thread uses its own OpenSSL context, copied from one prepared per key).
class PrivateKey {
 public:
  // `rsa_bits` (kRsa only) must be 2048, 3072 or 4096.
  static CryptoResult<std::shared_ptr<const PrivateKey>> Generate(KeyKind kind,
                                                                  int rsa_bits = 2048);
  // An unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY") as written by ToPem(). Rejects any other
  // PEM type, an encrypted key (never prompts for a passphrase), a key whose private and public
  // halves disagree, and anything that is not RSA of 2048..16384 bits, P-256 or Ed25519.
  // `jws_alg` is the name the key signs under (JwsAlg(), its JWK's `alg`): empty for the key
  // type's own (RS256, ES256, EdDSA); an Ed25519 key also takes "Ed25519" (RFC 9864 §2.2). A
  // name that does not suit the key fails.
  static CryptoResult<std::shared_ptr<const PrivateKey>> FromPem(std::string_view pem,
                                                                 std::string_view jws_alg = {});

  ~PrivateKey();
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;

  KeyKind kind() const { return kind_; }
  // The RSA modulus size in bits; 256 for P-256 and for Ed25519.
  int bits() const { return bits_; }
  // The JWS `alg` this key signs with: RS256, ES256, or EdDSA / Ed25519 as FromPem() was told
  // (EdDSA for a generated key).
  std::string_view JwsAlg() const;
  // Unencrypted PKCS#8 PEM. Holds the private key: never log it, store it only sealed (Aead).
  // Empty only on an internal OpenSSL failure.
  std::string ToPem() const;
  // kty, alg (= JwsAlg()), and n/e (RSA, minimal big-endian, no leading zero octets),
  // crv/x/y (P-256, x and y each exactly 32 octets) or crv/x (Ed25519, 32 octets).
  PublicJwk Public() const;
  // A self-signed X.509 v3 certificate (DER) for `subject_dn` ("CN=Administrators", or
  // comma-separated attributes such as "CN=a,O=b"; no escaping), issued by the same name and
  // signed by this key (SHA-256, or pure Ed25519), valid from now for `days` (1..36500) days.
  // Random 127-bit serial; basicConstraints CA:FALSE, keyUsage digitalSignature, and a
  // subjectKeyIdentifier. Fails on a malformed name or out-of-range `days`.
  CryptoResult<std::string> SelfSignedCertificate(std::string_view subject_dn, int days) const;

  // The JWS signature (RFC 7515/7518) of `signing_input` for JwsAlg(): RSASSA-PKCS1-v1_5 with
  // SHA-256, ECDSA P-256 with SHA-256 as the 64-byte r||s (not DER), or Ed25519 (RFC 8037).
  // Fails only on an internal OpenSSL failure.
  CryptoResult<std::string> Sign(std::string_view signing_input) const;

  struct Impl;

 private:
  PrivateKey(std::unique_ptr<Impl> impl, KeyKind kind, int bits);
  std::unique_ptr<Impl> impl_;
  KeyKind kind_;
  int bits_;
};

// A public key for verifying JWS signatures, built from a JWK's public parameters.
// Immutable; Verify() is safe to call from many threads at once.
class PublicKey {
 public:
  // Accepts kty "RSA" (n of 2048..4096 bits, e = 65537; leading zero octets allowed in both),
  // "EC" with crv "P-256" or "P-384" (x and y at most 32 or 48 octets, left-padded with zeros
  // when shorter, a point on the curve) and "OKP" with crv
  // "Ed25519" (x of 32 octets). Members must be strict unpadded base64url. When `jwk.alg` is
  // set it must suit the key (RS*/PS* for RSA, ES256 for P-256, ES384 for P-384, EdDSA or
  // Ed25519 for Ed25519) and then Verify() accepts that alg only (RFC 7517 §4.4), where EdDSA
  // and Ed25519 count as one alg on an Ed25519 key (RFC 9864 §2.2: the same signature).
  static CryptoResult<std::shared_ptr<const PublicKey>> FromJwk(const PublicJwk& jwk);
  ~PublicKey();
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;
  // True when `signature` is a valid JWS signature by this key of `signing_input` under `alg`
  // (RS256/384/512, PS256/384/512 with salt length = hash length, ES256/384 as the fixed-size
  // r||s, EdDSA or Ed25519). False for any mismatch of alg and key, for "none" and any other
  // alg (Ed448 included), and for a signature of the wrong length. Never fails otherwise.
  bool Verify(std::string_view alg, std::string_view signing_input,
              std::string_view signature) const;
  // The key as OpenSSL holds it, for the rest of crypto/ (x509.cc); never null.
  const evp_pkey_st* Native() const;

  struct Impl;

 private:
  explicit PublicKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// AES-256-GCM (SPEC §7). Sealed form: 12-byte random nonce || ciphertext || 16-byte tag.
// Immutable; safe to use from many threads at once. The key is wiped on destruction.
class Aead {
 public:
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;
  static constexpr size_t kOverhead = kNonceSize + kTagSize;

  // `key` must be 32 bytes; anything else fails.
  static CryptoResult<Aead> Create(std::string_view key);
  ~Aead();
  Aead(const Aead&) = default;
  Aead(Aead&&) = default;
  Aead& operator=(const Aead&) = default;
  Aead& operator=(Aead&&) = default;

  // The sealed form, plaintext.size() + kOverhead bytes, with a fresh random nonce.
  // `aad` is authenticated, not stored. Empty only on an internal OpenSSL failure.
  std::string Seal(std::string_view plaintext, std::string_view aad) const;
  // The plaintext, or std::nullopt when `sealed` is shorter than kOverhead, was altered, was
  // sealed under another key, or `aad` differs from the one given to Seal().
  std::optional<std::string> Open(std::string_view sealed, std::string_view aad) const;

 private:
  explicit Aead(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

// Raw digests (20 and 32 bytes). Empty only on an internal OpenSSL failure.
std::string Sha1(std::string_view data);
std::string Sha256(std::string_view data);
// HMAC with SHA-256/384/512 (`bits` 256, 384, 512): the raw 32/48/64-byte MAC. Empty for any
// other `bits` and on an internal OpenSSL failure; compare MACs with HmacVerify(), not ==.
std::string Hmac(int bits, std::string_view key, std::string_view data);
// True when `mac` is the HMAC of `data` under `key` (as Hmac()), compared in constant time.
// False for unsupported `bits` and for an empty `mac`.
bool HmacVerify(int bits, std::string_view key, std::string_view data, std::string_view mac);
// `n` secure random bytes from OpenSSL's DRBG. Never fails: like common/random.h it aborts the
// process if the DRBG cannot be seeded, which only happens on a broken system.
std::string RandomBytes(size_t n);

}  // namespace tollgate::crypto
