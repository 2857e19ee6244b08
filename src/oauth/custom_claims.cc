#include "oauth/custom_claims.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <string_view>

#include "common/form.h"
#include "jwt/assertion.h"

namespace tollgate::oauth {
namespace {

std::optional<boost::json::object> ParseObject(const std::string& json) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

bool ReadsClientAssertion(const ScopeDecision& decision) {
  return std::any_of(decision.claims.begin(), decision.claims.end(),
                     [](const config::ResourceClaims* c) { return c->reads_client_assertion; });
}

}  // namespace

ClaimInputs::ClaimInputs(const TokenRequest& request, const config::AppEntry& app,
                         const ScopeDecision& decision, const boost::json::object* subject_token,
                         const boost::json::object* actor_token) {
  context_.client_id = app.app.id.str();
  context_.subject_token = subject_token;
  context_.actor_token = actor_token;
  context_.token_endpoint_auth_method = model::ToString(app.app.token_endpoint_auth_method);
  if (request.grant_type) context_.grant_type = *request.grant_type;
  context_.scope = request.Param("scope");
  // The assertion authenticated the client before this point, so it decodes; its claims are
  // read as sent (an assertion under CLIENT_SECRET_BASIC is not one: nothing is read).
  const bool by_assertion =
      app.app.token_endpoint_auth_method == model::AuthMethod::kClientSecretJwt ||
      app.app.token_endpoint_auth_method == model::AuthMethod::kPrivateKeyJwt;
  if (by_assertion && request.client_assertion && ReadsClientAssertion(decision)) {
    if (auto parts = jwt::SplitCompact(*request.client_assertion, jwt::kMaxAssertionSize)) {
      assertion_header_ = ParseObject(parts->header_json);
      assertion_ = ParseObject(parts->payload_json);
    }
    if (assertion_header_) context_.client_assertion_header = &*assertion_header_;
    if (assertion_) context_.client_assertion = &*assertion_;
  }
}

int AppendCustomClaims(const ScopeDecision& decision, const claims::Context& context,
                       std::string& out) {
  int left_out = 0;
  size_t budget = config::kMaxCustomClaimBytes;
  // Names are unique within a resource (the store's rule): only a later resource can repeat one
  // of an earlier resource.
  auto appended_before = [&decision](size_t resource, std::string_view name) {
    for (size_t r = 0; r < resource; ++r) {
      for (const config::ResourceClaim& c : decision.claims[r]->claims) {
        if (c.name == name) return true;
      }
    }
    return false;
  };
  for (size_t r = 0; r < decision.claims.size(); ++r) {
    for (const config::ResourceClaim& claim : decision.claims[r]->claims) {
      if (appended_before(r, claim.name)) continue;
      const size_t start = out.size();
      if (!claim.static_json.empty()) {
        out += claim.static_json;
      } else {
        out.push_back(',');
        AppendJsonString(out, claim.name);
        out.push_back(':');
        if (!claim.value.AppendJson(context, out)) {
          out.resize(start);
          ++left_out;
          continue;
        }
      }
      const size_t used = out.size() - start;
      if (used > budget) {
        out.resize(start);
        ++left_out;
        continue;
      }
      budget -= used;
    }
  }
  return left_out;
}

}  // namespace tollgate::oauth
