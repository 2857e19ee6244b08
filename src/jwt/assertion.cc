#include "jwt/assertion.h"

#include "jwt/json_util.h"

namespace tollgate::jwt {
namespace json = boost::json;

namespace {

using Reason = std::string;
using internal::NumericDate;
using internal::ParseObject;
using internal::RequiredString;

}  // namespace

Result<Assertion, std::string> DecodeAssertion(std::string_view token) {
  auto parts = SplitCompact(token, kMaxAssertionSize);
  if (!parts) return Fail(Reason("not a compact JWS of at most 8 KiB"));
  auto header = ParseObject(parts->header_json, "header");
  if (!header) return Fail(std::move(header).error());
  auto claims = ParseObject(parts->payload_json, "payload");
  if (!claims) return Fail(std::move(claims).error());

  Assertion out;
  const json::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return Fail(Reason("header alg missing"));
  out.alg = std::string(alg->as_string());
  // RFC 8725 §3.1: an unsecured JWS is never accepted as client authentication.
  if (out.alg.empty() || out.alg == "none") {
    return Fail(Reason("alg none"));
  }
  if (header->contains("crit")) return Fail(Reason("header crit is not supported"));
  if (const json::value* kid = header->if_contains("kid"); kid != nullptr) {
    if (!kid->is_string()) return Fail(Reason("header kid is not a string"));
    out.kid = std::string(kid->as_string());
  }

  auto iss = RequiredString(*claims, "iss");
  if (!iss) return Fail(std::move(iss).error());
  auto sub = RequiredString(*claims, "sub");
  if (!sub) return Fail(std::move(sub).error());
  auto jti = RequiredString(*claims, "jti");
  if (!jti) return Fail(std::move(jti).error());
  if (jti->size() > kMaxJtiSize) return Fail(Reason("claim jti is too long"));
  out.iss = std::move(*iss);
  out.sub = std::move(*sub);
  out.jti = std::move(*jti);

  const json::value* aud = claims->if_contains("aud");
  if (aud == nullptr) return Fail(Reason("claim aud is missing"));
  if (aud->is_string()) {
    out.aud.emplace_back(aud->as_string());
  } else if (aud->is_array() && !aud->as_array().empty()) {
    for (const json::value& a : aud->as_array()) {
      if (!a.is_string()) return Fail(Reason("claim aud holds a non-string"));
      out.aud.emplace_back(a.as_string());
    }
  } else {
    return Fail(Reason("claim aud is not a string or a non-empty array"));
  }

  const json::value* exp = claims->if_contains("exp");
  if (exp == nullptr) return Fail(Reason("claim exp is missing"));
  auto exp_value = NumericDate(*exp);
  if (!exp_value) return Fail(Reason("claim exp is not a NumericDate"));
  out.exp = *exp_value;
  if (const json::value* nbf = claims->if_contains("nbf"); nbf != nullptr) {
    out.nbf = NumericDate(*nbf);
    if (!out.nbf) return Fail(Reason("claim nbf is not a NumericDate"));
  }
  out.parts = std::move(*parts);
  return out;
}

Result<void, std::string> CheckAssertionClaims(const Assertion& a, const AssertionRules& rules) {
  // RFC 7523 §3 items 1 and 2: the client is both issuer and subject.
  if (a.iss != rules.client_id) return Fail(Reason("iss is not the client_id"));
  if (a.sub != rules.client_id) return Fail(Reason("sub is not the client_id"));
  // Item 3: the audience identifies this authorization server.
  bool audience = false;
  for (const std::string& aud : a.aud) {
    for (std::string_view accepted : rules.audiences) audience = audience || aud == accepted;
  }
  if (!audience) return Fail(Reason("aud names neither the token endpoint nor the issuer"));
  // Item 4: exp; items 5 and 6: nbf. SPEC §2.2 rule 6 allows 60 s of skew.
  const int64_t now = ToUnixSeconds(rules.now);
  const int64_t skew = rules.skew.count();
  if (a.exp + skew <= now) return Fail(Reason("expired"));
  if (a.exp > now + rules.max_lifetime.count() + skew) {
    return Fail(Reason("exp is more than an hour ahead"));
  }
  if (a.nbf && *a.nbf > now + skew) return Fail(Reason("not yet valid (nbf)"));
  return {};
}

TimePoint RememberUntil(const Assertion& a, const AssertionRules& rules) {
  return TimePoint(std::chrono::seconds(a.exp)) + rules.skew;
}

}  // namespace tollgate::jwt
