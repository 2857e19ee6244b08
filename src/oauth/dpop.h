#pragma once
// DPoP at the token endpoint (RFC 9449 §5): the proof a token request carries, checked against the
// request and against the proofs this node has already accepted, and the key thumbprint the
// token is then bound to (`cnf.jkt`, token_type DPoP). Proof syntax and signatures: jwt/dpop.h.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"
#include "common/thread_annotations.h"
#include "config/snapshot.h"
#include "oauth/oauth_error.h"
#include "oauth/token_request.h"

namespace tollgate::oauth {

class DpopProofs {
 public:
  // At most `max_per_environment` accepted proofs are remembered per environment (an entry
  // costs about 64 bytes), until their `iat` leaves the window; beyond that, new proofs of that
  // environment are answered temporarily_unavailable until older ones expire (docs/security.md).
  // `nonce_key` (32 bytes) keys the server nonces of environments that require them (RFC 9449
  // §8): every node given the same key accepts the others' nonces. Empty: a random key of this
  // process.
  DpopProofs(const Clock& clock, size_t max_per_environment, std::string nonce_key = {});

  struct Binding {
    std::string jkt;    // the JWK thumbprint to bind the token to (cnf.jkt); empty: none
    std::string nonce;  // the nonce to send back (DPoP-Nonce); empty: none
  };
  // The binding for the token: none when the request carries no proof and `app` does not
  // require one (dpopBoundAccessTokens). Otherwise the request must carry exactly one DPoP header
  // holding a valid proof (jwt::VerifyDpopProof) for POST to the environment's token endpoint,
  // whose jti (for its key) this node has not accepted before: else invalid_dpop_proof. When the
  // environment requires nonces (dpopNonceRequired), a valid proof without a current nonce is
  // use_dpop_nonce, which carries the nonce to use. Thread-safe; never blocks.
  Result<Binding, OAuthError> Check(const TokenRequest& request,
                                    const config::EnvironmentSnapshot& env,
                                    const config::AppEntry& app) const;

  // The nonce of `env` at `now`: base64url of the 60 s period's number (8 bytes) and a 16-byte
  // HMAC-SHA256 of the environment ID and that number. A nonce is accepted during its period and
  // the next one.
  std::string Nonce(const EnvId& env, TimePoint now) const;
  bool NonceIsCurrent(const EnvId& env, std::string_view nonce, TimePoint now) const;

  // Accepted proofs remembered for `env`, expired ones included until the next sweep.
  size_t SizeOf(const EnvId& env) const;

 private:
  // A proof's key thumbprint and jti, hashed (SHA-256, first 16 bytes).
  using Key = std::array<uint64_t, 2>;
  struct KeyHash {
    size_t operator()(const Key& k) const { return k[0]; }
  };
  struct Environment {
    mutable common::Mutex mu;
    std::unordered_map<Key, int64_t, KeyHash> until GUARDED_BY(mu);  // unix seconds
    int64_t last_sweep GUARDED_BY(mu) = 0;
  };
  enum class Use { kFirst, kReplay, kFull };
  Use Remember(const EnvId& env, const Key& key, int64_t until, int64_t now) const;
  Environment& Of(const EnvId& env) const;

  const Clock& clock_;
  const size_t max_per_environment_;
  const std::string nonce_key_;
  mutable common::SharedMutex mu_;
  mutable std::unordered_map<std::string, std::unique_ptr<Environment>> environments_
      GUARDED_BY(mu_);
};

}  // namespace tollgate::oauth
