#include <algorithm>

#include "common/constant_time.h"
#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {
namespace {

OAuthError Throttled(int64_t wait) {
  OAuthError e = ClientAuthError(OAuthErrorCode::kTemporarilyUnavailable,
                                 "Too many failed authentication attempts; retry later",
                                 "client throttled after repeated failures");
  e.retry_after_seconds = static_cast<int>(wait);
  return e;
}

const model::Resource* FindResource(const config::EnvironmentSnapshot& env, std::string_view id) {
  const auto& all = env.data->resources;
  auto it = std::find_if(all.begin(), all.end(), [&](const model::Resource& r) {
    return r.id.str() == id && r.type == model::ResourceType::kCustom;
  });
  return it == all.end() ? nullptr : &*it;
}

// A resource's introspectEndpointAuthMethod, as the Mechanism it takes.
bool ResourceMechanismMatches(Mechanism m, model::IntrospectAuthMethod method) {
  switch (method) {
    case model::IntrospectAuthMethod::kNone:
      return m == Mechanism::kNone;
    case model::IntrospectAuthMethod::kClientSecretBasic:
      return m == Mechanism::kBasic;
    case model::IntrospectAuthMethod::kClientSecretPost:
      return m == Mechanism::kPost;
  }
  return false;
}

}  // namespace

Result<const config::AppEntry*, ErrorOrPending> AuthenticateClient(
    const TokenRequest& request, const config::EnvironmentSnapshot& env,
    const ClientAuthServices& services) {
  FailureThrottle& throttle = services.throttle;
  auto presented = Present(request);
  if (!presented) return Fail(std::move(presented).error());
  // SPEC §2.2 rule 8: a blocked (client, address) is answered before its credentials are read.
  if (int64_t wait = throttle.RetryAfter(presented->client_id, request.remote_address); wait > 0) {
    return Fail(Throttled(wait));
  }
  auto app = Authenticate(*presented, env, services);
  if (!app) {
    const auto* error = std::get_if<OAuthError>(&app.error());
    if (error == nullptr) return app;  // Pending: not an outcome yet
    // Only real clients are tracked, so a spray of invented client_ids cannot grow the table.
    if (error->code == OAuthErrorCode::kInvalidClient &&
        env.FindApp(presented->client_id) != nullptr) {
      throttle.RecordFailure(presented->client_id, request.remote_address);
    }
    return Fail(std::move(app).error());
  }
  throttle.RecordSuccess(presented->client_id, request.remote_address);
  return app;
}

Result<IntrospectionCaller, ErrorOrPending> AuthenticateIntrospectionCaller(
    const TokenRequest& request, const config::EnvironmentSnapshot& env,
    const ClientAuthServices& services) {
  FailureThrottle& throttle = services.throttle;
  auto presented = Present(request);
  if (!presented) return Fail(std::move(presented).error());
  const model::Resource* resource = env.FindApp(presented->client_id) == nullptr
                                        ? FindResource(env, presented->client_id)
                                        : nullptr;
  if (resource == nullptr) {
    auto app = AuthenticateClient(request, env, services);
    if (!app) return Fail(std::move(app).error());
    // RFC 7662 §2.1: the endpoint requires authorization; a public client presents none.
    const Authenticator* method = FindAuthenticator((*app)->app.token_endpoint_auth_method);
    if (method == nullptr || !method->confidential) {
      return Fail(InvalidClient(InvalidClientReason::kMethod, false,
                                "a public client (NONE) may not introspect"));
    }
    return IntrospectionCaller{*app, nullptr};
  }
  if (int64_t wait = throttle.RetryAfter(presented->client_id, request.remote_address); wait > 0) {
    return Fail(Throttled(wait));
  }
  const bool basic = presented->mechanism == Mechanism::kBasic;
  if (!ResourceMechanismMatches(presented->mechanism, resource->introspect_endpoint_auth_method)) {
    return Fail(InvalidClient(InvalidClientReason::kMethod, basic,
                              "mechanism differs from introspectEndpointAuthMethod"));
  }
  if (resource->introspect_endpoint_auth_method != model::IntrospectAuthMethod::kNone &&
      (resource->secret.empty() || !ConstantTimeEquals(presented->secret, resource->secret))) {
    throttle.RecordFailure(presented->client_id, request.remote_address);
    return Fail(
        InvalidClient(InvalidClientReason::kCredentials, basic, "resource secret mismatch"));
  }
  throttle.RecordSuccess(presented->client_id, request.remote_address);
  return IntrospectionCaller{nullptr, resource};
}

}  // namespace tollgate::oauth
