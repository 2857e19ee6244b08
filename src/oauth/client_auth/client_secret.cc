#include "common/constant_time.h"
#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {

bool CheckClientSecret(const config::AppEntry& app, std::string_view presented, TimePoint now) {
  // Both comparisons always run, so timing does not tell which secret matched.
  const bool current = !app.secret.empty() && ConstantTimeEquals(presented, app.secret);
  // PingOne: during a rotation the previous secret stays valid until its expiresAt.
  const bool previous = app.previous_secret.has_value() && now < app.previous_expires_at &&
                        ConstantTimeEquals(presented, *app.previous_secret);
  return current || previous;
}

}  // namespace tollgate::oauth
