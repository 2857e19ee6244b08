#include "oauth/token_issuer.h"

#include <boost/json/serialize.hpp>

#include "common/form.h"
#include "common/uuid.h"
#include "jwt/jws.h"
#include "oauth/custom_claims.h"

namespace tollgate::oauth {

Result<IssuedToken, OAuthError> TokenIssuer::Issue(const config::EnvironmentSnapshot& env,
                                                   const config::AppEntry& app,
                                                   const ScopeDecision& decision,
                                                   const claims::Context& context,
                                                   const Delegation* delegation,
                                                   const Confirmation& confirmation) const {
  const config::KeyEntry* key = env.default_key;
  if (key == nullptr) return Fail(ServerError("environment has no default signing key"));

  // RFC 9068 §2.1: typ at+jwt; PingOne: x5t only when the application asks for it.
  std::string header = "{\"alg\":";
  AppendJsonString(header, key->signer->JwsAlg());
  header += ",\"kid\":";
  AppendJsonString(header, key->key.id.str());
  header += R"(,"typ":"at+jwt")";
  if (app.app.include_x5t && !key->x5t.empty()) {
    header += ",\"x5t\":";
    AppendJsonString(header, key->x5t);
  }
  header += "}";

  const int64_t iat = delegation != nullptr && delegation->issued_at > 0 ? delegation->issued_at
                                                                         : clock_.NowSeconds();
  IssuedToken out;
  out.jti = NewUuid();
  out.expires_in = decision.lifetime_seconds;

  // RFC 9068 §2.2 claims plus PingOne's client_id, env and org.
  std::string claims;
  claims.reserve(512);
  claims += "{\"iss\":";
  AppendJsonString(claims, env.issuer);
  claims += ",\"sub\":";
  AppendJsonString(claims, delegation != nullptr ? delegation->subject : app.app.id.str());
  claims += ",\"aud\":[";
  for (size_t i = 0; i < decision.audiences.size(); ++i) {
    if (i > 0) claims.push_back(',');
    AppendJsonString(claims, decision.audiences[i]);
  }
  claims += "],\"client_id\":";
  AppendJsonString(claims, app.app.id.str());
  if (!decision.scopes.empty()) {
    std::string scope;
    for (const auto& s : decision.scopes) {
      if (!scope.empty()) scope.push_back(' ');
      scope += s;
    }
    claims += ",\"scope\":";
    AppendJsonString(claims, scope);
  }
  claims += ",\"iat\":";
  AppendDecimal(claims, iat);
  claims += ",\"exp\":";
  AppendDecimal(claims, iat + decision.lifetime_seconds);
  claims += R"(,"jti":")";
  claims += out.jti;  // a UUID: nothing to escape
  claims += '"';
  claims += ",\"env\":";
  AppendJsonString(claims, env.environment.id.str());
  claims += ",\"org\":";
  AppendJsonString(claims, env.organization_id.str());
  if (delegation != nullptr && delegation->act != nullptr) {
    claims += ",\"act\":";
    claims += boost::json::serialize(*delegation->act);
  }
  if (!confirmation.jkt.empty() || !confirmation.x5t_s256.empty()) {
    // Both values are base64url: nothing to escape.
    claims += R"(,"cnf":{)";
    if (!confirmation.jkt.empty()) {
      claims += R"("jkt":")";
      claims += confirmation.jkt;
      claims += '"';
    }
    if (!confirmation.x5t_s256.empty()) {
      if (!confirmation.jkt.empty()) claims += ',';
      claims += R"("x5t#S256":")";
      claims += confirmation.x5t_s256;
      claims += '"';
    }
    claims += '}';
  }
  if (!decision.claims.empty()) out.claims_left_out = AppendCustomClaims(decision, context, claims);
  claims += "}";

  auto jwt = jwt::SignCompact(header, claims, *key->signer);
  if (!jwt) return Fail(ServerError("signing failed: " + jwt.error().message));
  out.jwt = std::move(jwt).value();
  return out;
}

}  // namespace tollgate::oauth
