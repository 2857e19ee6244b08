#include "oauth/introspection.h"

#include <boost/json.hpp>
#include <vector>

#include "oauth/access_token.h"
#include "oauth/auth_activities.h"
#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {
namespace {

namespace json = boost::json;

constexpr const char* kInactive = R"({"active":false})";

void Report(const ClientAuthServices& services, const AuthOutcome& outcome) {
  if (services.activities != nullptr) services.activities->Record(outcome);
}

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
  if (!caller) {
    if (const auto* error = std::get_if<OAuthError>(&caller.error())) {
      Report(
          auth_,
          {.action = AuthAction::kIntrospection, .env = env, .request = request, .error = error});
    }
    return Fail(std::move(caller).error());
  }
  AuthOutcome outcome{.action = AuthAction::kIntrospection, .env = env, .request = request};
  if (caller->app != nullptr) {
    outcome.client_id = caller->app->app.id.str();
    outcome.client_name = caller->app->app.name;
  } else {
    outcome.client_id = caller->resource->id.str();
    outcome.client_name = caller->resource->name;
  }
  const std::string* token = request.Param("token");
  if (token == nullptr) {
    const OAuthError error = InvalidRequest("token is required");
    outcome.error = &error;
    Report(auth_, outcome);
    return Fail(error);
  }

  auto claims = VerifyAccessToken(*token, env, clock_, &revoked_);
  // A resource only sees the tokens addressed to it.
  if (!claims ||
      (caller->resource != nullptr && !AudienceContains(*claims, caller->resource->audience))) {
    outcome.detail = "inactive";
    Report(auth_, outcome);
    return std::string(kInactive);
  }
  json::object out;
  out["active"] = true;
  // RFC 9449 §6.2: a DPoP-bound token (cnf.jkt) is introspected as token_type DPoP; its `cnf`
  // comes with the other claims below.
  const json::value* cnf = claims->if_contains("cnf");
  const bool dpop = cnf != nullptr && cnf->is_object() && cnf->as_object().contains("jkt");
  out["token_type"] = dpop ? "DPoP" : "Bearer";
  for (std::string_view name :
       {"scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti", "env", "org"}) {
    if (const auto* v = claims->if_contains(name)) out[name] = *v;
  }
  // RFC 7662 §2.2 allows other members: the token's custom claims (resource attributes,
  // docs/token-customization.md), which cannot take the names above or `active`/`token_type`.
  for (const auto& [name, value] : *claims) {
    if (!out.contains(name)) out[name] = value;
  }
  outcome.detail = "active";
  if (const auto* jti = out.if_contains("jti"); jti != nullptr && jti->is_string()) {
    outcome.jti = jti->get_string();
  }
  Report(auth_, outcome);
  return json::serialize(out);
}

void Introspection::Refused(const OAuthError& error, const TokenRequest& request,
                            const config::EnvironmentSnapshot& env) const {
  Report(auth_,
         {.action = AuthAction::kIntrospection, .env = env, .request = request, .error = &error});
}

void Revocation::Refused(const OAuthError& error, const TokenRequest& request,
                         const config::EnvironmentSnapshot& env) const {
  Report(auth_,
         {.action = AuthAction::kRevocation, .env = env, .request = request, .error = &error});
}

Result<const config::AppEntry*, ErrorOrPending> Revocation::Authenticate(
    const TokenRequest& request, const config::EnvironmentSnapshot& env) const {
  auto app = AuthenticateClient(request, env, auth_);
  if (!app) {
    if (const auto* error = std::get_if<OAuthError>(&app.error())) {
      Report(auth_,
             {.action = AuthAction::kRevocation, .env = env, .request = request, .error = error});
    }
    return Fail(std::move(app).error());
  }
  if (request.Param("token") == nullptr) {
    const OAuthError error = InvalidRequest("token is required");
    Report(auth_, {.action = AuthAction::kRevocation,
                   .env = env,
                   .request = request,
                   .client_id = (*app)->app.id.str(),
                   .client_name = (*app)->app.name,
                   .error = &error});
    return Fail(error);
  }
  return app;
}

Result<void, OAuthError> Revocation::Revoke(const TokenRequest& request,
                                            const config::EnvironmentSnapshot& env,
                                            const config::AppEntry& app) const {
  AuthOutcome outcome{.action = AuthAction::kRevocation,
                      .env = env,
                      .request = request,
                      .client_id = app.app.id.str(),
                      .client_name = app.app.name};
  const std::string* token = request.Param("token");
  if (token == nullptr) return Fail(InvalidRequest("token is required"));  // Authenticate's
  auto claims = VerifyAccessToken(*token, env, clock_, nullptr);
  // RFC 7009 §2.2: invalid tokens, and tokens of other clients, are answered 200 too.
  boost::system::error_code ec;
  double exp = 0;
  if (claims && claims->at("client_id").as_string() == app.app.id.str()) {
    exp = claims->at("exp").to_number<double>(ec);
  }
  if (exp <= 0 || ec) {
    outcome.detail = "not a valid token of this client";
    Report(auth_, outcome);
    return {};
  }
  const TimePoint expires_at = FromUnixMillis(static_cast<int64_t>(exp) * 1000);
  const std::string_view jti = claims->at("jti").as_string();
  outcome.jti = jti;
  auto stored = revoked_.Remember(env.environment.id, std::string(jti), expires_at);
  if (!stored || *stored == config::JtiCache::Stored::kBudget) {
    OAuthError e = ServerError(stored ? "the environment's revoked-token budget is full"
                                      : "revocation not stored: " + stored.error().message);
    e.code = OAuthErrorCode::kTemporarilyUnavailable;
    e.description = "The revocation could not be recorded; retry later";
    outcome.error = &e;
    Report(auth_, outcome);
    return Fail(std::move(e));
  }
  outcome.detail = "revoked";
  Report(auth_, outcome);
  return {};
}

}  // namespace tollgate::oauth
