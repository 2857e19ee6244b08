#include "oauth/access_token.h"

#include "jwt/jws.h"

namespace tollgate::oauth {
namespace {

namespace json = boost::json;

std::optional<json::object> ParseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

const json::string* StringMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? &v->as_string() : nullptr;
}

}  // namespace

bool AudienceContains(const json::object& claims, std::string_view audience) {
  const auto* aud = claims.if_contains("aud");
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->as_string() == audience;
  if (!aud->is_array()) return false;
  for (const auto& a : aud->as_array()) {
    if (a.is_string() && a.as_string() == audience) return true;
  }
  return false;
}

std::optional<json::object> VerifyAccessToken(std::string_view token,
                                              const config::EnvironmentSnapshot& env,
                                              const Clock& clock, const config::JtiCache* revoked,
                                              ClientCheck client_check) {
  auto parts = jwt::SplitCompact(token, kMaxAccessTokenSize);
  if (!parts) return std::nullopt;
  auto header = ParseObject(parts->header_json);
  auto claims = ParseObject(parts->payload_json);
  if (!header || !claims) return std::nullopt;
  const json::string* alg = StringMember(*header, "alg");
  const json::string* kid = StringMember(*header, "kid");
  if (alg == nullptr || kid == nullptr) return std::nullopt;

  const config::KeyEntry* key = env.FindKey(std::string_view(*kid));
  if (key == nullptr || key->key.revoked || std::string_view(*alg) != key->signer->JwsAlg() ||
      !key->verifier->Verify(key->signer->JwsAlg(), parts->signing_input, parts->signature)) {
    return std::nullopt;
  }
  const json::string* iss = StringMember(*claims, "iss");
  const json::string* jti = StringMember(*claims, "jti");
  const json::string* client_id = StringMember(*claims, "client_id");
  const auto* exp = claims->if_contains("exp");
  if (iss == nullptr || *iss != env.issuer || jti == nullptr || client_id == nullptr ||
      exp == nullptr || !exp->is_number() || !claims->contains("aud")) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  const double expires = exp->to_number<double>(ec);
  if (ec || static_cast<double>(clock.NowSeconds()) >= expires) return std::nullopt;
  if (revoked != nullptr && revoked->Contains(env.environment.id, std::string_view(*jti))) {
    return std::nullopt;
  }
  // SPEC §4: a token outlives nothing it was issued to. Its client must still exist, enabled.
  if (client_check == ClientCheck::kLive) {
    const config::AppEntry* app = env.FindApp(std::string_view(*client_id));
    if (app == nullptr || !app->app.enabled) return std::nullopt;
    // revokeTokens: every token issued to the client before its not-before instant is dead.
    if (app->app.tokens_not_before) {
      const auto* iat = claims->if_contains("iat");
      if (iat == nullptr || !iat->is_number()) return std::nullopt;
      const double issued = iat->to_number<double>(ec);
      if (ec || issued < static_cast<double>(ToUnixSeconds(*app->app.tokens_not_before))) {
        return std::nullopt;
      }
    }
  }
  return claims;
}

}  // namespace tollgate::oauth
