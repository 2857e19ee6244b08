// The grants the token endpoint serves; discovery's grant_types_supported lists them in this
// order. Registering a grant: declare its Grant and add it to kGrants. Also the answer every
// grant gives once it has a token.
#include <algorithm>

#include "oauth/grants/grant.h"

namespace tollgate::oauth {

extern const Grant kClientCredentialsGrant;  // client_credentials.cc
extern const Grant kTokenExchangeGrant;      // token_exchange.cc

namespace {

constexpr const Grant* kGrants[] = {
    &kClientCredentialsGrant,
    &kTokenExchangeGrant,
};

}  // namespace

std::span<const Grant* const> Grants() { return kGrants; }

TokenResponse Answer(IssuedToken token, const ScopeDecision& decision) {
  TokenResponse out;
  out.access_token = std::move(token.jwt);
  out.expires_in = token.expires_in;
  out.jti = std::move(token.jti);
  out.claims_left_out = token.claims_left_out;
  for (const auto& s : decision.scopes) {
    if (!out.scope.empty()) out.scope.push_back(' ');
    out.scope += s;
  }
  return out;
}

const Grant* FindGrant(std::string_view grant_type) {
  auto it = std::find_if(std::begin(kGrants), std::end(kGrants),
                         [grant_type](const Grant* g) { return g->grant_type == grant_type; });
  return it == std::end(kGrants) ? nullptr : *it;
}

}  // namespace tollgate::oauth
