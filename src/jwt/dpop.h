#pragma once
// DPoP proofs (RFC 9449 §4): decoding, the checks of §4.3 that need no server state, and the
// JWK SHA-256 thumbprint (RFC 7638) a bound token's `cnf.jkt` carries (§6.1). The replay check
// (one use per `jti`) and server nonces belong to the caller (oauth/dpop.h).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "crypto/keys.h"

namespace tollgate::jwt {

constexpr size_t kMaxDpopProofSize = 8192;  // bytes of the compact JWS (RSA-4096 keys fit)
constexpr size_t kMaxDpopJtiSize = 256;
constexpr size_t kMaxDpopNonceSize = 256;

// The JWS algorithms a proof may use (§4.2: asymmetric only), as discovery publishes them in
// `dpop_signing_alg_values_supported`.
std::span<const std::string_view> DpopAlgorithms();

// A proof that passed every check of §4.3 that needs no server state.
struct DpopProof {
  std::string alg;
  std::string jkt;  // base64url SHA-256 JWK thumbprint (RFC 7638) of the header's `jwk`
  std::string jti, htm, htu;
  int64_t iat = 0;                   // NumericDate, whole seconds
  std::optional<std::string> nonce;  // §8: the server's nonce, when the client sent one
};

struct DpopRules {
  std::string_view method;  // the request's, for `htm` (case-sensitive, RFC 9110 §9.1)
  std::string_view uri;     // the URI the request was sent to, for `htu`
  // Another URI of the same endpoint `htu` may name (RFC 8705 §5's mTLS alias); empty: none.
  std::string_view alias = {};
  TimePoint now;
  std::chrono::seconds max_age{60};  // `iat` at most this far in the past
  std::chrono::seconds skew{60};     // `iat` at most this far in the future
};

// Decodes and verifies `token`, the value of one DPoP header (§4.3 items 2 to 9 and 11). Fails,
// with a reason the client may read (it names the rule, never key material), when:
// - it is not a compact JWS of at most kMaxDpopProofSize bytes with JSON object header and
//   payload, or the header has `crit`;
// - `typ` is not dpop+jwt, or `alg` is not one of DpopAlgorithms();
// - `jwk` is missing, holds private key members, or is not a public key of a supported type (kty
//   RSA, EC P-256/P-384, OKP Ed25519, with the limits of crypto::PublicKey::FromJwk) whose `alg`,
//   when it names one, is the header's;
// - `jti` (at most kMaxDpopJtiSize bytes), `htm` or `htu` is not a non-empty string, `iat` is not
//   a NumericDate, or `nonce`, when present, is not a non-empty string of at most
//   kMaxDpopNonceSize bytes;
// - `htm` is not `rules.method`; `htu`, without query and fragment, is not `rules.uri` after
//   normalization (RFC 3986 §6.2.2 and §6.2.3: case of scheme and host, percent-encoding, dot
//   segments, default port, empty path), nor `rules.alias` when set; `iat` is outside the window
//   of `rules`;
// - the signature does not verify with `jwk` (checked last: a stale or misdirected proof costs no
//   verification).
// Parsed public keys are kept per thread by thumbprint (a client signs many proofs with one
// key). Thread-safe.
Result<DpopProof, std::string> VerifyDpopProof(std::string_view token, const DpopRules& rules);

// The instant after which the proof's `iat` is outside the window, and its `jti` need not be
// remembered.
TimePoint DpopRememberUntil(const DpopProof& proof, const DpopRules& rules);

// RFC 7638 §3: base64url(SHA-256) of the JWK's required members in lexicographic order, without
// whitespace (RSA: e, kty, n; EC: crv, kty, x, y; OKP: crv, kty, x), the values as given. Empty
// for another kty.
std::string JwkThumbprint(const crypto::PublicJwk& jwk);

}  // namespace tollgate::jwt
