// Token exchange (RFC 8693) in PingOne's shape: an application presents a subject token (and
// perhaps an actor token) issued by this environment and gets an access token for a custom
// resource, about the subject, naming the actor in `act` (docs/token-exchange.md).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "oauth/access_token.h"
#include "oauth/custom_claims.h"
#include "oauth/grants/grant.h"
#include "oauth/scope_resolver.h"

namespace tollgate::oauth {
namespace {

namespace json = boost::json;

// RFC 8693 §3: the token types. Tollgate issues, and takes, access tokens (JWTs).
constexpr std::string_view kAccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
constexpr std::string_view kJwtType = "urn:ietf:params:oauth:token-type:jwt";
constexpr size_t kMaxScopeLength = 4096;
constexpr size_t kMaxTypeLength = 256;

constexpr FormParam kParams[] = {
    {.name = "subject_token"},
    {.name = "subject_token_type", .max_length = kMaxTypeLength},
    {.name = "actor_token"},
    {.name = "actor_token_type", .max_length = kMaxTypeLength},
    {.name = "requested_token_type", .max_length = kMaxTypeLength},
    {.name = "scope", .max_length = kMaxScopeLength},
    {.name = "resource", .repeatable = true},  // RFC 8707
    {.name = "audience", .repeatable = true},  // RFC 8693 §2.1
};

bool IsTokenType(const std::string& type) { return type == kAccessTokenType || type == kJwtType; }

const json::string* StringClaim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

// A subject or actor token: one this environment issued, live as introspection sees it.
// RFC 8693 §2.2.2: an invalid or unacceptable token is invalid_request.
Result<json::object, OAuthError> VerifyPresented(const std::string& token, std::string_view what,
                                                 const GrantContext& context) {
  auto claims = VerifyAccessToken(token, context.env, context.clock, context.revoked);
  if (!claims) {
    return Fail(InvalidRequest("The " + std::string(what) + " is not valid",
                               std::string(what) + " failed verification"));
  }
  if (StringClaim(*claims, "sub") == nullptr) {
    return Fail(InvalidRequest("The " + std::string(what) + " has no subject"));
  }
  return std::move(*claims);
}

// RFC 8693 §4.4: a subject token with `may_act` names who may act for its subject; the actor
// (the actor token's subject, or the calling client when there is none) must match its `sub`,
// and its `iss` when given.
bool MayAct(const json::object& subject, std::string_view actor_sub, std::string_view actor_iss) {
  const json::value* may_act = subject.if_contains("may_act");
  if (may_act == nullptr) return true;
  if (!may_act->is_object()) return false;
  const json::object& m = may_act->get_object();
  const json::string* sub = StringClaim(m, "sub");
  const json::string* iss = StringClaim(m, "iss");
  if (sub == nullptr || *sub != actor_sub) return false;
  return iss == nullptr || *iss == actor_iss;
}

Result<TokenResponse, OAuthError> Issue(const TokenRequest& request, const GrantContext& context) {
  const std::string* subject_token = request.Param("subject_token");
  const std::string* subject_type = request.Param("subject_token_type");
  const std::string* actor_token = request.Param("actor_token");
  const std::string* actor_type = request.Param("actor_token_type");
  const std::string* requested = request.Param("requested_token_type");
  // RFC 8693 §2.1: subject_token and its type are required; actor_token_type comes with
  // actor_token and only with it.
  if (subject_token == nullptr) return Fail(InvalidRequest("subject_token is required"));
  if (subject_type == nullptr) return Fail(InvalidRequest("subject_token_type is required"));
  if (!IsTokenType(*subject_type)) {
    return Fail(InvalidRequest("subject_token_type must be " + std::string(kAccessTokenType) +
                               " or " + std::string(kJwtType)));
  }
  if ((actor_token == nullptr) != (actor_type == nullptr)) {
    return Fail(InvalidRequest("actor_token and actor_token_type go together"));
  }
  if (actor_type != nullptr && !IsTokenType(*actor_type)) {
    return Fail(InvalidRequest("actor_token_type must be " + std::string(kAccessTokenType) +
                               " or " + std::string(kJwtType)));
  }
  if (requested != nullptr && *requested != kAccessTokenType) {
    return Fail(InvalidRequest("requested_token_type must be " + std::string(kAccessTokenType)));
  }

  auto subject = VerifyPresented(*subject_token, "subject token", context);
  if (!subject) return Fail(std::move(subject).error());
  std::optional<json::object> actor;
  if (actor_token != nullptr) {
    auto verified = VerifyPresented(*actor_token, "actor token", context);
    if (!verified) return Fail(std::move(verified).error());
    actor = std::move(verified).value();
  }
  const std::string_view actor_sub =
      actor ? std::string_view(*StringClaim(*actor, "sub")) : context.app.app.id.str();
  if (!MayAct(*subject, actor_sub, context.env.issuer)) {
    return Fail(InvalidRequest("The actor may not act for the subject token's subject",
                               "may_act does not name the actor"));
  }

  // The target: RFC 8707 `resource` and RFC 8693 `audience` both name a custom resource by its
  // audience; the scopes are the application's own grants (SPEC §2.4's rules).
  std::vector<std::string> targets(request.Values("resource").begin(),
                                   request.Values("resource").end());
  for (const std::string& a : request.Values("audience")) {
    if (std::find(targets.begin(), targets.end(), a) == targets.end()) targets.push_back(a);
  }
  std::optional<std::string_view> scope;
  if (const std::string* sent = request.Param("scope")) scope = *sent;
  auto decision = ResolveScopes(context.app, scope, targets, context.api_url);
  if (!decision) return Fail(std::move(decision).error());
  if (std::find(decision->audiences.begin(), decision->audiences.end(), context.api_url) !=
      decision->audiences.end()) {
    return Fail(ValidationError(OAuthErrorCode::kInvalidTarget,
                                "Token exchange issues tokens for custom resources only"));
  }
  // The new token lives no longer than the tokens it was made from.
  const int64_t now = context.clock.NowSeconds();
  for (const json::object* from : {&*subject, actor ? &*actor : nullptr}) {
    if (from == nullptr) continue;
    const json::value* exp = from->if_contains("exp");
    if (exp == nullptr || !exp->is_number()) continue;  // verified tokens have one
    const auto until = exp->is_int64() ? exp->get_int64()
                                       : static_cast<int64_t>(std::floor(exp->to_number<double>()));
    decision->lifetime_seconds = std::min(decision->lifetime_seconds, until - now);
  }
  if (decision->lifetime_seconds <= 0) {
    return Fail(InvalidRequest("The subject token is not valid", "expires this second"));
  }

  // RFC 8693 §4.1: `act` names the current actor; the subject token's own `act` (the actors
  // before) nests inside it. Without an actor token the chain is kept as it was.
  json::object act;
  const json::value* prior = subject->if_contains("act");
  if (actor) {
    act["sub"] = actor_sub;
    if (prior != nullptr && prior->is_object()) act["act"] = *prior;
  } else if (prior != nullptr && prior->is_object()) {
    act = prior->get_object();
  }
  const Delegation delegation{.subject = *StringClaim(*subject, "sub"),
                              .act = act.empty() ? nullptr : &act,
                              .issued_at = now};

  const ClaimInputs inputs(request, context.app, *decision, &*subject, actor ? &*actor : nullptr);
  auto token =
      context.issuer.Issue(context.env, context.app, *decision, inputs.context(), &delegation);
  if (!token) return Fail(std::move(token).error());

  TokenResponse out;
  out.access_token = std::move(token->jwt);
  out.expires_in = token->expires_in;
  out.jti = std::move(token->jti);
  out.claims_left_out = token->claims_left_out;
  out.issued_token_type = kAccessTokenType;
  for (const auto& s : decision->scopes) {
    if (!out.scope.empty()) out.scope.push_back(' ');
    out.scope += s;
  }
  return out;
}

}  // namespace

extern const Grant kTokenExchangeGrant;
constexpr Grant kTokenExchangeGrant{
    .grant_type = "urn:ietf:params:oauth:grant-type:token-exchange",
    .app_grant = model::GrantType::kTokenExchange,
    // PingOne: CLIENT_SECRET_BASIC, CLIENT_SECRET_POST, CLIENT_SECRET_JWT, PRIVATE_KEY_JWT.
    .confidential_only = true,
    .params = kParams,
    .issue = Issue,
};

}  // namespace tollgate::oauth
