#include "oauth/introspection.h"

#include <boost/json.hpp>
#include <vector>

#include "oauth/access_token.h"
#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {
namespace {

namespace json = boost::json;

constexpr const char* kInactive = R"({"active":false})";

std::vector<FormParam> CollectParams() {
  std::vector<FormParam> out(ClientAuthParams().begin(), ClientAuthParams().end());
  out.push_back({.name = "token"});  // RFC 7662 §2.1, RFC 7009 §2.1
  out.push_back({.name = "token_type_hint"});
  return out;
}

}  // namespace

std::span<const FormParam> Introspection::Params() {
  static const std::vector<FormParam> kParams = CollectParams();
  return kParams;
}

Result<std::string, ErrorOrPending> Introspection::Handle(
    const TokenRequest& request, const config::EnvironmentSnapshot& env) const {
  auto caller = AuthenticateIntrospectionCaller(request, env, auth_);
  if (!caller) return Fail(std::move(caller).error());
  const std::string* token = request.Param("token");
  if (token == nullptr) return Fail(InvalidRequest("token is required"));

  auto claims = VerifyAccessToken(*token, env, clock_, &revoked_);
  if (!claims) return std::string(kInactive);
  // A resource only sees the tokens addressed to it.
  if (caller->resource != nullptr && !AudienceContains(*claims, caller->resource->audience)) {
    return std::string(kInactive);
  }
  json::object out;
  out["active"] = true;
  out["token_type"] = "Bearer";
  for (std::string_view name :
       {"scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti", "env", "org"}) {
    if (const auto* v = claims->if_contains(name)) out[name] = *v;
  }
  return json::serialize(out);
}

Result<const config::AppEntry*, ErrorOrPending> Revocation::Authenticate(
    const TokenRequest& request, const config::EnvironmentSnapshot& env) const {
  auto app = AuthenticateClient(request, env, auth_);
  if (!app) return Fail(std::move(app).error());
  if (request.Param("token") == nullptr) return Fail(InvalidRequest("token is required"));
  return app;
}

Result<void, OAuthError> Revocation::Revoke(const TokenRequest& request,
                                            const config::EnvironmentSnapshot& env,
                                            const config::AppEntry& app) const {
  const std::string* token = request.Param("token");
  if (token == nullptr) return Fail(InvalidRequest("token is required"));
  auto claims = VerifyAccessToken(*token, env, clock_, nullptr);
  // RFC 7009 §2.2: invalid tokens, and tokens of other clients, are answered 200 too.
  if (!claims || claims->at("client_id").as_string() != app.app.id.str()) return {};
  boost::system::error_code ec;
  const double exp = claims->at("exp").to_number<double>(ec);
  if (ec) return {};
  const TimePoint expires_at = FromUnixMillis(static_cast<int64_t>(exp) * 1000);
  auto stored =
      revoked_.Remember(env.environment.id, std::string(claims->at("jti").as_string()), expires_at);
  if (!stored || *stored == config::JtiCache::Stored::kBudget) {
    OAuthError e = ServerError(stored ? "the environment's revoked-token budget is full"
                                      : "revocation not stored: " + stored.error().message);
    e.code = OAuthErrorCode::kTemporarilyUnavailable;
    e.description = "The revocation could not be recorded; retry later";
    return Fail(std::move(e));
  }
  return {};
}

}  // namespace tollgate::oauth
