#pragma once
// JWK Sets (RFC 7517 §5) holding client public keys, for PRIVATE_KEY_JWT (SPEC §2.2) and
// SELF_SIGNED_TLS_CLIENT_AUTH (RFC 8705 §2.2): an application's inline `jwks` and the documents
// served at its `jwksUrl`.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/keys.h"

namespace tollgate::jwt {

struct Jwk {
  std::string kid;  // empty when the JWK has none
  std::shared_ptr<const crypto::PublicKey> key;
};

// Immutable after parsing; safe to share between threads.
struct JwkSet {
  std::vector<Jwk> keys;
  bool HasKid(std::string_view kid) const;
};

enum class JwkSetMode {
  // Configuration time (the management API): every JWK must be a usable public signing key.
  kStrict,
  // A fetched document: JWKs that cannot be used are skipped (RFC 7517 §5: ignore what is not
  // understood), so one odd key does not lock out the others.
  kLenient,
};

constexpr size_t kMaxJwks = 32;  // keys per set; a larger set is refused in both modes

// Parses the JSON text of a JWK Set: an object whose "keys" is an array of JWK objects. Keys of
// type RSA (2048..4096 bits, e = 65537), EC (P-256, P-384) and OKP (Ed25519) are accepted, with the
// limits of crypto::PublicKey::FromJwk; `use`, when present, must be "sig"; a JWK with private key
// material ("d") is never used. kStrict refuses a set with any key that is not usable (private,
// symmetric "oct", unknown kty, bad parameters); kLenient skips such keys. Fails when the text is
// not a JWK Set, holds more than kMaxJwks keys, or no usable key remains. The error text is
// client-safe (it never quotes key material).
Result<JwkSet, std::string> ParseJwkSet(std::string_view json, JwkSetMode mode);

}  // namespace tollgate::jwt
