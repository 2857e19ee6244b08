#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {
namespace {

using model::AuthMethod;

bool MechanismMatches(Mechanism m, AuthMethod method) {
  switch (method) {
    case AuthMethod::kClientSecretBasic:
      return m == Mechanism::kBasic;
    case AuthMethod::kClientSecretPost:
      return m == Mechanism::kPost;
    case AuthMethod::kClientSecretJwt:
    case AuthMethod::kPrivateKeyJwt:
      return m == Mechanism::kAssertion;
    case AuthMethod::kNone:
      return m == Mechanism::kNone;
  }
  return false;
}

}  // namespace

Result<const config::AppEntry*, ErrorOrPending> Authenticate(const PresentedCredentials& presented,
                                                             const config::EnvironmentSnapshot& env,
                                                             const ClientAuthServices& services) {
  const bool basic = presented.mechanism == Mechanism::kBasic;
  auto denied = [basic](std::string debug) {
    return InvalidClient(InvalidClientReason::kCredentials, basic, std::move(debug));
  };

  // Rule 3: unknown, disabled, or in another environment (the snapshot is per environment).
  const config::AppEntry* app = env.FindApp(presented.client_id);
  if (app == nullptr) return Fail(denied("unknown client_id"));
  if (!app->app.enabled) return Fail(denied("application disabled"));

  // Rule 4 (PingOne): the method is checked before the secret, and says so.
  if (!MechanismMatches(presented.mechanism, app->app.token_endpoint_auth_method)) {
    return Fail(InvalidClient(InvalidClientReason::kMethod, basic,
                              "presented mechanism differs from tokenEndpointAuthMethod"));
  }

  switch (app->app.token_endpoint_auth_method) {
    case AuthMethod::kClientSecretBasic:
    case AuthMethod::kClientSecretPost:
      // Rule 5.
      if (!CheckClientSecret(*app, presented.secret, services.clock->Now())) {
        return Fail(denied("client secret mismatch"));
      }
      return app;
    case AuthMethod::kClientSecretJwt:
    case AuthMethod::kPrivateKeyJwt:
      // Rule 6 (RFC 7523 §3).
      if (auto verified = VerifyAssertion(*presented.assertion, *app, env, services); !verified) {
        return Fail(std::move(verified).error());
      }
      return app;
    case AuthMethod::kNone:
      return app;  // public client: the grant check refuses client_credentials
  }
  return Fail(denied("unknown tokenEndpointAuthMethod"));
}

}  // namespace tollgate::oauth
