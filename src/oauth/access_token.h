#pragma once
// Verification of access tokens this server issued (RFC 9068 §4), for introspection,
// revocation and the management API.

#include <boost/json.hpp>
#include <optional>
#include <string_view>

#include "common/clock.h"
#include "config/jti_cache.h"
#include "config/snapshot.h"

namespace tollgate::oauth {

// The longest access token this server issues or accepts: its standard claims plus up to
// config::kMaxCustomClaimBytes of custom claims, base64url-encoded, fit with room to spare.
inline constexpr size_t kMaxAccessTokenSize = size_t{32} * 1024;

// The claims of `token` when it is a compact JWS signed by a non-revoked key of `env` with the
// key's algorithm, `iss` is `env`'s issuer, `exp` is in the future, `jti`, `client_id` and
// `aud` are present, it is at most kMaxAccessTokenSize bytes, `client_id` names an enabled
// application of `env` (SPEC §4: a disabled or deleted client's tokens are dead, and so are those
// issued before its tokens_not_before; unless `client_check` defers it), and (when `revoked` is
// given) its `jti` is not revoked. std::nullopt for anything else; never throws.
enum class ClientCheck {
  kLive,      // the token's client must be an enabled application of `env` (SPEC §4)
  kDeferred,  // not checked here: the caller decides later, on a snapshot that may be newer
};
std::optional<boost::json::object> VerifyAccessToken(std::string_view token,
                                                     const config::EnvironmentSnapshot& env,
                                                     const Clock& clock,
                                                     const config::JtiCache* revoked,
                                                     ClientCheck client_check = ClientCheck::kLive);

// True when the `aud` claim (a string or an array of strings) contains `audience`.
bool AudienceContains(const boost::json::object& claims, std::string_view audience);

}  // namespace tollgate::oauth
