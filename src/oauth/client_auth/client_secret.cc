// SPEC §2.2 rule 5: CLIENT_SECRET_BASIC and CLIENT_SECRET_POST (RFC 6749 §2.3.1), and NONE.
#include "common/constant_time.h"
#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {
namespace {

Result<void, ErrorOrPending> VerifySecret(const PresentedCredentials& presented,
                                          const config::AppEntry& app,
                                          const config::EnvironmentSnapshot& /*env*/,
                                          const ClientAuthServices& services) {
  if (CheckClientSecret(app, presented.secret, services.clock.Now())) return {};
  return Fail(InvalidClient(InvalidClientReason::kCredentials,
                            presented.mechanism == Mechanism::kBasic, "client secret mismatch"));
}

// A public client proves nothing; the grants that need a confidential client refuse it.
Result<void, ErrorOrPending> AcceptPublic(const PresentedCredentials& /*presented*/,
                                          const config::AppEntry& /*app*/,
                                          const config::EnvironmentSnapshot& /*env*/,
                                          const ClientAuthServices& /*services*/) {
  return {};
}

}  // namespace

bool CheckClientSecret(const config::AppEntry& app, std::string_view presented, TimePoint now) {
  // Both comparisons always run, so timing does not tell which secret matched.
  const bool current = !app.secret.empty() && ConstantTimeEquals(presented, app.secret);
  // PingOne: during a rotation the previous secret stays valid until its expiresAt.
  const bool previous = app.previous_secret.has_value() && now < app.previous_expires_at &&
                        ConstantTimeEquals(presented, *app.previous_secret);
  return current || previous;
}

extern const Authenticator kClientSecretBasic;
constexpr Authenticator kClientSecretBasic{
    .method = model::AuthMethod::kClientSecretBasic,
    .mechanism = Mechanism::kBasic,
    .discovery_name = "client_secret_basic",
    .verify = VerifySecret,
};

extern const Authenticator kClientSecretPost;
constexpr Authenticator kClientSecretPost{
    .method = model::AuthMethod::kClientSecretPost,
    .mechanism = Mechanism::kPost,
    .discovery_name = "client_secret_post",
    .verify = VerifySecret,
};

extern const Authenticator kNoClientAuth;
constexpr Authenticator kNoClientAuth{
    .method = model::AuthMethod::kNone,
    .mechanism = Mechanism::kNone,
    // Not listed: no endpoint of a client_credentials server serves a public client.
    .discovery_name = {},
    .confidential = false,
    .verify = AcceptPublic,
};

}  // namespace tollgate::oauth
