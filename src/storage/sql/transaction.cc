#include "storage/sql/transaction.h"

#include <fmt/format.h>

#include <set>
#include <string>
#include <utility>

#include "storage/sql/errors.h"
#include "storage/sql/query.h"
#include "storage/sql/tables.h"
#include "storage/sql/try.h"

namespace tollgate::storage::sql {
namespace {

// A change to a signing key that the key's current state forbids (checked here, inside the
// transaction, as the management API's checks read a snapshot that may be behind).
StoreError KeyConflict(std::string target, std::string_view what) {
  return StoreError{StoreErrorCode::kConflict, fmt::format("signing key: {}", what),
                    std::move(target)};
}

bool IsBuiltinRole(const RoleId& id) {
  for (const model::Role& r : model::BuiltinRoles()) {
    if (r.id == id) return true;
  }
  return false;
}

class SqlTransaction final : public Transaction {
 public:
  SqlTransaction(Connection& db, const SecretCodec& codec) : db_(db), codec_(codec) {}

  // True when a failed call could not be undone; the transaction must then be rolled back.
  bool Poisoned() const { return poisoned_; }

  StoreResult<void> Insert(const model::Organization& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_,
                             StoreError{StoreErrorCode::kAlreadyInitialized,
                                        "the store already has an organization", ""},
                             "SELECT 1 FROM organization"));
      return organization::Insert(db_, v);
    });
  }

  StoreResult<void> Insert(const model::Environment& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_, IdConflict("environment"),
                             "SELECT 1 FROM environments WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(FailIfNoRow(db_, NotFound("organization.id", "no such organization"),
                               "SELECT 1 FROM organization WHERE id = ?1",
                               v.organization_id.str()));
      TG_STORE_TRY(CheckEnvironmentName(v));
      return environments::Insert(db_, v);
    });
  }

  StoreResult<void> Update(const model::Environment& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(db_, NotFound("id", "no such environment"),
                               "SELECT 1 FROM environments WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(CheckEnvironmentName(v));
      return environments::Update(db_, v);
    });
  }

  StoreResult<void> Insert(const model::Application& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_, IdConflict("application"),
                             "SELECT 1 FROM applications WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      TG_STORE_TRY(CheckApplicationName(v));
      return applications::Insert(db_, v);
    });
  }

  StoreResult<void> Update(const model::Application& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(RequireApplication(v.id, v.environment_id, "id"));
      TG_STORE_TRY(CheckApplicationName(v));
      return applications::Update(db_, v);
    });
  }

  StoreResult<void> Put(const model::ApplicationSecret& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(RequireApplication(v.application_id, v.environment_id, "application.id"));
      return application_secrets::Put(db_, codec_, v);
    });
  }

  StoreResult<void> Insert(const model::Resource& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_, IdConflict("resource"), "SELECT 1 FROM resources WHERE id = ?1",
                             v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      TG_STORE_TRY(CheckResourceName(v));
      return resources::Insert(db_, codec_, v);
    });
  }

  StoreResult<void> Update(const model::Resource& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(db_, NotFound("id", "no such resource"),
                               "SELECT 1 FROM resources WHERE id = ?1 AND environment_id = ?2",
                               v.id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckResourceName(v));
      return resources::Update(db_, v);
    });
  }

  StoreResult<void> RevokeTokensBefore(const AppId& id, TimePoint not_before) override {
    return Atomically([&]() { return applications::RevokeTokensBefore(db_, id, not_before); });
  }

  StoreResult<void> SetResourceSecret(const ResourceId& id, const std::string& secret) override {
    return Atomically([&]() { return resources::SetSecret(db_, codec_, id, secret); });
  }

  StoreResult<void> Insert(const model::Scope& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(
          FailIfRow(db_, IdConflict("scope"), "SELECT 1 FROM scopes WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(FailIfNoRow(db_, NotFound("resource.id", "no such resource in the environment"),
                               "SELECT 1 FROM resources WHERE id = ?1 AND environment_id = ?2",
                               v.resource_id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckScopeName(v));
      return scopes::Insert(db_, v);
    });
  }

  StoreResult<void> Update(const model::Scope& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(
          db_, NotFound("id", "no such scope"),
          "SELECT 1 FROM scopes WHERE id = ?1 AND resource_id = ?2 AND environment_id = ?3",
          v.id.str(), v.resource_id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckScopeName(v));
      return scopes::Update(db_, v);
    });
  }

  StoreResult<void> Insert(const model::ResourceAttribute& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_, IdConflict("resource attribute"),
                             "SELECT 1 FROM resource_attributes WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(FailIfNoRow(db_, NotFound("resource.id", "no such resource in the environment"),
                               "SELECT 1 FROM resources WHERE id = ?1 AND environment_id = ?2",
                               v.resource_id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckAttributeName(v));
      return resource_attributes::Insert(db_, v);
    });
  }

  StoreResult<void> Update(const model::ResourceAttribute& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(db_, NotFound("id", "no such resource attribute"),
                               "SELECT 1 FROM resource_attributes WHERE id = ?1 AND "
                               "resource_id = ?2 AND environment_id = ?3",
                               v.id.str(), v.resource_id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckAttributeName(v));
      return resource_attributes::Update(db_, v);
    });
  }

  StoreResult<void> Insert(const model::TrustedIssuer& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_, IdConflict("trusted issuer"),
                             "SELECT 1 FROM trusted_issuers WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      TG_STORE_TRY(CheckTrustedIssuer(v));
      return trusted_issuers::Insert(db_, v);
    });
  }

  StoreResult<void> Update(const model::TrustedIssuer& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(
          FailIfNoRow(db_, NotFound("id", "no such trusted issuer"),
                      "SELECT 1 FROM trusted_issuers WHERE id = ?1 AND environment_id = ?2",
                      v.id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckTrustedIssuer(v));
      return trusted_issuers::Update(db_, v);
    });
  }

  StoreResult<void> Insert(const model::TrustedCa& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_, IdConflict("trusted CA"),
                             "SELECT 1 FROM trusted_cas WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      return trusted_cas::Insert(db_, v);
    });
  }

  StoreResult<void> Update(const model::TrustedCa& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(db_, NotFound("id", "no such trusted CA"),
                               "SELECT 1 FROM trusted_cas WHERE id = ?1 AND environment_id = ?2",
                               v.id.str(), v.environment_id.str()));
      return trusted_cas::Update(db_, v);
    });
  }

  StoreResult<void> Insert(const model::Grant& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(
          FailIfRow(db_, IdConflict("grant"), "SELECT 1 FROM grants WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(CheckGrantReferences(v));
      return grants::Insert(db_, v);
    });
  }

  StoreResult<void> Update(const model::Grant& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(
          db_, NotFound("id", "no such grant"),
          "SELECT 1 FROM grants WHERE id = ?1 AND environment_id = ?2 AND application_id = ?3",
          v.id.str(), v.environment_id.str(), v.application_id.str()));
      TG_STORE_TRY(CheckGrantReferences(v));
      return grants::Update(db_, v);
    });
  }

  StoreResult<void> Insert(const model::RoleAssignment& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_, IdConflict("role assignment"),
                             "SELECT 1 FROM role_assignments WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(RequireApplication(v.application_id, v.environment_id, "application.id"));
      if (!IsBuiltinRole(v.role_id)) return Fail(NotFound("role.id", "no such role"));
      if (v.scope_type == model::RoleScopeType::kOrganization) {
        TG_STORE_TRY(FailIfNoRow(db_, NotFound("scope.id", "no such organization"),
                                 "SELECT 1 FROM organization WHERE id = ?1", v.scope_id));
      } else {
        TG_STORE_TRY(FailIfNoRow(db_, NotFound("scope.id", "no such environment"),
                                 "SELECT 1 FROM environments WHERE id = ?1", v.scope_id));
      }
      return role_assignments::Insert(db_, v);
    });
  }

  StoreResult<void> Insert(const model::SigningKey& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_, IdConflict("signing key"),
                             "SELECT 1 FROM signing_keys WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      return signing_keys::Insert(db_, codec_, v);
    });
  }

  StoreResult<void> Insert(const model::KeyRotationPolicy& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_, IdConflict("key rotation policy"),
                             "SELECT 1 FROM key_rotation_policies WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      TG_STORE_TRY(FailIfRow(
          db_,
          StoreError{StoreErrorCode::kConflict, "the environment already has a key rotation policy",
                     "environment.id"},
          "SELECT 1 FROM key_rotation_policies WHERE environment_id = ?1", v.environment_id.str()));
      return key_rotation_policies::Insert(db_, v);
    });
  }

  StoreResult<void> Update(const model::KeyRotationPolicy& v) override {
    return Atomically([&]() { return key_rotation_policies::Update(db_, v); });
  }

  StoreResult<void> SetKeyRotationState(const model::KeyRotationPolicy& expected,
                                        const model::KeyRotationState& next) override {
    return Atomically([&]() { return key_rotation_policies::SetState(db_, expected, next); });
  }

  StoreResult<void> Update(const model::SigningKey& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(db_, NotFound("id", "no such signing key"),
                               "SELECT 1 FROM signing_keys WHERE id = ?1 AND environment_id = ?2",
                               v.id.str(), v.environment_id.str()));
      if (v.revoked) {
        TG_STORE_TRY(FailIfRow(db_, KeyConflict("status", "the default key cannot be revoked"),
                               "SELECT 1 FROM signing_keys WHERE id = ?1 AND is_default = TRUE",
                               v.id.str()));
        TG_STORE_TRY(key_rotation_policies::ForgetKey(db_, v.id));
      }
      return signing_keys::Update(db_, v);
    });
  }

  StoreResult<void> MakeDefaultKey(const KeyId& id, TimePoint now) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(db_, NotFound("id", "no such signing key"),
                               "SELECT 1 FROM signing_keys WHERE id = ?1", id.str()));
      TG_STORE_TRY(FailIfNoRow(db_, KeyConflict("default", "a revoked or expired key"),
                               "SELECT 1 FROM signing_keys WHERE id = ?1 AND revoked = FALSE "
                               "AND expires_at > ?2",
                               id.str(), ToUnixMillis(now)));
      TG_STORE_TRY(signing_keys::MakeDefault(db_, id, now));
      return key_rotation_policies::FollowDefaultKey(db_, id, now);
    });
  }

  // Deletes. Foreign keys (ON DELETE CASCADE) take the dependent rows; see the schemas.
  StoreResult<void> Delete(const EnvId& id) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(environments::Delete(db_, id));
      // Role assignments of other environments' applications that were scoped to this one.
      return role_assignments::DeleteScopedTo(db_, model::RoleScopeType::kEnvironment, id.str());
    });
  }
  StoreResult<void> Delete(const AppId& id) override {
    return Atomically([&]() { return applications::Delete(db_, id); });
  }
  StoreResult<void> Delete(const ResourceId& id) override {
    return Atomically([&]() { return resources::Delete(db_, id); });
  }
  StoreResult<void> Delete(const ScopeId& id) override {
    return Atomically([&]() { return scopes::Delete(db_, id); });
  }
  StoreResult<void> Delete(const AttributeId& id) override {
    return Atomically([&]() { return resource_attributes::Delete(db_, id); });
  }
  StoreResult<void> Delete(const TrustedIssuerId& id) override {
    return Atomically([&]() { return trusted_issuers::Delete(db_, id); });
  }
  StoreResult<void> Delete(const TrustedCaId& id) override {
    return Atomically([&]() { return trusted_cas::Delete(db_, id); });
  }
  StoreResult<void> Delete(const GrantId& id) override {
    return Atomically([&]() { return grants::Delete(db_, id); });
  }
  StoreResult<void> Delete(const RoleAssignmentId& id) override {
    return Atomically([&]() { return role_assignments::Delete(db_, id); });
  }
  StoreResult<void> Delete(const KeyId& id) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(db_, KeyConflict("default", "the default key cannot be deleted"),
                             "SELECT 1 FROM signing_keys WHERE id = ?1 AND is_default = TRUE",
                             id.str()));
      TG_STORE_TRY(signing_keys::Delete(db_, id));
      return key_rotation_policies::ForgetKey(db_, id);
    });
  }

 private:
  // Runs `f` under a savepoint: when it fails, everything it did is undone and the rest of the
  // transaction is kept (Transaction's contract).
  template <class F>
  StoreResult<void> Atomically(F&& f) {
    if (poisoned_) {
      return Fail(InternalError(
          fmt::format("{}: transaction unusable after a failed undo", db_.dialect().name)));
    }
    TG_STORE_TRY(db_.Exec("SAVEPOINT tollgate_op"));
    StoreResult<void> result = f();
    if (result.ok()) {
      StoreResult<void> released = db_.Exec("RELEASE tollgate_op");
      if (!released.ok()) poisoned_ = true;
      return released;
    }
    if (!db_.Exec("ROLLBACK TO tollgate_op").ok() || !db_.Exec("RELEASE tollgate_op").ok()) {
      poisoned_ = true;
    }
    return result;
  }

  StoreResult<void> RequireEnvironment(const EnvId& id) {
    return FailIfNoRow(db_, NotFound("environment.id", "no such environment"),
                       "SELECT 1 FROM environments WHERE id = ?1", id.str());
  }

  StoreResult<void> RequireApplication(const AppId& id, const EnvId& env, std::string target) {
    return FailIfNoRow(db_, NotFound(std::move(target), "no such application in the environment"),
                       "SELECT 1 FROM applications WHERE id = ?1 AND environment_id = ?2", id.str(),
                       env.str());
  }

  // Uniqueness of names: environments in the deployment, applications and resources in their
  // environment, scopes and attributes in their resource.
  StoreResult<void> CheckEnvironmentName(const model::Environment& v) {
    return FailIfRow(db_, Conflict("name", "an environment with this name already exists"),
                     "SELECT 1 FROM environments WHERE name = ?1 AND id <> ?2", v.name, v.id.str());
  }

  StoreResult<void> CheckApplicationName(const model::Application& v) {
    return FailIfRow(
        db_, Conflict("name", "an application with this name already exists in the environment"),
        "SELECT 1 FROM applications WHERE environment_id = ?1 AND name = ?2 AND id <> ?3",
        v.environment_id.str(), v.name, v.id.str());
  }

  StoreResult<void> CheckResourceName(const model::Resource& v) {
    return FailIfRow(
        db_, Conflict("name", "a resource with this name already exists in the environment"),
        "SELECT 1 FROM resources WHERE environment_id = ?1 AND name = ?2 AND id <> ?3",
        v.environment_id.str(), v.name, v.id.str());
  }

  StoreResult<void> CheckScopeName(const model::Scope& v) {
    return FailIfRow(db_, Conflict("name", "a scope with this name already exists in the resource"),
                     "SELECT 1 FROM scopes WHERE resource_id = ?1 AND name = ?2 AND id <> ?3",
                     v.resource_id.str(), v.name, v.id.str());
  }

  StoreResult<void> CheckAttributeName(const model::ResourceAttribute& v) {
    return FailIfRow(
        db_, Conflict("name", "an attribute with this name already exists in the resource"),
        "SELECT 1 FROM resource_attributes WHERE resource_id = ?1 AND name = ?2 AND id <> ?3",
        v.resource_id.str(), v.name, v.id.str());
  }

  // One trusted issuer per `issuer` in an environment.
  StoreResult<void> CheckTrustedIssuer(const model::TrustedIssuer& v) {
    return FailIfRow(
        db_, Conflict("issuer", "the environment already trusts this issuer"),
        "SELECT 1 FROM trusted_issuers WHERE environment_id = ?1 AND issuer = ?2 AND id <> ?3",
        v.environment_id.str(), v.issuer, v.id.str());
  }

  StoreResult<void> CheckGrantReferences(const model::Grant& v) {
    TG_STORE_TRY(RequireApplication(v.application_id, v.environment_id, "application.id"));
    TG_STORE_TRY(FailIfNoRow(db_, NotFound("resource.id", "no such resource in the environment"),
                             "SELECT 1 FROM resources WHERE id = ?1 AND environment_id = ?2",
                             v.resource_id.str(), v.environment_id.str()));
    std::set<ScopeId> seen;
    for (const ScopeId& scope : v.scopes) {
      if (!seen.insert(scope).second) {
        return Fail(Conflict("scopes", "a scope is listed twice in the grant"));
      }
      TG_STORE_TRY(FailIfNoRow(db_, NotFound("scopes", "no such scope in the grant's resource"),
                               "SELECT 1 FROM scopes WHERE id = ?1 AND resource_id = ?2",
                               scope.str(), v.resource_id.str()));
    }
    return {};
  }

  Connection& db_;
  const SecretCodec& codec_;
  bool poisoned_ = false;
};

}  // namespace

StoreResult<void> RunWriteBody(Connection& db, const SecretCodec& codec,
                               const std::function<StoreResult<void>(Transaction&)>& body) {
  try {
    SqlTransaction tx(db, codec);
    StoreResult<void> result = body(tx);
    if (result.ok() && tx.Poisoned()) {
      return Fail(InternalError(
          fmt::format("{}: a failed call could not be undone; rolled back", db.dialect().name)));
    }
    return result;
  } catch (...) {
    // The body's exception text may hold anything; it is not logged.
    return Fail(InternalError("the Write body threw an exception; rolled back"));
  }
}

}  // namespace tollgate::storage::sql
