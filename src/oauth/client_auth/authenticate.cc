#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {

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
  const Authenticator* method = FindAuthenticator(app->app.token_endpoint_auth_method);
  if (method == nullptr) return Fail(denied("unknown tokenEndpointAuthMethod"));

  // Rule 4 (PingOne): the method is checked before the credentials, and says so.
  if (presented.mechanism != method->mechanism) {
    return Fail(InvalidClient(InvalidClientReason::kMethod, basic,
                              "presented mechanism differs from tokenEndpointAuthMethod"));
  }
  // Rules 5 and 6.
  if (auto verified = method->verify(presented, *app, env, services); !verified) {
    return Fail(std::move(verified).error());
  }
  return app;
}

}  // namespace tollgate::oauth
