#pragma once
// The custom claims of an access token: the CUSTOM attributes of the resources in its audience
// (docs/token-customization.md), evaluated against the request.

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "claims/expression.h"
#include "config/snapshot.h"
#include "oauth/scope_resolver.h"
#include "oauth/token_request.h"

namespace tollgate::oauth {

// What the expressions of one token request read. The client assertion is decoded only when a
// claim of the decision reads it. Borrows `request` and `app`; not copyable (the context points
// into it).
class ClaimInputs {
 public:
  // `subject_token` and `actor_token`: the verified claims of a token exchange's tokens (null:
  // none), borrowed.
  ClaimInputs(const TokenRequest& request, const config::AppEntry& app,
              const ScopeDecision& decision, const boost::json::object* subject_token = nullptr,
              const boost::json::object* actor_token = nullptr);
  ClaimInputs(const ClaimInputs&) = delete;
  ClaimInputs& operator=(const ClaimInputs&) = delete;

  const claims::Context& context() const { return context_; }

 private:
  std::optional<boost::json::object> assertion_header_;
  std::optional<boost::json::object> assertion_;
  claims::Context context_;
};

// Appends `,"name":value` for each claim of `decision.claims` (resource order, then attribute
// order) to `out`, the claims object of a token before its closing brace. A name already
// appended is skipped (the management API keeps names consistent across an environment). A
// claim whose evaluation fails, or that would take the appended bytes past
// config::kMaxCustomClaimBytes, is left out. Returns how many were left out.
int AppendCustomClaims(const ScopeDecision& decision, const claims::Context& context,
                       std::string& out);

}  // namespace tollgate::oauth
