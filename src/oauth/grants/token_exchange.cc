// Token exchange (RFC 8693) in PingOne's shape: an application presents a subject token (and
// perhaps an actor token), issued by this environment or by one of its trusted issuers, and
// gets an access token for a custom resource, about the subject, naming the actor in `act`
// (docs/token-exchange.md).
#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "jwt/jws.h"
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

// The algorithms a trusted issuer may sign with: public-key ones only (never "none" or HS*).
constexpr std::string_view kIssuerAlgs[] = {"RS256", "RS384", "RS512", "PS256",
                                            "ES256", "ES384", "EdDSA", "Ed25519"};
// Clock skew allowed on a trusted issuer's `nbf` (its clock is not ours). None on `exp`: the
// exchanged token may not outlive it.
constexpr int64_t kSkewSeconds = 60;

const json::string* StringClaim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

std::optional<json::object> ParseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// A compact JWS decoded but not verified: where it says it comes from, and its key.
struct Peeked {
  jwt::CompactParts parts;
  json::object header;
  json::object claims;
  std::string iss;
  std::string kid;
};

std::optional<Peeked> Peek(const std::string& token) {
  auto parts = jwt::SplitCompact(token, kMaxAccessTokenSize);
  if (!parts) return std::nullopt;
  auto header = ParseObject(parts->header_json);
  auto claims = ParseObject(parts->payload_json);
  if (!header || !claims) return std::nullopt;
  Peeked out{std::move(*parts), std::move(*header), std::move(*claims), {}, {}};
  if (const json::string* iss = StringClaim(out.claims, "iss")) out.iss = *iss;
  if (const json::string* kid = StringClaim(out.header, "kid")) out.kid = *kid;
  return out;
}

std::optional<int64_t> Seconds(const json::value* v) {
  if (v == nullptr || !v->is_number()) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  const double d = v->to_number<double>();
  if (!(d > -9e15 && d < 9e15)) return std::nullopt;
  return static_cast<int64_t>(std::floor(d));
}

// A JWT of trusted issuer `t` (RFC 7519 §7.2): a public-key algorithm and no `crit`; `iss`
// is the issuer, `sub` a string, `exp` not passed, `nbf` reached (with kSkewSeconds), `aud`
// holds the issuer's configured audience; a key of `keys` (by `kid` when it names one)
// verifies the signature. Its revocation is the issuer's business. The failure, for the log.
Result<void, std::string> CheckExternal(const Peeked& p, const model::TrustedIssuer& t,
                                        const jwt::JwkSet& keys, int64_t now) {
  const json::string* alg = StringClaim(p.header, "alg");
  if (alg == nullptr || std::find(std::begin(kIssuerAlgs), std::end(kIssuerAlgs),
                                  std::string_view(*alg)) == std::end(kIssuerAlgs)) {
    return Fail(std::string("alg is not a public-key algorithm"));
  }
  if (p.header.contains("crit")) return Fail(std::string("crit is not understood"));
  if (p.iss != t.issuer) return Fail(std::string("iss is not the trusted issuer"));
  const auto exp = Seconds(p.claims.if_contains("exp"));
  if (!exp || *exp <= now) return Fail(std::string("expired or no exp"));
  if (p.claims.contains("nbf")) {  // `now` is sane: the sums cannot overflow
    const auto nbf = Seconds(p.claims.if_contains("nbf"));
    if (!nbf || *nbf > now + kSkewSeconds) return Fail(std::string("nbf in the future"));
  }
  if (!AudienceContains(p.claims, t.audience)) return Fail(std::string("aud lacks the audience"));
  for (const jwt::Jwk& k : keys.keys) {
    if (!p.kid.empty() && k.kid != p.kid) continue;
    if (k.key->Verify(*alg, p.parts.signing_input, p.parts.signature)) return {};
  }
  return Fail(std::string("signature does not verify"));
}

// A subject or actor token, verified, with the issuer it comes from.
struct Presented {
  json::object claims;
  std::string issuer;
  bool external = false;  // from a trusted issuer, not this environment
};

// A subject or actor token: one this environment issued, live as introspection sees it, or a
// JWT of one of its enabled trusted issuers. RFC 8693 §2.2.2: an invalid or unacceptable token
// is invalid_request.
Result<Presented, OAuthError> VerifyPresented(const std::string& token, std::string_view what,
                                              const GrantContext& context) {
  auto invalid = [what](const std::string& why) {
    return InvalidRequest("The " + std::string(what) + " is not valid",
                          std::string(what) + ": " + why);
  };
  auto peeked = Peek(token);
  if (!peeked) return Fail(invalid("not a JWT"));
  Presented out;
  if (peeked->iss == context.env.issuer) {
    auto claims = VerifyAccessToken(token, context.env, context.clock, context.revoked);
    if (!claims) return Fail(invalid("failed verification"));
    out.claims = std::move(*claims);
  } else {
    const model::TrustedIssuer* trusted = context.env.FindTrustedIssuer(peeked->iss);
    if (trusted == nullptr) return Fail(invalid("its issuer is not trusted"));
    if (context.remote_jwks == nullptr) return Fail(invalid("no outbound fetches here"));
    // The keys were fetched (prepare() waited for them); an answer other than kOk is a failed
    // or refused fetch, or a key rotated away since.
    RemoteJwks::Answer keys = context.remote_jwks->Get(trusted->jwks_url, peeked->kid);
    if (keys.outcome != RemoteJwks::Outcome::kOk) return Fail(invalid("keys: " + keys.debug));
    auto checked = CheckExternal(*peeked, *trusted, *keys.keys, context.clock.NowSeconds());
    if (!checked) return Fail(invalid(checked.error()));
    out.claims = std::move(peeked->claims);
    out.external = true;
  }
  if (StringClaim(out.claims, "sub") == nullptr || StringClaim(out.claims, "sub")->empty()) {
    return Fail(InvalidRequest("The " + std::string(what) + " has no subject"));
  }
  out.issuer = peeked->iss;
  return out;
}

