#pragma once
// A management API (mgmt::ManagementApi) over a fresh in-memory store, for unit tests of
// src/mgmt that drive it through Handle() only.
//
// The store holds what `tollgate init` and POST /v1/environments create (mgmt::MakeEnvironment:
// built-in resources, the OIDC scopes, one RSA-2048 default key): an organization, environment
// E ("Administrators") and environment F ("Other"), and four WORKER callers in E, one per role
// of SPEC §6, each holding that role on E (the Organization Admin on the organization). Time is
// a FakeClock; bearer tokens are signed by oauth::TokenIssuer with E's default key.
//
// Environment key pairs are generated once per process and reused (RSA generation costs tenths
// of a second); every harness has its own store, so IDs repeat across tests, never within one.
// Not thread-safe.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/activity_log.h"
#include "common/clock.h"
#include "config/snapshot.h"
#include "config/store/holder.h"
#include "mgmt/api.h"
#include "oauth/token_issuer.h"
#include "storage/store.h"

namespace tollgate::testutil {

// The four built-in roles (SPEC §6).
enum class Role { kOrganizationAdmin, kEnvironmentAdmin, kAppDeveloper, kReadOnly };
inline constexpr Role kAllRoles[] = {Role::kOrganizationAdmin, Role::kEnvironmentAdmin,
                                     Role::kAppDeveloper, Role::kReadOnly};
const char* RoleName(Role role);
const RoleId& RoleIdOf(Role role);

// One answer of Handle(), with its body parsed.
struct ApiReply {
  int status = 0;
  std::string body;
  boost::json::value json;  // null when the body is empty or not JSON
  std::vector<std::pair<std::string, std::string>> headers;

  std::optional<std::string> Header(std::string_view name) const;
  // The string member `key` of the body object; "" when absent or not a string.
  std::string Str(std::string_view key) const;
  // The body object; throws std::runtime_error when it is not one.
  const boost::json::object& Object() const;
};

class MgmtHarness {
 public:
  static constexpr int64_t kStartMillis = 1'800'000'000'000;  // 2027-01-15T08:00:00Z

  MgmtHarness();
  ~MgmtHarness();
  MgmtHarness(const MgmtHarness&) = delete;
  MgmtHarness& operator=(const MgmtHarness&) = delete;

  FakeClock& clock() { return clock_; }
  storage::Store& store() { return *store_; }
  config::ConfigHolder& config() { return *config_; }
  const mgmt::ManagementApi& api() const { return *api_; }
  audit::ActivityLog& activities() { return *activities_; }

  const std::string& org_id() const { return org_id_; }
  const std::string& env_e() const { return env_e_; }  // the callers' environment
  const std::string& env_f() const { return env_f_; }  // reached by the Organization Admin only
  const std::string& caller_id(Role role) const;

  // "Bearer <JWT>" for application `app_id` of environment `env_id`, issued now, signed by the
  // environment's default key, with `aud` = `audiences` (the api-url by default).
  std::string Bearer(const std::string& env_id, const std::string& app_id,
                     std::vector<std::string> audiences = {}, int64_t lifetime_seconds = 3600);
  std::string Bearer(Role role) { return Bearer(env_e_, caller_id(role)); }

  // Handle() of one request; a non-empty body is sent as application/json.
  ApiReply Call(Role as, std::string_view method, std::string_view path,
                std::string_view body = "");
  ApiReply Call(Role as, std::string_view method, std::string_view path,
                const boost::json::value& body);
  // Handle() of `request` as it is (base_url is filled in when empty).
  ApiReply Send(mgmt::ApiRequest request);

  // Objects created through the API as the Organization Admin; each throws std::runtime_error
  // (which fails the test) unless the API answers 201. Return the new object's id.
  std::string CreateApp(const std::string& env, const boost::json::object& body);
  std::string CreateResource(const std::string& env, const std::string& name,
                             const std::vector<std::string>& scopes = {});
  std::string CreateScope(const std::string& env, const std::string& resource,
                          const std::string& name);
  std::string CreateGrant(const std::string& env, const std::string& app,
                          const std::string& resource, const std::vector<std::string>& scopes);
  std::string AssignRole(const std::string& env, const std::string& app, Role role,
                         const std::string& scope_id);
  // A WORKER application in `env` holding `roles` (role, scope id).
  std::string CreateWorker(const std::string& env, const std::string& name,
                           const std::vector<std::pair<Role, std::string>>& roles);
  // The id of scope `name` of resource `resource` (read from the snapshot).
  std::string ScopeId(const std::string& env, const std::string& resource,
                      const std::string& name) const;
  // The id of the built-in resource of `type` in `env`.
  std::string BuiltinResource(const std::string& env, model::ResourceType type) const;
  // The id of the default signing key of `env`.
  std::string DefaultKey(const std::string& env) const;

  // Everything the store holds for `env`, one record per line with every field (private key
  // material as a digest), for comparing the store before and after a refused write.
  std::string DumpStore(const std::string& env);

 private:
  class StoreActivities final : public audit::ActivityStore {
   public:
    explicit StoreActivities(storage::Store& store) : store_(store) {}
    Result<void, Error> Append(const std::vector<model::Activity>& batch) override;

   private:
    storage::Store& store_;
  };

  FakeClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<config::ConfigHolder> config_;
  std::unique_ptr<StoreActivities> activity_store_;
  std::unique_ptr<audit::ActivityLog> activities_;
  std::unique_ptr<mgmt::ManagementApi> api_;
  oauth::TokenIssuer issuer_;
  std::string org_id_, env_e_, env_f_;
  std::vector<std::string> callers_;  // by Role
};

// One expected `details` item of an error: its code and target ("" when it has none).
struct Detail {
  std::string code;
  std::string target;
};

// Success when `reply` is an error in PingOne's shape (SPEC §6)
// {"id":"<uuid>","code","message","details":[{"code","target"?,"message"}]} with nothing else
// in it (no debug text), of `status` and `code`, whose details are exactly `details` (in any
// order; no `details` member when empty). A 401 must also carry `WWW-Authenticate: Bearer`.
::testing::AssertionResult IsApiError(const ApiReply& reply, int status, std::string_view code,
                                      std::vector<Detail> details = {});
// 403 ACCESS_FAILED with detail INSUFFICIENT_PERMISSIONS.
::testing::AssertionResult IsForbidden(const ApiReply& reply);
// 404 NOT_FOUND.
::testing::AssertionResult IsNotFound(const ApiReply& reply);
// 401 ACCESS_FAILED with WWW-Authenticate: Bearer.
::testing::AssertionResult IsUnauthorized(const ApiReply& reply);
// 400 INVALID_DATA with one detail `detail` on `target`.
::testing::AssertionResult IsInvalidData(const ApiReply& reply, std::string_view detail,
                                         std::string_view target);

// Paths under /v1.
std::string EnvPath(const std::string& env);
std::string AppsPath(const std::string& env);
std::string AppPath(const std::string& env, const std::string& app);
std::string ResourcesPath(const std::string& env);
std::string ResourcePath(const std::string& env, const std::string& resource);
std::string ScopesPath(const std::string& env, const std::string& resource);
std::string GrantsPath(const std::string& env, const std::string& app);
std::string RoleAssignmentsPath(const std::string& env, const std::string& app);
std::string KeysPath(const std::string& env);

// `n` characters of two UTF-8 bytes each ("é"), for limits counted in characters.
std::string TwoByteCharacters(size_t n);

// A valid application body: a confidential client with CLIENT_CREDENTIALS.
boost::json::object AppBody(const std::string& name, const std::string& type = "SERVICE");

}  // namespace tollgate::testutil
