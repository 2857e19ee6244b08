#pragma once
// The storage contract suite: one set of tests that every Store backend must pass.
//
// To run it against a backend, implement BackendUnderTest for it and instantiate the suite:
//
//   INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
//                            ::testing::Values(BackendParam{"Postgres", &MakePostgresBackend}),
//                            BackendParamName);
//
// (see sqlite_backend.cc). Tests that need a capability a backend lacks (persistence) skip.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/ids.h"
#include "model/model.h"
#include "storage/store.h"

namespace tollgate::storage::testing {

// One backend with one fresh, empty database, owned by one test.
class BackendUnderTest {
 public:
  virtual ~BackendUnderTest() = default;

  // Opens a Store on this test's database with `codec`. May be called repeatedly.
  virtual StoreResult<std::unique_ptr<Store>> Open(std::shared_ptr<const SecretCodec> codec) = 0;

  // True when every Open() reaches the same data: it survives closing every Store, and several
  // Stores may be open on it at once. The hooks below are only called when this is true.
  virtual bool IsPersistent() const = 0;

  // True when `needle` occurs anywhere in the data at rest (database files, raw column values).
  virtual bool RawContains(std::string_view needle) = 0;

  // Records, by hand and behind the Store's back, a schema version newer than any the code
  // knows. Called while no Store is open.
  virtual void BumpSchemaVersion() = 0;
};

struct BackendParam {
  std::string name;
  std::function<std::unique_ptr<BackendUnderTest>()> make;
};

inline std::string BackendParamName(const ::testing::TestParamInfo<BackendParam>& info) {
  return info.param.name;
}

inline void PrintTo(const BackendParam& p, std::ostream* os) { *os << p.name; }

// Comparable, printable views of the domain structs: every field, IDs as strings, enums in
// their wire spelling, times in unix milliseconds.
inline int64_t Ms(TimePoint t) { return ToUnixMillis(t); }
inline int64_t Ms(const std::optional<TimePoint>& t) { return t ? ToUnixMillis(*t) : -1; }

inline auto Fields(const model::Organization& v) {
  return std::make_tuple(v.id.str(), v.name, Ms(v.created_at));
}
inline auto Fields(const model::Environment& v) {
  return std::make_tuple(v.id.str(), v.organization_id.str(), v.name, v.description,
                         std::string(model::ToString(v.type)),
                         std::string(model::ToString(v.region)), Ms(v.created_at), Ms(v.updated_at),
                         v.dpop_nonce_required);
}
// tls_client_auth as (name, value); std::nullopt when absent.
inline std::optional<std::pair<std::string, std::string>> TlsClientAuthText(
    const std::optional<model::TlsClientAuth>& v) {
  if (!v) return std::nullopt;
  return std::make_pair(std::string(model::ToString(v->name)), v->value);
}
inline auto Fields(const model::Application& v) {
  std::vector<std::string> grant_types;
  for (model::GrantType g : v.grant_types) grant_types.emplace_back(model::ToString(g));
  return std::make_tuple(
      v.id.str(), v.environment_id.str(), v.name, v.description, v.enabled, v.protocol,
      std::string(model::ToString(v.type)), grant_types,
      std::string(model::ToString(v.token_endpoint_auth_method)), v.jwks, v.jwks_url,
      v.response_types, v.redirect_uris, v.request_scopes_for_multiple_resources_enabled,
      v.include_x5t, v.include_typ, Ms(v.created_at), Ms(v.updated_at), Ms(v.tokens_not_before),
      v.cors_settings, v.dpop_bound_access_tokens, TlsClientAuthText(v.tls_client_auth),
      v.tls_client_certificate_bound_access_tokens);
}
inline auto Fields(const model::ApplicationSecret& v) {
  return std::make_tuple(v.application_id.str(), v.environment_id.str(), v.secret, v.previous,
                         Ms(v.previous_expires_at));
}
inline auto Fields(const model::Resource& v) {
  return std::make_tuple(v.id.str(), v.environment_id.str(), v.name, v.description,
                         std::string(model::ToString(v.type)), v.audience,
                         v.access_token_validity_seconds,
                         std::string(model::ToString(v.introspect_endpoint_auth_method)), v.secret,
                         Ms(v.created_at), Ms(v.updated_at));
}
inline auto Fields(const model::Scope& v) {
  return std::make_tuple(v.id.str(), v.resource_id.str(), v.environment_id.str(), v.name,
                         v.description, Ms(v.created_at), Ms(v.updated_at));
}
inline auto Fields(const model::ResourceAttribute& v) {
  return std::make_tuple(v.id.str(), v.resource_id.str(), v.environment_id.str(), v.name, v.value,
                         std::string(model::ToString(v.type)), Ms(v.created_at), Ms(v.updated_at));
}
inline auto Fields(const model::TrustedIssuer& v) {
  return std::make_tuple(v.id.str(), v.environment_id.str(), v.name, v.issuer, v.jwks_url,
                         v.audience, v.enabled, Ms(v.created_at), Ms(v.updated_at));
}
inline auto Fields(const model::TrustedCa& v) {
  return std::make_tuple(v.id.str(), v.environment_id.str(), v.name, v.certificate,
                         Ms(v.created_at), Ms(v.updated_at));
}
inline auto Fields(const model::Grant& v) {
  std::vector<std::string> scopes;
  for (const ScopeId& s : v.scopes) scopes.push_back(s.str());
  return std::make_tuple(v.id.str(), v.environment_id.str(), v.application_id.str(),
                         v.resource_id.str(), scopes, Ms(v.created_at), Ms(v.updated_at));
}
inline auto Fields(const model::RoleAssignment& v) {
  return std::make_tuple(v.id.str(), v.environment_id.str(), v.application_id.str(),
                         v.role_id.str(), v.scope_id, std::string(model::ToString(v.scope_type)),
                         Ms(v.created_at));
}
inline auto Fields(const model::SigningKey& v) {
  return std::make_tuple(v.id.str(), v.environment_id.str(), v.name,
                         std::string(model::ToString(v.algorithm)), v.key_length, v.subject_dn,
                         v.validity_period_days, v.is_default, v.revoked, v.private_key_pem,
                         v.certificate_der, Ms(v.created_at), Ms(v.starts_at), Ms(v.expires_at),
                         Ms(v.retired_at));
}
inline std::string KeyIdText(const std::optional<KeyId>& id) { return id ? id->str() : "-"; }
inline auto Fields(const model::KeyRotationPolicy& v) {
  return std::make_tuple(v.id.str(), v.environment_id.str(), v.name, v.subject_dn,
                         std::string(model::ToString(v.algorithm)), v.key_length,
                         v.validity_period_days, v.rotation_period_days, v.overlap_days, v.enabled,
                         KeyIdText(v.state.current_key_id), KeyIdText(v.state.next_key_id),
                         Ms(v.state.rotated_at), Ms(v.created_at), Ms(v.updated_at));
}
inline auto Fields(const std::optional<model::KeyRotationPolicy>& v) {
  return v ? std::optional(Fields(*v)) : std::nullopt;
}
template <class T>
auto Fields(const std::vector<T>& v) {
  std::vector<decltype(Fields(std::declval<const T&>()))> out;
  for (const T& x : v) out.push_back(Fields(x));
  return out;
}
inline auto Fields(const model::EnvironmentData& d) {
  return std::make_tuple(Fields(d.environment), Fields(d.applications), Fields(d.secrets),
                         Fields(d.resources), Fields(d.scopes), Fields(d.resource_attributes),
                         Fields(d.trusted_issuers), Fields(d.trusted_cas), Fields(d.grants),
                         Fields(d.role_assignments), Fields(d.signing_keys),
                         Fields(d.key_rotation_policy));
}

std::string Describe(const StoreError& e);

// Success, or a failure that names the error.
template <class R>
::testing::AssertionResult Ok(const R& r) {
  if (r.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "store error: " << Describe(r.error());
}

// A failure with `code` (and, when `target` is given, that target).
template <class R>
::testing::AssertionResult IsError(const R& r, StoreErrorCode code,
                                   std::optional<std::string> target = std::nullopt) {
  if (r.ok()) return ::testing::AssertionFailure() << "succeeded, expected an error";
  if (r.error().code != code || (target && r.error().target != *target)) {
    return ::testing::AssertionFailure() << "got " << Describe(r.error());
  }
  return ::testing::AssertionSuccess();
}

class StoreContractTest : public ::testing::TestWithParam<BackendParam> {
 protected:
  using Body = std::function<StoreResult<void>(Transaction&)>;

  void SetUp() override;

  Store& store() { return *store_; }
  BackendUnderTest& backend() { return *backend_; }
  std::shared_ptr<const SecretCodec> codec() const { return codec_; }

  // Closes the store and opens the database again (persistent backends).
  void Reopen();

  StoreResult<void> Write(const Body& body) { return store_->Write(body); }
  // One Write of one call, e.g. WriteOne([&](Transaction& t) { return t.Insert(app); }).
  template <class F>
  StoreResult<void> WriteOne(F&& f) {
    return store_->Write([&](Transaction& t) { return f(t); });
  }

  // Loads everything; a failure is reported and yields an empty Deployment.
  Deployment Load();
  // The data of `id` from LoadAll(), after checking that LoadEnvironment(id) agrees with it.
  model::EnvironmentData LoadEnv(const EnvId& id);

  // Fully populated entities: every field set, to non-default values, times at millisecond
  // precision. Each call makes fresh IDs and, unless given, unique names.
  TimePoint Time(int64_t offset_ms) const;
  model::Organization MakeOrganization();
  model::Environment MakeEnvironment(std::string name = "");
  model::Application MakeApplication(const EnvId& env, std::string name = "");
  model::ApplicationSecret MakeSecret(const model::Application& app, bool with_previous);
  model::Resource MakeResource(const EnvId& env, std::string name = "");
  model::Scope MakeScope(const model::Resource& resource, std::string name = "");
  model::ResourceAttribute MakeAttribute(const model::Resource& resource, std::string name = "");
  model::TrustedIssuer MakeTrustedIssuer(const EnvId& env, std::string issuer = "");
  model::TrustedCa MakeTrustedCa(const EnvId& env, std::string name = "");
  model::Grant MakeGrant(const model::Application& app, const model::Resource& resource,
                         std::vector<ScopeId> scopes);
  model::RoleAssignment MakeRoleAssignment(const model::Application& app, RoleId role,
                                           std::string scope_id, model::RoleScopeType type);
  model::SigningKey MakeSigningKey(const EnvId& env);

  // Inserts the organization and one environment (org_, env_).
  void SeedEnvironment();

  // A populated environment (seeding the organization first if needed): two applications (one with
  // a secret incl. previous), two resources with scopes and attributes, a trusted issuer, a trusted
  // CA, grants, role assignments and a key.
  struct Populated {
    model::Environment env;
    model::Application app1, app2;
    model::ApplicationSecret secret1;
    model::Resource res1, res2;
    model::Scope s1a, s1b, s2a;
    model::ResourceAttribute at1a, at2a;
    model::TrustedIssuer ti;
    model::TrustedCa ca;
    model::Grant g1, g2;
    model::RoleAssignment ra_env, ra_org;
    model::SigningKey key;
  };
  Populated Populate(std::string env_name = "");

  std::unique_ptr<BackendUnderTest> backend_;
  std::shared_ptr<const SecretCodec> codec_;
  std::unique_ptr<Store> store_;
  model::Organization org_;
  model::Environment env_;
  int64_t counter_ = 0;
};

}  // namespace tollgate::storage::testing