// Before client authentication: starts (and waits for) the fetch of a trusted issuer's keys
// that a subject or actor token needs.
std::optional<Pending> Prepare(const TokenRequest& request, const config::EnvironmentSnapshot& env,
                               RemoteJwks* remote_jwks) {
  if (remote_jwks == nullptr || env.trusted_issuers.empty()) return std::nullopt;
  for (std::string_view name : {"subject_token", "actor_token"}) {
    const std::string* token = request.Param(name);
    if (token == nullptr) continue;
    auto peeked = Peek(*token);
    if (!peeked || peeked->iss == env.issuer) continue;
    const model::TrustedIssuer* trusted = env.FindTrustedIssuer(peeked->iss);
    if (trusted == nullptr) continue;
    RemoteJwks::Answer keys = remote_jwks->Get(trusted->jwks_url, peeked->kid);
    if (keys.outcome == RemoteJwks::Outcome::kPending) return std::move(keys.pending);
  }
  return std::nullopt;
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

  auto presented_subject = VerifyPresented(*subject_token, "subject token", context);
  if (!presented_subject) return Fail(std::move(presented_subject).error());
  const json::object* subject = &presented_subject->claims;
  std::optional<Presented> presented_actor;
  if (actor_token != nullptr) {
    auto verified = VerifyPresented(*actor_token, "actor token", context);
    if (!verified) return Fail(std::move(verified).error());
    presented_actor = std::move(verified).value();
  }
  const json::object* actor = presented_actor ? &presented_actor->claims : nullptr;
  const std::string_view actor_sub =
      actor != nullptr ? std::string_view(*StringClaim(*actor, "sub")) : context.app.app.id.str();
  const std::string_view actor_iss =
      presented_actor ? std::string_view(presented_actor->issuer) : context.env.issuer;
  if (!MayAct(*subject, actor_sub, actor_iss)) {
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
  // Both were unexpired when verified; one that expired since (a second boundary passed) is
  // refused rather than outlived.
  for (const auto& [from, what] : {std::pair{subject, "subject token"}, {actor, "actor token"}}) {
    if (from == nullptr) continue;
    const auto until = Seconds(from->if_contains("exp"));
    if (!until) continue;  // verified tokens have one
    if (*until <= now) {
      return Fail(InvalidRequest("The " + std::string(what) + " is not valid", "expired"));
    }
    decision->lifetime_seconds = std::min(decision->lifetime_seconds, *until - now);
  }

  // RFC 8693 §4.1: `act` names the current actor; the subject token's own `act` (the actors
  // before) nests inside it. Without an actor token the chain is kept as it was.
  json::object act;
  const json::value* prior = subject->if_contains("act");
  if (actor != nullptr) {
    act["sub"] = actor_sub;
    if (presented_actor->external) act["iss"] = actor_iss;  // RFC 8693 §4.1: another issuer's
    if (prior != nullptr && prior->is_object()) act["act"] = *prior;
  } else if (prior != nullptr && prior->is_object()) {
    act = prior->get_object();
  }
  // The earlier actors a trusted issuer names are its statements: each without an `iss` gets
  // the issuer's, so none passes for one of this environment's (the chain is bounded by the
  // token's size).
  if (presented_subject->external) {
    json::object* level = actor != nullptr ? nullptr : &act;
    if (json::value* nested = act.if_contains("act"); actor != nullptr && nested != nullptr) {
      level = nested->if_object();
    }
    while (level != nullptr && !level->empty()) {
      if (!level->contains("iss")) (*level)["iss"] = presented_subject->issuer;
      json::value* next = level->if_contains("act");
      level = next != nullptr ? next->if_object() : nullptr;
    }
  }
  const Delegation delegation{.subject = *StringClaim(*subject, "sub"),
                              .act = act.empty() ? nullptr : &act,
                              .issued_at = now};

  const ClaimInputs inputs(request, context.app, *decision, subject, actor);
  auto token = context.issuer.Issue(context.env, context.app, *decision, inputs.context(),
                                    &delegation, context.confirmation);
  if (!token) return Fail(std::move(token).error());

  TokenResponse out = Answer(std::move(token).value(), *decision);
  out.issued_token_type = kAccessTokenType;
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
    .prepare = Prepare,
};

}  // namespace tollgate::oauth
