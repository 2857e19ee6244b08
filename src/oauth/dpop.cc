#include "oauth/dpop.h"

#include <cstring>

#include "crypto/keys.h"
#include "jwt/dpop.h"

namespace tollgate::oauth {
namespace {

constexpr std::string_view kMethod = "POST";  // the token endpoint's one method

OAuthError InvalidProof(std::string description) {
  return ValidationError(OAuthErrorCode::kInvalidDpopProof, std::move(description));
}

}  // namespace

Result<std::string, OAuthError> DpopProofs::Check(const TokenRequest& request,
                                                  const config::EnvironmentSnapshot& env,
                                                  const config::AppEntry& app) const {
  if (request.dpop.empty()) {
    if (!app.app.dpop_bound_access_tokens) return std::string();
    return Fail(InvalidProof("The application requires a DPoP proof (dpopBoundAccessTokens)"));
  }
  // §4.3 item 1: one header, one proof.
  if (request.dpop.size() > 1) return Fail(InvalidProof("More than one DPoP header was sent"));
  const jwt::DpopRules rules{.method = kMethod, .uri = env.token_endpoint, .now = clock_.Now()};
  auto proof = jwt::VerifyDpopProof(request.dpop.front(), rules);
  if (!proof) return Fail(InvalidProof("The DPoP proof is invalid: " + proof.error()));

  // §11.1: a proof is used once. jtis are the client's choice, so they count per key.
  const std::string digest = crypto::Sha256(proof->jkt + ' ' + proof->jti);
  Key key{};
  std::memcpy(key.data(), digest.data(), sizeof(key));
  const int64_t until = ToUnixSeconds(jwt::DpopRememberUntil(*proof, rules));
  switch (Remember(env.environment.id, key, until, ToUnixSeconds(rules.now))) {
    case Use::kFirst:
      return std::move(proof->jkt);
    case Use::kReplay:
      return Fail(InvalidProof("The DPoP proof has been used before (jti)"));
    case Use::kFull:
      break;
  }
  return Fail(ValidationError(OAuthErrorCode::kTemporarilyUnavailable,
                              "The server is busy; retry later",
                              "the environment's DPoP proof budget is full"));
}

DpopProofs::Environment& DpopProofs::Of(const EnvId& env) const {
  {
    common::ReaderLock lock(mu_);
    auto it = environments_.find(env.str());
    if (it != environments_.end()) return *it->second;
  }
  common::WriterLock lock(mu_);
  auto& slot = environments_[env.str()];
  if (!slot) slot = std::make_unique<Environment>();
  return *slot;
}

DpopProofs::Use DpopProofs::Remember(const EnvId& env, const Key& key, int64_t until,
                                     int64_t now) const {
  Environment& e = Of(env);
  common::MutexLock lock(e.mu);
  auto it = e.until.find(key);
  if (it != e.until.end() && it->second >= now) return Use::kReplay;
  // Expired entries go once a minute (the window's length), or at most once a second when the
  // budget is reached.
  const bool full = e.until.size() >= max_per_environment_;
  if (now - e.last_sweep >= 60 || (full && now - e.last_sweep >= 1)) {
    e.last_sweep = now;
    std::erase_if(e.until, [now](const auto& entry) { return entry.second < now; });
    it = e.until.find(key);
  }
  if (it != e.until.end()) {
    it->second = until;
    return Use::kFirst;
  }
  if (e.until.size() >= max_per_environment_) return Use::kFull;
  e.until.emplace(key, until);
  return Use::kFirst;
}

size_t DpopProofs::SizeOf(const EnvId& env) const {
  Environment& e = Of(env);
  common::MutexLock lock(e.mu);
  return e.until.size();
}

}  // namespace tollgate::oauth
