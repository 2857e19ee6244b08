// SPEC §2.2 rule 6: CLIENT_SECRET_JWT and PRIVATE_KEY_JWT (RFC 7523 §3).
#include <algorithm>

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
constexpr std::string_view kHmacAlgs[] = {"HS256", "HS384", "HS512"};
// SPEC §2.2: PRIVATE_KEY_JWT's algorithms. Never an HS* one: a public key is no MAC key.
// RFC 9864: Ed25519 is EdDSA on an Ed25519 key under its fully-specified name (docs/compat/).
constexpr std::string_view kKeyAlgs[] = {"RS256", "RS384", "RS512", "PS256",
                                         "ES256", "ES384", "EdDSA", "Ed25519"};

int HmacBits(std::string_view alg) {
  if (alg == "HS256") return 256;
  if (alg == "HS384") return 384;
  if (alg == "HS512") return 512;
  return 0;
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

// The signature of `a` by the keys of a PRIVATE_KEY_JWT client: its inline jwks, or those its
// jwksUrl serves (a Pending while they are fetched).
Result<void, ErrorOrPending> CheckWithClientKeys(const jwt::Assertion& a,
                                                 const config::AppEntry& app,
                                                 const ClientAuthServices& services) {
  auto keys = ClientKeys(app, a.kid, services, Denied);
  if (!keys) return Fail(std::move(keys).error());
  if (CheckWithSet(a, **keys)) return {};
  return Fail(Denied("signature does not verify"));
}

// Rule 6 for an assertion whose signature `check_signature(assertion, app, services)` verifies
// with one of `algs`: claims, algorithm, signature, then the jti's first use.
Result<void, ErrorOrPending> VerifyAssertion(
    const PresentedCredentials& presented, const config::AppEntry& app,
    const config::EnvironmentSnapshot& env, const ClientAuthServices& services,
    std::span<const std::string_view> algs,
    Result<void, ErrorOrPending> (*check_signature)(const jwt::Assertion&, const config::AppEntry&,
                                                    const ClientAuthServices&)) {
  const jwt::Assertion& a = *presented.assertion;
  if (services.used_assertions == nullptr) return Fail(Denied("no replay cache configured"));
  const TimePoint now = services.clock.Now();

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
  if (std::find(algs.begin(), algs.end(), a.alg) == algs.end()) {
    return Fail(Denied("alg " + log::Clip(a.alg) + " is not allowed for " +
                       std::string(model::ToString(app.app.token_endpoint_auth_method))));
  }
  if (auto signed_ok = check_signature(a, app, services); !signed_ok) {
    return Fail(std::move(signed_ok).error());
  }

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

Result<void, ErrorOrPending> VerifySecretJwt(const PresentedCredentials& presented,
                                             const config::AppEntry& app,
                                             const config::EnvironmentSnapshot& env,
                                             const ClientAuthServices& services) {
  return VerifyAssertion(presented, app, env, services, kHmacAlgs,
                         [](const jwt::Assertion& a, const config::AppEntry& client,
                            const ClientAuthServices& with) -> Result<void, ErrorOrPending> {
                           if (CheckHmac(a, client, with.clock.Now())) return {};
                           return Fail(Denied("signature does not verify"));
                         });
}

Result<void, ErrorOrPending> VerifyPrivateKeyJwt(const PresentedCredentials& presented,
                                                 const config::AppEntry& app,
                                                 const config::EnvironmentSnapshot& env,
                                                 const ClientAuthServices& services) {
  return VerifyAssertion(presented, app, env, services, kKeyAlgs, CheckWithClientKeys);
}

}  // namespace

Result<std::shared_ptr<const jwt::JwkSet>, ErrorOrPending> ClientKeys(
    const config::AppEntry& app, std::string_view kid, const ClientAuthServices& services,
    OAuthError (*denied)(std::string reason)) {
  if (app.jwks) return app.jwks;
  if (app.app.jwks_url.empty() || services.remote_jwks == nullptr) {
    return Fail(ErrorOrPending(denied("the application has no usable keys")));
  }
  RemoteJwks::Answer keys = services.remote_jwks->Get(app.app.jwks_url, kid);
  switch (keys.outcome) {
    case RemoteJwks::Outcome::kOk:
      return std::move(keys.keys);
    case RemoteJwks::Outcome::kPending:  // not an answer: the keys are being fetched
      return Fail(ErrorOrPending(std::move(*keys.pending)));
    case RemoteJwks::Outcome::kBusy:
      return Fail(ErrorOrPending(ClientAuthError(OAuthErrorCode::kTemporarilyUnavailable,
                                                 "The server is busy; retry later", keys.debug)));
    case RemoteJwks::Outcome::kFailed:
      break;
  }
  return Fail(ErrorOrPending(denied(std::move(keys.debug))));
}

extern const Authenticator kClientSecretJwt;
constexpr Authenticator kClientSecretJwt{
    .method = model::AuthMethod::kClientSecretJwt,
    .mechanism = Mechanism::kAssertion,
    .discovery_name = "client_secret_jwt",
    .signing_algs = kHmacAlgs,
    .verify = VerifySecretJwt,
};

extern const Authenticator kPrivateKeyJwt;
constexpr Authenticator kPrivateKeyJwt{
    .method = model::AuthMethod::kPrivateKeyJwt,
    .mechanism = Mechanism::kAssertion,
    .discovery_name = "private_key_jwt",
    .needs_keys = true,
    .signing_algs = kKeyAlgs,
    .verify = VerifyPrivateKeyJwt,
};

}  // namespace tollgate::oauth
