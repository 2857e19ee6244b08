#pragma once
// Shared plumbing of the management handlers (not part of the module's interface).

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "config/snapshot.h"
#include "config/store/holder.h"
#include "mgmt/api.h"
#include "mgmt/api_error.h"
#include "mgmt/authz.h"
#include "mgmt/body.h"
#include "mgmt/provisioning.h"
#include "storage/store.h"

namespace tollgate::mgmt {

struct Services {
  storage::Store& store;
  config::ConfigHolder& config;
  const Clock& clock;
  audit::ActivityLog* activities = nullptr;  // null: activities are not recorded
};

// One authenticated call, with the path split after /v1.
struct Call {
  const ApiRequest& request;
  const Caller& caller;
  std::shared_ptr<const config::Snapshot> snapshot;
  std::vector<std::string_view> segments;  // e.g. {"environments", "<id>", "applications"}
  std::string api_base;                    // <scheme>://<host>/v1

  std::string Href(std::string_view path) const { return api_base + std::string(path); }
};

using ApiResult = Result<ApiResponse, ApiError>;

ApiResponse JsonResponse(int status, const boost::json::value& body);
ApiResponse Created(const boost::json::object& body, const std::string& location);
ApiResponse NoContent();
// {"_embedded":{"<collection>":[...]},"count":N,"size":n,"_links":{"self","next"?}} with
// ?limit (default and maximum 1000) and an opaque ?cursor.
ApiResult ListResponse(const Call& call, std::string_view collection,
                       std::vector<boost::json::object> items, const std::string& self_href);

// The environment named by a path segment, for a caller who may use `permission` in it:
// 404 for a malformed or unknown ID when the caller could see it, 403 when no role reaches it.
Result<std::shared_ptr<const config::EnvironmentSnapshot>, ApiError> EnvironmentFor(
    const Call& call, std::string_view segment, Permission permission);

// Runs `body` in one store transaction, then refreshes the environment's snapshot so the token
// endpoint sees the change before the response is sent. `reference`: a kNotFound from the body
// names something the request referenced (400), not the path (404).
Result<void, ApiError> WriteAndRefresh(
    const Services& s, const EnvId& env,
    const std::function<storage::StoreResult<void>(storage::Transaction&)>& body,
    bool reference = false);

std::optional<std::string> PathId(std::string_view segment);
// The raw (still percent-encoded) value of `name` in a query string; std::nullopt when absent.
std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name);
boost::json::object Ref(const std::string& id);
boost::json::object Links(const std::string& self_href);
// True for an absolute http(s) URL with a host, shorter than 2048 bytes and without spaces,
// quotes, angle brackets or backslashes: what the jwksUrl fetcher takes (http/url_fetcher.h).
bool IsHttpUrl(std::string_view url);

// Handlers per path family; `call.segments` starts with "environments" or "roles".
ApiResult HandleRoles(const Services& s, const Call& call);
ApiResult HandleEnvironments(const Services& s, const Call& call);
ApiResult HandleApplications(const Services& s, const Call& call,
                             const config::EnvironmentSnapshot& env);
ApiResult HandleRoleAssignments(const Services& s, const Call& call,
                                const config::EnvironmentSnapshot& env,
                                const model::Application& app);
ApiResult HandleGrants(const Services& s, const Call& call, const config::EnvironmentSnapshot& env,
                       const model::Application& app);
ApiResult HandleResources(const Services& s, const Call& call,
                          const config::EnvironmentSnapshot& env);
// /resources/{resID}/attributes[/{attributeID}] of `resource` (resource_attributes.cc).
ApiResult HandleAttributes(const Services& s, const Call& call,
                           const config::EnvironmentSnapshot& env, const model::Resource& resource);
ApiResult HandleKeys(const Services& s, const Call& call, const config::EnvironmentSnapshot& env);
// /trustedIssuers[/{trustedIssuerID}] (trusted_issuers.cc).
ApiResult HandleTrustedIssuers(const Services& s, const Call& call,
                               const config::EnvironmentSnapshot& env);
// /trustedCertificateAuthorities[/{caID}] (trusted_cas.cc).
ApiResult HandleTrustedCas(const Services& s, const Call& call,
                           const config::EnvironmentSnapshot& env);
// activities.cc: the audit activity of a management call that wrote (or tried to), and
// GET /environments/{envID}/activities.
void RecordActivity(const Services& s, const Call& call, const ApiResponse& response);
ApiResult HandleActivities(const Services& s, const Call& call,
                           const config::EnvironmentSnapshot& env);
ApiResult HandleKeyRotationPolicies(const Services& s, const Call& call,
                                    const config::EnvironmentSnapshot& env);

// Key fields shared by keys and key rotation policies (keys.cc), read into `spec`: algorithm,
// keyLength, signatureAlgorithm, usageType and the subject DN named `dn_field`. An absent field
// keeps the spec's value; a new algorithm without keyLength gets its default length.
inline constexpr int64_t kMaxKeyValidityDays = 3650;
void ReadKeyFields(BodyReader& r, bool algorithm_required, std::string_view dn_field,
                   KeySpec& spec);
// PingOne's name for the signature algorithm of a key ("SHA256withRSA", ...).
std::string_view SignatureAlgorithm(model::KeyAlgorithm a);

}  // namespace tollgate::mgmt
