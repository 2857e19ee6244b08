#pragma once
// X.509 certificates of TLS clients (RFC 8705): parsing, the names a client is known by, and
// chain verification against an environment's trusted certificate authorities. Part of crypto,
// the only module that includes OpenSSL. Nothing here throws; everything is immutable once
// built and safe to use from many threads at once.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "crypto/keys.h"

namespace tollgate::crypto {

// The most a certificate may take in DER (and, for FromPem, in PEM text).
inline constexpr size_t kMaxCertificateBytes = size_t{16} * 1024;

class Certificate {
 public:
  // Exactly one DER certificate of at most kMaxCertificateBytes; trailing bytes fail.
  static CryptoResult<std::shared_ptr<const Certificate>> FromDer(std::string_view der);
  // Exactly one PEM block of type CERTIFICATE, surrounding whitespace allowed; a second block
  // of any type, or text outside the block other than whitespace, fails.
  static CryptoResult<std::shared_ptr<const Certificate>> FromPem(std::string_view pem);
  ~Certificate();
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  const std::string& Der() const { return der_; }
  // The certificate as one PEM block, "-----BEGIN CERTIFICATE-----\n...-----END
  // CERTIFICATE-----\n".
  std::string Pem() const;
  // SHA-256 of the DER, raw 32 bytes (RFC 8705 §3.1: x5t#S256 is its base64url).
  std::string Sha256Thumbprint() const;
  // RFC 4514 strings (most specific RDN first, e.g. "CN=client,O=Example,C=US"), UTF-8,
  // with RFC 4514 §2.4 escaping.
  std::string SubjectDn() const;
  std::string IssuerDn() const;
  std::string SerialNumberHex() const;  // lower-case hex, no leading zeros ("0" for zero)
  // Validity, clamped to what a TimePoint holds (1677 to 2262): RFC 5280's 99991231235959Z (no
  // expiry) reads as 2262.
  TimePoint NotBefore() const;
  TimePoint NotAfter() const;
  bool IsCa() const;  // basicConstraints with cA true
  // subjectAltName entries of each type, in certificate order. SanIp: raw 4 or 16 bytes.
  std::vector<std::string> SanDns() const;
  std::vector<std::string> SanUri() const;
  std::vector<std::string> SanEmail() const;
  std::vector<std::string> SanIp() const;
  // True when the subject public key is `key` (compared as keys, not as encodings).
  bool HasPublicKey(const PublicKey& key) const;
  // True when the subject is the distinguished name `normalized_dn` (NormalizeDn's output).
  bool SubjectIs(std::string_view normalized_dn) const;

  struct Impl;

 private:
  friend class TrustAnchors;
  Certificate(std::unique_ptr<Impl> impl, std::string der);
  std::unique_ptr<Impl> impl_;
  std::string der_;
};

using CertificatePtr = std::shared_ptr<const Certificate>;

// A distinguished name as an administrator writes it (RFC 4514, also accepting spaces around
// ',', '+' and '=' and attribute types in any case, by short name, long name or dotted OID)
// in one canonical form: equal names give equal strings, so RFC 8705 §2.1.2's
// tls_client_auth_subject_dn compares by value. Attribute values compare case-insensitively
// (ASCII) with runs of inner spaces folded, as X.520's caseIgnoreMatch. std::nullopt when `dn`
// is empty, not RFC 4514, or names an attribute type OpenSSL does not know.
std::optional<std::string> NormalizeDn(std::string_view dn);

// An IPv4 (dotted quad) or IPv6 (RFC 4291 text) address as its 4 or 16 bytes, for comparing
// with a certificate's iPAddress names; std::nullopt when `text` is neither.
std::optional<std::string> ParseIpAddress(std::string_view text);

// An environment's trusted certificate authorities.
class TrustAnchors {
 public:
  // `cas` may be empty (then nothing verifies). Each is a trust anchor as it is: a root or an
  // intermediate (partial chains count), whatever its issuer.
  static CryptoResult<std::shared_ptr<const TrustAnchors>> Create(
      std::span<const CertificatePtr> cas);
  ~TrustAnchors();
  TrustAnchors(const TrustAnchors&) = delete;
  TrustAnchors& operator=(const TrustAnchors&) = delete;

  // Succeeds when `leaf` chains to one of the anchors, possibly through `intermediates` (sent
  // by the client, not trusted themselves), at `now`: every signature, every validity period,
  // CA basic constraints and key usage of the issuers, and the leaf's extended key usage when
  // present must allow TLS client authentication (X509_PURPOSE_SSL_CLIENT). At most 10
  // certificates deep. The error says why, for logs.
  CryptoResult<void> Verify(const Certificate& leaf, std::span<const CertificatePtr> intermediates,
                            TimePoint now) const;

  struct Impl;

 private:
  explicit TrustAnchors(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::crypto
