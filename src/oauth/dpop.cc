#include "oauth/dpop.h"

#include <cstring>

#include "common/base64.h"
#include "common/constant_time.h"
#include "crypto/keys.h"
#include "jwt/dpop.h"

namespace tollgate::oauth {
namespace {

constexpr std::string_view kMethod = "POST";  // the token endpoint's one method
constexpr int64_t kNoncePeriodSeconds = 60;
constexpr size_t kNonceMacSize = 16;

// The period's number as 8 big-endian bytes.
std::string PeriodBytes(int64_t period) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(period & 0xff);
    period >>= 8;
  }
  return out;
}

OAuthError InvalidProof(std::string description) {
  return ValidationError(OAuthErrorCode::kInvalidDpopProof, std::move(description));
}

}  // namespace

DpopProofs::DpopProofs(const Clock& clock, size_t max_per_environment, std::string nonce_key)
    : clock_(clock),
      max_per_environment_(max_per_environment),
      nonce_key_(nonce_key.empty() ? crypto::RandomBytes(32) : std::move(nonce_key)) {}

std::string DpopProofs::Nonce(const EnvId& env, TimePoint now) const {
  const std::string period = PeriodBytes(ToUnixSeconds(now) / kNoncePeriodSeconds);
  const std::string mac = crypto::Hmac(256, nonce_key_, env.str() + period);
  return Base64UrlEncode(period + mac.substr(0, kNonceMacSize));
}

bool DpopProofs::NonceIsCurrent(const EnvId& env, std::string_view nonce, TimePoint now) const {
  auto raw = Base64UrlDecode(nonce);
  if (!raw || raw->size() != 8 + kNonceMacSize) return false;
  const int64_t current = ToUnixSeconds(now) / kNoncePeriodSeconds;
  const std::string period = raw->substr(0, 8);
  if (period != PeriodBytes(current) && period != PeriodBytes(current - 1)) return false;
  const std::string mac = crypto::Hmac(256, nonce_key_, env.str() + period);
  return ConstantTimeEquals(std::string_view(mac).substr(0, kNonceMacSize),
                            std::string_view(*raw).substr(8));
}

Result<DpopProofs::Binding, OAuthError> DpopProofs::Check(const TokenRequest& request,
                                                          const config::EnvironmentSnapshot& env,
                                                          const config::AppEntry& app) const {
  if (request.dpop.empty()) {
    if (!app.app.dpop_bound_access_tokens) return Binding{};
    return Fail(InvalidProof("The application requires a DPoP proof (dpopBoundAccessTokens)"));
  }
  // §4.3 item 1: one header, one proof.
  if (request.dpop.size() > 1) return Fail(InvalidProof("More than one DPoP header was sent"));
  // RFC 8705 §5: a client of the mTLS alias names the alias.
  const std::string alias = env.mtls_issuer.empty() ? std::string() : env.mtls_issuer + "/token";
  const jwt::DpopRules rules{
      .method = kMethod, .uri = env.token_endpoint, .alias = alias, .now = clock_.Now()};
  auto proof = jwt::VerifyDpopProof(request.dpop.front(), rules);
  if (!proof) return Fail(InvalidProof("The DPoP proof is invalid: " + proof.error()));
  // §8: the nonce after every other check, so that a client retries only for the nonce.
  Binding out;
  if (env.environment.dpop_nonce_required) {
    out.nonce = Nonce(env.environment.id, rules.now);
    if (!proof->nonce || !NonceIsCurrent(env.environment.id, *proof->nonce, rules.now)) {
      OAuthError e = ValidationError(OAuthErrorCode::kUseDpopNonce,
                                     "Authorization server requires nonce in DPoP proof");
      e.dpop_nonce = std::move(out.nonce);
      return Fail(std::move(e));
    }
  }

  // §11.1: a proof is used once. jtis are the client's choice, so they count per key.
  const std::string digest = crypto::Sha256(proof->jkt + ' ' + proof->jti);
  Key key{};
  std::memcpy(key.data(), digest.data(), sizeof(key));
  const int64_t until = ToUnixSeconds(jwt::DpopRememberUntil(*proof, rules));
  switch (Remember(env.environment.id, key, until, ToUnixSeconds(rules.now))) {
    case Use::kFirst:
      out.jkt = std::move(proof->jkt);
      return out;
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
