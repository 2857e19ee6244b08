// SPEC §2.2 rule 6: CLIENT_SECRET_JWT and PRIVATE_KEY_JWT (RFC 7523 §3).
#include "common/log.h"
#include "crypto/keys.h"
#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {
namespace {

OAuthError Denied(std::string debug) {
  return InvalidClient(InvalidClientReason::kCredentials, false,
                       "client_assertion: " + std::move(debug));
}

// RFC 7518 §3.2: CLIENT_SECRET_JWT's algorithms, keyed by the client secret.
int HmacBits(std::string_view alg) {
  if (alg == "HS256") return 256;
  if (alg == "HS384") return 384;
  if (alg == "HS512") return 512;
  return 0;
}

// SPEC §2.2: PRIVATE_KEY_JWT's algorithms. Never an HS* one: a public key is no MAC key.
bool IsPrivateKeyJwtAlg(std::string_view alg) {
  for (std::string_view a : {"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}) {
    if (alg == a) return true;
  }
  return false;
}

bool CheckHmac(const jwt::Assertion& a, const config::AppEntry& app, TimePoint now) {
  const int bits = HmacBits(a.alg);
  if (bits == 0) return false;
  const std::string& input = a.parts.signing_input;
  // Both MACs are always checked, so timing does not tell which secret matched. During a
  // rotation the previous secret signs too (PingOne keeps it valid until expiresAt).
  const bool current =
      !app.secret.empty() && crypto::HmacVerify(bits, app.secret, input, a.parts.signature);
  const bool previous = app.previous_secret.has_value() && now < app.previous_expires_at &&
                        crypto::HmacVerify(bits, *app.previous_secret, input, a.parts.signature);
  return current || previous;
}

// A key of `set` whose kid matches (every key when the assertion names none) verifies it.
// PublicKey::Verify refuses an alg that does not suit the key (RSA vs EC vs OKP, P-256 vs
// P-384) and an alg other than the one a JWK declares.
bool CheckWithSet(const jwt::Assertion& a, const jwt::JwkSet& set) {
  for (const jwt::Jwk& k : set.keys) {
    if (!a.kid.empty() && k.kid != a.kid) continue;
    if (k.key->Verify(a.alg, a.parts.signing_input, a.parts.signature)) return true;
  }
  return false;
}

}  // namespace

Result<void, ErrorOrPending> VerifyAssertion(const jwt::Assertion& a, const config::AppEntry& app,
                                             const config::EnvironmentSnapshot& env,
                                             const ClientAuthServices& services) {
  if (services.used_assertions == nullptr) return Fail(Denied("no replay cache configured"));
  const TimePoint now = services.clock->Now();

  // The claims first: they are cheap, and a stale or misdirected assertion must not cause a
  // jwksUrl fetch. The audience is this environment's issuer or one of its endpoints (the token
  // endpoint, and the introspection and revocation endpoints that also take assertions).
  const std::string introspect = env.issuer + "/introspect";
  const std::string revoke = env.issuer + "/revoke";
  jwt::AssertionRules rules;
  rules.client_id = app.app.id.str();
  rules.audiences = {env.token_endpoint, env.issuer, introspect, revoke};
  rules.now = now;
  if (auto claims = jwt::CheckAssertionClaims(a, rules); !claims) {
    return Fail(Denied(std::move(claims).error()));
  }

  bool signature_ok = false;
  if (app.app.token_endpoint_auth_method == model::AuthMethod::kClientSecretJwt) {
    if (HmacBits(a.alg) == 0) {
      return Fail(Denied("alg " + log::Clip(a.alg) + " is not HS256/384/512"));
    }
    signature_ok = CheckHmac(a, app, now);
  } else {
    if (!IsPrivateKeyJwtAlg(a.alg))
      return Fail(Denied("alg " + log::Clip(a.alg) + " is not allowed"));
    if (app.jwks) {
      signature_ok = CheckWithSet(a, *app.jwks);
    } else if (!app.app.jwks_url.empty() && services.remote_jwks != nullptr) {
      RemoteJwks::Answer keys = services.remote_jwks->Get(app.app.jwks_url, a.kid);
      switch (keys.outcome) {
        case RemoteJwks::Outcome::kOk:
          break;
        case RemoteJwks::Outcome::kPending:  // not an answer: the keys are being fetched
          return Fail(ErrorOrPending(std::move(*keys.pending)));
        case RemoteJwks::Outcome::kBusy:
          return Fail(ClientAuthError(OAuthErrorCode::kTemporarilyUnavailable,
                                      "The server is busy; retry later", keys.debug));
        case RemoteJwks::Outcome::kFailed:
          return Fail(Denied(keys.debug));
      }
      signature_ok = CheckWithSet(a, *keys.keys);
    } else {
      return Fail(Denied("the application has no usable keys"));
    }
  }
  if (!signature_ok) return Fail(Denied("signature does not verify"));

  // Rule 6, last: the jti is new. Only a verified assertion is remembered, so forged ones
  // cannot fill the cache or burn a client's jtis.
  switch (services.used_assertions->RememberNew(env.environment.id,
                                                config::UsedAssertionJti(app.app.id.str(), a.jti),
                                                jwt::RememberUntil(a, rules))) {
    case config::JtiCache::FirstUse::kNew:
      return {};
    case config::JtiCache::FirstUse::kReplay:
      return Fail(Denied("jti replayed"));
    case config::JtiCache::FirstUse::kFull:
      break;
  }
  return Fail(ClientAuthError(OAuthErrorCode::kTemporarilyUnavailable,
                              "The server is busy; retry later",
                              "the environment's used-assertion budget is full"));
}

}  // namespace tollgate::oauth
