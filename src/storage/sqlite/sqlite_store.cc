#include "storage/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/statement.h"

namespace tollgate::storage::sqlite {
namespace {

using sql::Conflict;
using sql::IdConflict;
using sql::NotFound;
using sql::WrongMasterKey;

// How long a writer waits for another connection's write transaction before kUnavailable.
constexpr int kBusyTimeoutMillis = 5000;

// The value sealed into `meta` at the first open, so that a store opened under another master
// key is refused at open even when it holds no secret yet.
constexpr std::string_view kMasterKeyCheckKey = "master_key_check";
constexpr std::string_view kMasterKeyCheckPlaintext = "tollgate-master-key-check";
constexpr std::string_view kMasterKeyCheckAad = "meta:master_key_check";

// Associated data binding each sealed value to its row and column, so that a sealed value moved
// to another row (or from `previous` to `secret`) no longer opens.
std::string AppSecretAad(const AppId& id) { return "app_secret:" + id.str(); }
std::string AppPreviousSecretAad(const AppId& id) { return "app_secret_previous:" + id.str(); }
std::string ResourceSecretAad(const ResourceId& id) { return "resource_secret:" + id.str(); }
std::string SigningKeyAad(const KeyId& id) { return "signing_key:" + id.str(); }

int64_t Millis(TimePoint t) { return ToUnixMillis(t); }

std::optional<int64_t> Millis(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return ToUnixMillis(*t);
}

TimePoint Time(int64_t ms) { return FromUnixMillis(ms); }

std::string_view JtiKindName(JtiKind kind) {
  return kind == JtiKind::kRevokedToken ? "REVOKED_TOKEN" : "USED_ASSERTION";
}

std::optional<TimePoint> Time(const std::optional<int64_t>& ms) {
  if (!ms) return std::nullopt;
  return FromUnixMillis(*ms);
}

template <class... A>
StoreResult<bool> HasRow(sqlite3* db, std::string_view sql, const A&... args) {
  TG_STORE_ASSIGN(auto stmt, Statement::Prepare(db, sql));
  return stmt.Bind(args...).Step();
}

// Fails with `error` when the query yields a row.
template <class... A>
StoreResult<void> FailIfRow(sqlite3* db, StoreError error, std::string_view sql, const A&... args) {
  TG_STORE_ASSIGN(bool row, HasRow(db, sql, args...));
  if (row) return Fail(std::move(error));
  return {};
}

// Fails with `error` when the query yields no row.
template <class... A>
StoreResult<void> FailIfNoRow(sqlite3* db, StoreError error, std::string_view sql,
                              const A&... args) {
  TG_STORE_ASSIGN(bool row, HasRow(db, sql, args...));
  if (!row) return Fail(std::move(error));
  return {};
}

template <class... A>
StoreResult<void> Execute(sqlite3* db, std::string_view sql, const A&... args) {
  TG_STORE_ASSIGN(auto stmt, Statement::Prepare(db, sql));
  return stmt.Bind(args...).Run();
}

// Executes a DELETE/UPDATE of one row by key; kNotFound (naming `what`) when no row changed.
template <class... A>
StoreResult<void> ChangeOneRow(sqlite3* db, std::string_view what, std::string_view sql,
                               const A&... args) {
  TG_STORE_TRY(Execute(db, sql, args...));
  if (sqlite3_changes(db) == 0) return Fail(NotFound("id", fmt::format("no such {}", what)));
  return {};
}

// Steps through every row, calling `f(stmt)` (returning StoreResult<void>) for each.
template <class F>
StoreResult<void> ForEachRow(Statement& stmt, F&& f) {
  while (true) {
    TG_STORE_ASSIGN(bool row, stmt.Step());
    if (!row) return {};
    TG_STORE_TRY(f(stmt));
    TG_STORE_TRY(stmt.ColumnError());
  }
}

template <class E>
StoreResult<E> Decode(std::optional<E> parsed, std::string_view column, const std::string& text) {
  if (!parsed) {
    return Fail(InternalError(fmt::format("corrupt row: unknown {} value '{}'", column, text)));
  }
  return *parsed;
}

bool IsBuiltinRole(const RoleId& id) {
  for (const model::Role& r : model::BuiltinRoles()) {
    if (r.id == id) return true;
  }
  return false;
}

// The three list columns of an application, each kept in its own child table in list order.
struct ListTable {
  const char* insert_sql;
  const char* delete_sql;
  const char* select_sql;  // (application_id, value) of one environment, by application, position
};

constexpr ListTable kGrantTypesTable{
    "INSERT INTO application_grant_types (application_id, position, value) VALUES (?1, ?2, ?3)",
    "DELETE FROM application_grant_types WHERE application_id = ?1",
    "SELECT l.application_id, l.value FROM application_grant_types l"
    " JOIN applications a ON a.id = l.application_id WHERE a.environment_id = ?1"
    " ORDER BY l.application_id, l.position"};
constexpr ListTable kResponseTypesTable{
    "INSERT INTO application_response_types (application_id, position, value) VALUES (?1, ?2, ?3)",
    "DELETE FROM application_response_types WHERE application_id = ?1",
    "SELECT l.application_id, l.value FROM application_response_types l"
    " JOIN applications a ON a.id = l.application_id WHERE a.environment_id = ?1"
    " ORDER BY l.application_id, l.position"};
constexpr ListTable kRedirectUrisTable{
    "INSERT INTO application_redirect_uris (application_id, position, value) VALUES (?1, ?2, ?3)",
    "DELETE FROM application_redirect_uris WHERE application_id = ?1",
    "SELECT l.application_id, l.value FROM application_redirect_uris l"
    " JOIN applications a ON a.id = l.application_id WHERE a.environment_id = ?1"
    " ORDER BY l.application_id, l.position"};

StoreResult<void> ReplaceList(sqlite3* db, const ListTable& table, const AppId& id,
                              const std::vector<std::string>& values) {
  TG_STORE_TRY(Execute(db, table.delete_sql, id.str()));
  int64_t position = 0;
  for (const std::string& value : values) {
    TG_STORE_TRY(Execute(db, table.insert_sql, id.str(), position++, value));
  }
  return {};
}

StoreResult<void> ReplaceApplicationLists(sqlite3* db, const model::Application& v) {
  std::vector<std::string> grant_types;
  grant_types.reserve(v.grant_types.size());
  for (model::GrantType g : v.grant_types) grant_types.emplace_back(model::ToString(g));
  TG_STORE_TRY(ReplaceList(db, kGrantTypesTable, v.id, grant_types));
  TG_STORE_TRY(ReplaceList(db, kResponseTypesTable, v.id, v.response_types));
  return ReplaceList(db, kRedirectUrisTable, v.id, v.redirect_uris);
}

// ---------------------------------------------------------------------------------------------
// Write side.

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(const Connection& db, const SecretCodec& codec) : db_(db), codec_(codec) {}

  // True when a failed call could not be undone; the transaction must then be rolled back.
  bool Poisoned() const { return poisoned_; }

  StoreResult<void> Insert(const model::Organization& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(),
                             StoreError{StoreErrorCode::kAlreadyInitialized,
                                        "the store already has an organization", ""},
                             "SELECT 1 FROM organization"));
      return Execute(Db(), "INSERT INTO organization (id, name, created_at) VALUES (?1, ?2, ?3)",
                     v.id.str(), v.name, Millis(v.created_at));
    });
  }

  StoreResult<void> Insert(const model::Environment& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(), IdConflict("environment"),
                             "SELECT 1 FROM environments WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("organization.id", "no such organization"),
                               "SELECT 1 FROM organization WHERE id = ?1",
                               v.organization_id.str()));
      TG_STORE_TRY(CheckEnvironmentName(v));
      return Execute(Db(),
                     "INSERT INTO environments (id, organization_id, name, description, type, "
                     "region, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                     v.id.str(), v.organization_id.str(), v.name, v.description,
                     model::ToString(v.type), model::ToString(v.region), Millis(v.created_at),
                     Millis(v.updated_at));
    });
  }

  StoreResult<void> Update(const model::Environment& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("id", "no such environment"),
                               "SELECT 1 FROM environments WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(CheckEnvironmentName(v));
      return Execute(Db(),
                     "UPDATE environments SET name = ?2, description = ?3, type = ?4, "
                     "region = ?5, updated_at = ?6 WHERE id = ?1",
                     v.id.str(), v.name, v.description, model::ToString(v.type),
                     model::ToString(v.region), Millis(v.updated_at));
    });
  }

  StoreResult<void> Insert(const model::Application& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(), IdConflict("application"),
                             "SELECT 1 FROM applications WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      TG_STORE_TRY(CheckApplicationName(v));
      TG_STORE_TRY(Execute(
          Db(),
          "INSERT INTO applications (id, environment_id, name, description, enabled, protocol, "
          "type, token_endpoint_auth_method, jwks, jwks_url, "
          "request_scopes_for_multiple_resources_enabled, include_x5t, include_typ, created_at, "
          "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
          v.id.str(), v.environment_id.str(), v.name, v.description, v.enabled, v.protocol,
          model::ToString(v.type), model::ToString(v.token_endpoint_auth_method), v.jwks,
          v.jwks_url, v.request_scopes_for_multiple_resources_enabled, v.include_x5t, v.include_typ,
          Millis(v.created_at), Millis(v.updated_at)));
      return ReplaceApplicationLists(Db(), v);
    });
  }

  StoreResult<void> Update(const model::Application& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(RequireApplication(v.id, v.environment_id, "id"));
      TG_STORE_TRY(CheckApplicationName(v));
      TG_STORE_TRY(Execute(
          Db(),
          "UPDATE applications SET name = ?3, description = ?4, enabled = ?5, protocol = ?6, "
          "type = ?7, token_endpoint_auth_method = ?8, jwks = ?9, jwks_url = ?10, "
          "request_scopes_for_multiple_resources_enabled = ?11, include_x5t = ?12, "
          "include_typ = ?13, updated_at = ?14 WHERE id = ?1 AND environment_id = ?2",
          v.id.str(), v.environment_id.str(), v.name, v.description, v.enabled, v.protocol,
          model::ToString(v.type), model::ToString(v.token_endpoint_auth_method), v.jwks,
          v.jwks_url, v.request_scopes_for_multiple_resources_enabled, v.include_x5t, v.include_typ,
          Millis(v.updated_at)));
      return ReplaceApplicationLists(Db(), v);
    });
  }

  StoreResult<void> Put(const model::ApplicationSecret& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(RequireApplication(v.application_id, v.environment_id, "application.id"));
      const std::string sealed = codec_.Seal(v.secret, AppSecretAad(v.application_id));
      std::optional<std::string> sealed_previous;
      if (v.previous) {
        sealed_previous = codec_.Seal(*v.previous, AppPreviousSecretAad(v.application_id));
      }
      std::optional<Blob> previous_blob;
      if (sealed_previous) previous_blob = Blob{*sealed_previous};
      return Execute(Db(),
                     "INSERT INTO application_secrets (application_id, environment_id, secret, "
                     "previous, previous_expires_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                     "ON CONFLICT (application_id) DO UPDATE SET secret = excluded.secret, "
                     "previous = excluded.previous, "
                     "previous_expires_at = excluded.previous_expires_at",
                     v.application_id.str(), v.environment_id.str(), Blob{sealed}, previous_blob,
                     Millis(v.previous_expires_at));
    });
  }

  StoreResult<void> Insert(const model::Resource& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(), IdConflict("resource"), "SELECT 1 FROM resources WHERE id = ?1",
                             v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      TG_STORE_TRY(CheckResourceName(v));
      const std::string sealed = codec_.Seal(v.secret, ResourceSecretAad(v.id));
      return Execute(Db(),
                     "INSERT INTO resources (id, environment_id, name, description, type, "
                     "audience, access_token_validity_seconds, introspect_endpoint_auth_method, "
                     "secret, created_at, updated_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                     v.id.str(), v.environment_id.str(), v.name, v.description,
                     model::ToString(v.type), v.audience, v.access_token_validity_seconds,
                     model::ToString(v.introspect_endpoint_auth_method), Blob{sealed},
                     Millis(v.created_at), Millis(v.updated_at));
    });
  }

  StoreResult<void> Update(const model::Resource& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("id", "no such resource"),
                               "SELECT 1 FROM resources WHERE id = ?1 AND environment_id = ?2",
                               v.id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckResourceName(v));
      return Execute(Db(),
                     "UPDATE resources SET name = ?3, description = ?4, type = ?5, "
                     "audience = ?6, access_token_validity_seconds = ?7, "
                     "introspect_endpoint_auth_method = ?8, updated_at = ?9 "
                     "WHERE id = ?1 AND environment_id = ?2",
                     v.id.str(), v.environment_id.str(), v.name, v.description,
                     model::ToString(v.type), v.audience, v.access_token_validity_seconds,
                     model::ToString(v.introspect_endpoint_auth_method), Millis(v.updated_at));
    });
  }

  StoreResult<void> SetResourceSecret(const ResourceId& id, const std::string& secret) override {
    return Atomically([&]() -> StoreResult<void> {
      const std::string sealed = codec_.Seal(secret, ResourceSecretAad(id));
      return ChangeOneRow(Db(), "resource", "UPDATE resources SET secret = ?2 WHERE id = ?1",
                          id.str(), Blob{sealed});
    });
  }

  StoreResult<void> Insert(const model::Scope& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(
          FailIfRow(Db(), IdConflict("scope"), "SELECT 1 FROM scopes WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("resource.id", "no such resource in the environment"),
                               "SELECT 1 FROM resources WHERE id = ?1 AND environment_id = ?2",
                               v.resource_id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckScopeName(v));
      return Execute(Db(),
                     "INSERT INTO scopes (id, resource_id, environment_id, name, description, "
                     "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                     v.id.str(), v.resource_id.str(), v.environment_id.str(), v.name, v.description,
                     Millis(v.created_at), Millis(v.updated_at));
    });
  }

  StoreResult<void> Update(const model::Scope& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(
          Db(), NotFound("id", "no such scope"),
          "SELECT 1 FROM scopes WHERE id = ?1 AND resource_id = ?2 AND environment_id = ?3",
          v.id.str(), v.resource_id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckScopeName(v));
      return Execute(Db(),
                     "UPDATE scopes SET name = ?2, description = ?3, updated_at = ?4 "
                     "WHERE id = ?1",
                     v.id.str(), v.name, v.description, Millis(v.updated_at));
    });
  }

  StoreResult<void> Insert(const model::Grant& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(
          FailIfRow(Db(), IdConflict("grant"), "SELECT 1 FROM grants WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(CheckGrantReferences(v));
      TG_STORE_TRY(Execute(Db(),
                           "INSERT INTO grants (id, environment_id, application_id, resource_id, "
                           "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                           v.id.str(), v.environment_id.str(), v.application_id.str(),
                           v.resource_id.str(), Millis(v.created_at), Millis(v.updated_at)));
      return InsertGrantScopes(v);
    });
  }

  StoreResult<void> Update(const model::Grant& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(
          Db(), NotFound("id", "no such grant"),
          "SELECT 1 FROM grants WHERE id = ?1 AND environment_id = ?2 AND application_id = ?3",
          v.id.str(), v.environment_id.str(), v.application_id.str()));
      TG_STORE_TRY(CheckGrantReferences(v));
      // The scope rows reference the grant's resource: drop them before the resource changes.
      TG_STORE_TRY(Execute(Db(), "DELETE FROM grant_scopes WHERE grant_id = ?1", v.id.str()));
      TG_STORE_TRY(Execute(Db(),
                           "UPDATE grants SET resource_id = ?2, updated_at = ?3 WHERE id = ?1",
                           v.id.str(), v.resource_id.str(), Millis(v.updated_at)));
      return InsertGrantScopes(v);
    });
  }

  StoreResult<void> Insert(const model::RoleAssignment& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(), IdConflict("role assignment"),
                             "SELECT 1 FROM role_assignments WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(RequireApplication(v.application_id, v.environment_id, "application.id"));
      if (!IsBuiltinRole(v.role_id)) return Fail(NotFound("role.id", "no such role"));
      if (v.scope_type == model::RoleScopeType::kOrganization) {
        TG_STORE_TRY(FailIfNoRow(Db(), NotFound("scope.id", "no such organization"),
                                 "SELECT 1 FROM organization WHERE id = ?1", v.scope_id));
      } else {
        TG_STORE_TRY(FailIfNoRow(Db(), NotFound("scope.id", "no such environment"),
                                 "SELECT 1 FROM environments WHERE id = ?1", v.scope_id));
      }
      return Execute(Db(),
                     "INSERT INTO role_assignments (id, environment_id, application_id, role_id, "
                     "scope_id, scope_type, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                     v.id.str(), v.environment_id.str(), v.application_id.str(), v.role_id.str(),
                     v.scope_id, model::ToString(v.scope_type), Millis(v.created_at));
    });
  }

  StoreResult<void> Insert(const model::SigningKey& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(), IdConflict("signing key"),
                             "SELECT 1 FROM signing_keys WHERE id = ?1", v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      const std::string sealed = codec_.Seal(v.private_key_pem, SigningKeyAad(v.id));
      return Execute(
          Db(),
          "INSERT INTO signing_keys (id, environment_id, name, algorithm, key_length, "
          "subject_dn, validity_period_days, is_default, revoked, private_key, certificate_der, "
          "created_at, starts_at, expires_at, retired_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
          v.id.str(), v.environment_id.str(), v.name, model::ToString(v.algorithm), v.key_length,
          v.subject_dn, v.validity_period_days, v.is_default, v.revoked, Blob{sealed},
          Blob{v.certificate_der}, Millis(v.created_at), Millis(v.starts_at), Millis(v.expires_at),
          Millis(v.retired_at));
    });
  }

  StoreResult<void> Update(const model::SigningKey& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("id", "no such signing key"),
                               "SELECT 1 FROM signing_keys WHERE id = ?1 AND environment_id = ?2",
                               v.id.str(), v.environment_id.str()));
      return Execute(Db(),
                     "UPDATE signing_keys SET name = ?3, algorithm = ?4, key_length = ?5, "
                     "subject_dn = ?6, validity_period_days = ?7, is_default = ?8, revoked = ?9, "
                     "starts_at = ?10, expires_at = ?11, retired_at = ?12 "
                     "WHERE id = ?1 AND environment_id = ?2",
                     v.id.str(), v.environment_id.str(), v.name, model::ToString(v.algorithm),
                     v.key_length, v.subject_dn, v.validity_period_days, v.is_default, v.revoked,
                     Millis(v.starts_at), Millis(v.expires_at), Millis(v.retired_at));
    });
  }

  StoreResult<void> MakeDefaultKey(const KeyId& id, TimePoint now) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("id", "no such signing key"),
                               "SELECT 1 FROM signing_keys WHERE id = ?1", id.str()));
      TG_STORE_TRY(Execute(Db(),
                           "UPDATE signing_keys SET is_default = 0, retired_at = ?2 "
                           "WHERE is_default = 1 AND id <> ?1 AND environment_id = "
                           "(SELECT environment_id FROM signing_keys WHERE id = ?1)",
                           id.str(), Millis(now)));
      return Execute(Db(),
                     "UPDATE signing_keys SET is_default = 1, retired_at = NULL WHERE id = ?1",
                     id.str());
    });
  }

  // Deletes. Foreign keys (ON DELETE CASCADE) take the dependent rows; see schema.cc.
  StoreResult<void> Delete(const EnvId& id) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(
          ChangeOneRow(Db(), "environment", "DELETE FROM environments WHERE id = ?1", id.str()));
      // Role assignments of other environments' applications that were scoped to this one.
      return Execute(Db(), "DELETE FROM role_assignments WHERE scope_type = ?1 AND scope_id = ?2",
                     model::ToString(model::RoleScopeType::kEnvironment), id.str());
    });
  }
  StoreResult<void> Delete(const AppId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "application", "DELETE FROM applications WHERE id = ?1", id.str());
    });
  }
  StoreResult<void> Delete(const ResourceId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "resource", "DELETE FROM resources WHERE id = ?1", id.str());
    });
  }
  StoreResult<void> Delete(const ScopeId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "scope", "DELETE FROM scopes WHERE id = ?1", id.str());
    });
  }
  StoreResult<void> Delete(const GrantId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "grant", "DELETE FROM grants WHERE id = ?1", id.str());
    });
  }
  StoreResult<void> Delete(const RoleAssignmentId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "role assignment", "DELETE FROM role_assignments WHERE id = ?1",
                          id.str());
    });
  }
  StoreResult<void> Delete(const KeyId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "signing key", "DELETE FROM signing_keys WHERE id = ?1", id.str());
    });
  }

 private:
  sqlite3* Db() const { return db_.Handle(); }

  // Runs `f` under a savepoint: when it fails, everything it did is undone and the rest of the
  // transaction is kept (Transaction's contract).
  template <class F>
  StoreResult<void> Atomically(F&& f) {
    if (poisoned_) return Fail(InternalError("sqlite: transaction unusable after a failed undo"));
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
    return FailIfNoRow(Db(), NotFound("environment.id", "no such environment"),
                       "SELECT 1 FROM environments WHERE id = ?1", id.str());
  }

  StoreResult<void> RequireApplication(const AppId& id, const EnvId& env, std::string target) {
    return FailIfNoRow(Db(), NotFound(std::move(target), "no such application in the environment"),
                       "SELECT 1 FROM applications WHERE id = ?1 AND environment_id = ?2", id.str(),
                       env.str());
  }

  StoreResult<void> CheckEnvironmentName(const model::Environment& v) {
    return FailIfRow(Db(), Conflict("name", "an environment with this name already exists"),
                     "SELECT 1 FROM environments WHERE name = ?1 AND id <> ?2", v.name, v.id.str());
  }

  StoreResult<void> CheckApplicationName(const model::Application& v) {
    return FailIfRow(
        Db(), Conflict("name", "an application with this name already exists in the environment"),
        "SELECT 1 FROM applications WHERE environment_id = ?1 AND name = ?2 AND id <> ?3",
        v.environment_id.str(), v.name, v.id.str());
  }

  StoreResult<void> CheckResourceName(const model::Resource& v) {
    return FailIfRow(
        Db(), Conflict("name", "a resource with this name already exists in the environment"),
        "SELECT 1 FROM resources WHERE environment_id = ?1 AND name = ?2 AND id <> ?3",
        v.environment_id.str(), v.name, v.id.str());
  }

  StoreResult<void> CheckScopeName(const model::Scope& v) {
    return FailIfRow(Db(),
                     Conflict("name", "a scope with this name already exists in the resource"),
                     "SELECT 1 FROM scopes WHERE resource_id = ?1 AND name = ?2 AND id <> ?3",
                     v.resource_id.str(), v.name, v.id.str());
  }

  StoreResult<void> CheckGrantReferences(const model::Grant& v) {
    TG_STORE_TRY(RequireApplication(v.application_id, v.environment_id, "application.id"));
    TG_STORE_TRY(FailIfNoRow(Db(), NotFound("resource.id", "no such resource in the environment"),
                             "SELECT 1 FROM resources WHERE id = ?1 AND environment_id = ?2",
                             v.resource_id.str(), v.environment_id.str()));
    std::set<ScopeId> seen;
    for (const ScopeId& scope : v.scopes) {
      if (!seen.insert(scope).second) {
        return Fail(Conflict("scopes", "a scope is listed twice in the grant"));
      }
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("scopes", "no such scope in the grant's resource"),
                               "SELECT 1 FROM scopes WHERE id = ?1 AND resource_id = ?2",
                               scope.str(), v.resource_id.str()));
    }
    return {};
  }

  StoreResult<void> InsertGrantScopes(const model::Grant& v) {
    int64_t position = 0;
    for (const ScopeId& scope : v.scopes) {
      TG_STORE_TRY(Execute(Db(),
                           "INSERT INTO grant_scopes (grant_id, resource_id, scope_id, position) "
                           "VALUES (?1, ?2, ?3, ?4)",
                           v.id.str(), v.resource_id.str(), scope.str(), position++));
    }
    return {};
  }

  const Connection& db_;
  const SecretCodec& codec_;
  bool poisoned_ = false;
};

// ---------------------------------------------------------------------------------------------
// Read side. Every list is ordered by (created_at, id); list columns keep their stored order.

StoreResult<std::optional<model::Organization>> LoadOrganization(sqlite3* db) {
  TG_STORE_ASSIGN(auto stmt,
                  Statement::Prepare(db, "SELECT id, name, created_at FROM organization"));
  std::optional<model::Organization> org;
  TG_STORE_TRY(ForEachRow(stmt, [&](Statement& s) -> StoreResult<void> {
    org = model::Organization{OrgId(s.Text(0)), s.Text(1), Time(s.Int(2))};
    return {};
  }));
  return org;
}

constexpr const char* kEnvironmentColumns =
    "SELECT id, organization_id, name, description, type, region, created_at, updated_at "
    "FROM environments";

StoreResult<model::Environment> ReadEnvironment(Statement& s) {
  model::Environment e;
  e.id = EnvId(s.Text(0));
  e.organization_id = OrgId(s.Text(1));
  e.name = s.Text(2);
  e.description = s.Text(3);
  const std::string type = s.Text(4);
  TG_STORE_ASSIGN(e.type, Decode(model::ParseEnvironmentType(type), "environment type", type));
  const std::string region = s.Text(5);
  TG_STORE_ASSIGN(e.region, Decode(model::ParseRegion(region), "region", region));
  e.created_at = Time(s.Int(6));
  e.updated_at = Time(s.Int(7));
  return e;
}

StoreResult<std::vector<model::Environment>> LoadEnvironments(sqlite3* db) {
  TG_STORE_ASSIGN(auto stmt, Statement::Prepare(db, fmt::format("{} ORDER BY created_at, id",
                                                                kEnvironmentColumns)));
  std::vector<model::Environment> out;
  TG_STORE_TRY(ForEachRow(stmt, [&](Statement& s) -> StoreResult<void> {
    TG_STORE_ASSIGN(auto env, ReadEnvironment(s));
    out.push_back(std::move(env));
    return {};
  }));
  return out;
}

StoreResult<std::optional<model::Environment>> LoadEnvironmentRow(sqlite3* db, const EnvId& id) {
  TG_STORE_ASSIGN(auto stmt,
                  Statement::Prepare(db, fmt::format("{} WHERE id = ?1", kEnvironmentColumns)));
  stmt.Bind(id.str());
  std::optional<model::Environment> out;
  TG_STORE_TRY(ForEachRow(stmt, [&](Statement& s) -> StoreResult<void> {
    TG_STORE_ASSIGN(auto env, ReadEnvironment(s));
    out = std::move(env);
    return {};
  }));
  return out;
}

class EnvironmentLoader {
 public:
  EnvironmentLoader(sqlite3* db, const SecretCodec& codec, model::Environment env)
      : db_(db), codec_(codec) {
    data_.environment = std::move(env);
  }

  StoreResult<EnvironmentData> Load() && {
    TG_STORE_TRY(LoadApplications());
    TG_STORE_TRY(LoadSecrets());
    TG_STORE_TRY(LoadResources());
    TG_STORE_TRY(LoadScopes());
    TG_STORE_TRY(LoadGrants());
    TG_STORE_TRY(LoadRoleAssignments());
    TG_STORE_TRY(LoadSigningKeys());
    return std::move(data_);
  }

 private:
  const std::string& EnvIdText() const { return data_.environment.id.str(); }

  StoreResult<Statement> Query(std::string_view sql) {
    TG_STORE_ASSIGN(auto stmt, Statement::Prepare(db_, sql));
    stmt.Bind(EnvIdText());
    return stmt;
  }

  StoreResult<void> LoadApplications() {
    TG_STORE_ASSIGN(
        auto stmt,
        Query("SELECT id, name, description, enabled, protocol, type, token_endpoint_auth_method, "
              "jwks, jwks_url, request_scopes_for_multiple_resources_enabled, include_x5t, "
              "include_typ, created_at, updated_at FROM applications WHERE environment_id = ?1 "
              "ORDER BY created_at, id"));
    std::unordered_map<std::string, size_t> index;
    TG_STORE_TRY(ForEachRow(stmt, [&](Statement& s) -> StoreResult<void> {
      model::Application a;
      a.id = AppId(s.Text(0));
      a.environment_id = data_.environment.id;
      a.name = s.Text(1);
      a.description = s.Text(2);
      a.enabled = s.Bool(3);
      a.protocol = s.Text(4);
      const std::string type = s.Text(5);
      TG_STORE_ASSIGN(a.type, Decode(model::ParseAppType(type), "application type", type));
      const std::string method = s.Text(6);
      TG_STORE_ASSIGN(a.token_endpoint_auth_method,
                      Decode(model::ParseAuthMethod(method), "token endpoint auth method", method));
      a.jwks = s.Text(7);
      a.jwks_url = s.Text(8);
      a.request_scopes_for_multiple_resources_enabled = s.Bool(9);
      a.include_x5t = s.Bool(10);
      a.include_typ = s.Bool(11);
      a.created_at = Time(s.Int(12));
      a.updated_at = Time(s.Int(13));
      index.emplace(a.id.str(), data_.applications.size());
      data_.applications.push_back(std::move(a));
      return {};
    }));

    // Appends each (application_id, value) row of a list table through `add`.
    auto load_list = [&](const ListTable& table, auto add) -> StoreResult<void> {
      TG_STORE_ASSIGN(auto list, Query(table.select_sql));
      return ForEachRow(list, [&](Statement& s) -> StoreResult<void> {
        auto it = index.find(s.Text(0));
        if (it == index.end())
          return Fail(InternalError("corrupt row: list of unknown application"));
        return add(data_.applications[it->second], s.Text(1));
      });
    };
    TG_STORE_TRY(load_list(
        kGrantTypesTable, [](model::Application& a, const std::string& v) -> StoreResult<void> {
          TG_STORE_ASSIGN(auto g, Decode(model::ParseGrantType(v), "grant type", v));
          a.grant_types.push_back(g);
          return {};
        }));
    TG_STORE_TRY(load_list(kResponseTypesTable,
                           [](model::Application& a, std::string v) -> StoreResult<void> {
                             a.response_types.push_back(std::move(v));
                             return {};
                           }));
    return load_list(kRedirectUrisTable,
                     [](model::Application& a, std::string v) -> StoreResult<void> {
                       a.redirect_uris.push_back(std::move(v));
                       return {};
                     });
  }

  StoreResult<void> LoadSecrets() {
    TG_STORE_ASSIGN(auto stmt,
                    Query("SELECT s.application_id, s.secret, s.previous, s.previous_expires_at "
                          "FROM application_secrets s JOIN applications a "
                          "ON a.id = s.application_id AND a.environment_id = s.environment_id "
                          "WHERE s.environment_id = ?1 ORDER BY a.created_at, a.id"));
    return ForEachRow(stmt, [&](Statement& s) -> StoreResult<void> {
      model::ApplicationSecret secret;
      secret.application_id = AppId(s.Text(0));
      secret.environment_id = data_.environment.id;
      std::optional<std::string> opened =
          codec_.Open(s.Bytes(1), AppSecretAad(secret.application_id));
      if (!opened) {
        return Fail(WrongMasterKey(
            fmt::format("the secret of application {}", secret.application_id.str())));
      }
      secret.secret = std::move(*opened);
      if (std::optional<std::string> sealed_previous = s.OptionalBytes(2)) {
        secret.previous =
            codec_.Open(*sealed_previous, AppPreviousSecretAad(secret.application_id));
        if (!secret.previous) {
          return Fail(WrongMasterKey(
              fmt::format("the previous secret of application {}", secret.application_id.str())));
        }
      }
      secret.previous_expires_at = Time(s.OptionalInt(3));
      data_.secrets.push_back(std::move(secret));
      return {};
    });
  }

  StoreResult<void> LoadResources() {
    TG_STORE_ASSIGN(
        auto stmt,
        Query("SELECT id, name, description, type, audience, access_token_validity_seconds, "
              "introspect_endpoint_auth_method, secret, created_at, updated_at FROM resources "
              "WHERE environment_id = ?1 ORDER BY created_at, id"));
    return ForEachRow(stmt, [&](Statement& s) -> StoreResult<void> {
      model::Resource r;
      r.id = ResourceId(s.Text(0));
      r.environment_id = data_.environment.id;
      r.name = s.Text(1);
      r.description = s.Text(2);
      const std::string type = s.Text(3);
      TG_STORE_ASSIGN(r.type, Decode(model::ParseResourceType(type), "resource type", type));
      r.audience = s.Text(4);
      r.access_token_validity_seconds = s.Int32(5);
      const std::string method = s.Text(6);
      TG_STORE_ASSIGN(r.introspect_endpoint_auth_method,
                      Decode(model::ParseIntrospectAuthMethod(method),
                             "introspect endpoint auth method", method));
      std::optional<std::string> opened = codec_.Open(s.Bytes(7), ResourceSecretAad(r.id));
      if (!opened) {
        return Fail(WrongMasterKey(fmt::format("the secret of resource {}", r.id.str())));
      }
      r.secret = std::move(*opened);
      r.created_at = Time(s.Int(8));
      r.updated_at = Time(s.Int(9));
      data_.resources.push_back(std::move(r));
      return {};
    });
  }

  StoreResult<void> LoadScopes() {
    TG_STORE_ASSIGN(auto stmt,
                    Query("SELECT id, resource_id, name, description, created_at, updated_at "
                          "FROM scopes WHERE environment_id = ?1 ORDER BY created_at, id"));
    return ForEachRow(stmt, [&](Statement& s) -> StoreResult<void> {
      model::Scope scope;
      scope.id = ScopeId(s.Text(0));
      scope.resource_id = ResourceId(s.Text(1));
      scope.environment_id = data_.environment.id;
      scope.name = s.Text(2);
      scope.description = s.Text(3);
      scope.created_at = Time(s.Int(4));
      scope.updated_at = Time(s.Int(5));
      data_.scopes.push_back(std::move(scope));
      return {};
    });
  }

  StoreResult<void> LoadGrants() {
    TG_STORE_ASSIGN(auto stmt,
                    Query("SELECT id, application_id, resource_id, created_at, updated_at "
                          "FROM grants WHERE environment_id = ?1 ORDER BY created_at, id"));
    std::unordered_map<std::string, size_t> index;
    TG_STORE_TRY(ForEachRow(stmt, [&](Statement& s) -> StoreResult<void> {
      model::Grant g;
      g.id = GrantId(s.Text(0));
      g.environment_id = data_.environment.id;
      g.application_id = AppId(s.Text(1));
      g.resource_id = ResourceId(s.Text(2));
      g.created_at = Time(s.Int(3));
      g.updated_at = Time(s.Int(4));
      index.emplace(g.id.str(), data_.grants.size());
      data_.grants.push_back(std::move(g));
      return {};
    }));
    TG_STORE_ASSIGN(auto scopes,
                    Query("SELECT gs.grant_id, gs.scope_id FROM grant_scopes gs "
                          "JOIN grants g ON g.id = gs.grant_id WHERE g.environment_id = ?1 "
                          "ORDER BY gs.grant_id, gs.position"));
    return ForEachRow(scopes, [&](Statement& s) -> StoreResult<void> {
      auto it = index.find(s.Text(0));
      if (it == index.end()) return Fail(InternalError("corrupt row: scope of unknown grant"));
      data_.grants[it->second].scopes.emplace_back(s.Text(1));
      return {};
    });
  }

  StoreResult<void> LoadRoleAssignments() {
    TG_STORE_ASSIGN(auto stmt,
                    Query("SELECT id, application_id, role_id, scope_id, scope_type, created_at "
                          "FROM role_assignments WHERE environment_id = ?1 "
                          "ORDER BY created_at, id"));
    return ForEachRow(stmt, [&](Statement& s) -> StoreResult<void> {
      model::RoleAssignment ra;
      ra.id = RoleAssignmentId(s.Text(0));
      ra.environment_id = data_.environment.id;
      ra.application_id = AppId(s.Text(1));
      ra.role_id = RoleId(s.Text(2));
      ra.scope_id = s.Text(3);
      const std::string type = s.Text(4);
      TG_STORE_ASSIGN(ra.scope_type,
                      Decode(model::ParseRoleScopeType(type), "role scope type", type));
      ra.created_at = Time(s.Int(5));
      data_.role_assignments.push_back(std::move(ra));
      return {};
    });
  }

  StoreResult<void> LoadSigningKeys() {
    TG_STORE_ASSIGN(
        auto stmt,
        Query("SELECT id, name, algorithm, key_length, subject_dn, validity_period_days, "
              "is_default, revoked, private_key, certificate_der, created_at, starts_at, "
              "expires_at, retired_at FROM signing_keys WHERE environment_id = ?1 "
              "ORDER BY created_at, id"));
    return ForEachRow(stmt, [&](Statement& s) -> StoreResult<void> {
      model::SigningKey k;
      k.id = KeyId(s.Text(0));
      k.environment_id = data_.environment.id;
      k.name = s.Text(1);
      const std::string algorithm = s.Text(2);
      TG_STORE_ASSIGN(k.algorithm,
                      Decode(model::ParseKeyAlgorithm(algorithm), "key algorithm", algorithm));
      k.key_length = s.Int32(3);
      k.subject_dn = s.Text(4);
      k.validity_period_days = s.Int32(5);
      k.is_default = s.Bool(6);
      k.revoked = s.Bool(7);
      std::optional<std::string> opened = codec_.Open(s.Bytes(8), SigningKeyAad(k.id));
      if (!opened) {
        return Fail(WrongMasterKey(fmt::format("the private key of signing key {}", k.id.str())));
      }
      k.private_key_pem = std::move(*opened);
      k.certificate_der = s.Bytes(9);
      k.created_at = Time(s.Int(10));
      k.starts_at = Time(s.Int(11));
      k.expires_at = Time(s.Int(12));
      k.retired_at = Time(s.OptionalInt(13));
      data_.signing_keys.push_back(std::move(k));
      return {};
    });
  }

  sqlite3* db_;
  const SecretCodec& codec_;
  EnvironmentData data_;
};

// ---------------------------------------------------------------------------------------------
// Opening.

// Seals the check value at the first open; verifies it at every later one.
StoreResult<void> CheckMasterKey(const Connection& db, const SecretCodec& codec) {
  TG_STORE_ASSIGN(auto query,
                  Statement::Prepare(db.Handle(), "SELECT value FROM meta WHERE key = ?1"));
  query.Bind(kMasterKeyCheckKey);
  TG_STORE_ASSIGN(bool row, query.Step());
  if (row) {
    const std::string sealed = query.Bytes(0);
    TG_STORE_TRY(query.ColumnError());
    std::optional<std::string> opened = codec.Open(sealed, kMasterKeyCheckAad);
    if (!opened || *opened != kMasterKeyCheckPlaintext) {
      return Fail(WrongMasterKey("the store's master key check value"));
    }
    return {};
  }
  const std::string sealed = codec.Seal(kMasterKeyCheckPlaintext, kMasterKeyCheckAad);
  std::optional<std::string> reopened = codec.Open(sealed, kMasterKeyCheckAad);
  if (!reopened || *reopened != kMasterKeyCheckPlaintext) {
    return Fail(InternalError("the SecretCodec does not open what it sealed"));
  }
  return Execute(db.Handle(), "INSERT INTO meta (key, value) VALUES (?1, ?2)", kMasterKeyCheckKey,
                 Blob{sealed});
}

// Reads the single-row result of a PRAGMA as text.
StoreResult<std::string> PragmaText(const Connection& db, const char* sql) {
  TG_STORE_ASSIGN(auto stmt, Statement::Prepare(db.Handle(), sql));
  TG_STORE_ASSIGN(bool row, stmt.Step());
  if (!row) return Fail(InternalError(fmt::format("sqlite: '{}' returned no row", sql)));
  std::string value = stmt.Text(0);
  TG_STORE_TRY(stmt.ColumnError());
  return value;
}

StoreResult<void> Configure(const Connection& db, bool in_memory) {
  int rc = sqlite3_extended_result_codes(db.Handle(), 1);
  if (rc != SQLITE_OK) return Fail(SqliteError(db.Handle(), rc, "enable extended result codes"));
  rc = sqlite3_busy_timeout(db.Handle(), kBusyTimeoutMillis);
  if (rc != SQLITE_OK) return Fail(SqliteError(db.Handle(), rc, "set busy timeout"));

  TG_STORE_TRY(db.Exec("PRAGMA foreign_keys = ON"));
  TG_STORE_ASSIGN(std::string foreign_keys, PragmaText(db, "PRAGMA foreign_keys"));
  if (foreign_keys != "1") {
    return Fail(InternalError("sqlite: foreign keys cannot be enabled in this SQLite build"));
  }

  // Durable writes: WAL with an fsync at every commit.
  TG_STORE_ASSIGN(std::string journal_mode, PragmaText(db, "PRAGMA journal_mode = WAL"));
  const std::string expected_mode = in_memory ? "memory" : "wal";
  if (journal_mode != expected_mode) {
    return Fail(InternalError(
        fmt::format("sqlite: could not switch to WAL (journal mode is '{}')", journal_mode)));
  }
  TG_STORE_TRY(db.Exec("PRAGMA synchronous = FULL"));
  TG_STORE_ASSIGN(std::string synchronous, PragmaText(db, "PRAGMA synchronous"));
  if (synchronous != "2") {
    return Fail(InternalError("sqlite: could not set synchronous = FULL"));
  }
  return {};
}

StoreResult<void> MigrateAndCheckKey(const Connection& db, const SecretCodec& codec) {
  TG_STORE_TRY(db.Exec("BEGIN IMMEDIATE"));
  StoreResult<void> result = Migrate(db, ToUnixMillis(SystemClock().Now()));
  if (result.ok()) result = CheckMasterKey(db, codec);
  if (result.ok()) result = db.Exec("COMMIT");
  if (!result.ok()) db.RollbackIfInTransaction();
  return result;
}

// ---------------------------------------------------------------------------------------------
// The store.

class SqliteStore final : public Store {
 public:
  SqliteStore(Connection db, std::shared_ptr<const SecretCodec> codec)
      : db_(std::move(db)), codec_(std::move(codec)) {}

  StoreResult<void> Write(const std::function<StoreResult<void>(Transaction&)>& body) override {
    if (!body) return Fail(InternalError("Write: empty body"));
    return Serialized([&]() -> StoreResult<void> {
      TG_STORE_TRY(db_.Exec("BEGIN IMMEDIATE"));
      StoreResult<void> result;
      try {
        SqliteTransaction tx(db_, *codec_);
        result = body(tx);
        if (result.ok() && tx.Poisoned()) {
          result = Fail(InternalError("sqlite: a failed call could not be undone; rolled back"));
        }
      } catch (...) {
        // The body's exception text may hold anything; it is not logged.
        result = Fail(InternalError("the Write body threw an exception; rolled back"));
      }
      if (result.ok()) {
        result = db_.Exec("COMMIT");
        if (result.ok()) return result;
      }
      if (!db_.RollbackIfInTransaction()) {
        log::Error("sqlite: the store connection is stuck inside a transaction");
      }
      return result;
    });
  }

  StoreResult<Deployment> LoadAll() override {
    return Serialized([&]() { return InReadTransaction([&]() { return LoadAllLocked(); }); });
  }

  StoreResult<EnvironmentData> LoadEnvironment(const EnvId& id) override {
    return Serialized(
        [&]() { return InReadTransaction([&]() { return LoadEnvironmentLocked(id); }); });
  }

  StoreResult<bool> RememberJti(const RememberedJti& jti, TimePoint now) override {
    return Serialized([&]() -> StoreResult<bool> {
      TG_STORE_TRY(db_.Exec("BEGIN IMMEDIATE"));
      auto result = [&]() -> StoreResult<bool> {
        TG_STORE_TRY(FailIfNoRow(db_.Handle(), NotFound("environment.id", "no such environment"),
                                 "SELECT 1 FROM environments WHERE id = ?1",
                                 jti.environment_id.str()));
        // An expired entry no longer blocks the same jti.
        TG_STORE_TRY(Execute(db_.Handle(),
                             "DELETE FROM remembered_jtis WHERE kind = ?1 AND environment_id = ?2 "
                             "AND jti = ?3 AND expires_at <= ?4",
                             JtiKindName(jti.kind), jti.environment_id.str(), jti.jti,
                             Millis(now)));
        TG_STORE_TRY(Execute(db_.Handle(),
                             "INSERT OR IGNORE INTO remembered_jtis (kind, environment_id, jti, "
                             "expires_at) VALUES (?1, ?2, ?3, ?4)",
                             JtiKindName(jti.kind), jti.environment_id.str(), jti.jti,
                             Millis(jti.expires_at)));
        return sqlite3_changes(db_.Handle()) == 1;
      }();
      if (!result.ok()) {
        db_.RollbackIfInTransaction();
        return result;
      }
      if (auto committed = db_.Exec("COMMIT"); !committed.ok()) {
        db_.RollbackIfInTransaction();
        return Fail(std::move(committed).error());
      }
      return result;
    });
  }

  StoreResult<void> RememberJtis(const std::vector<RememberedJti>& jtis, TimePoint now) override {
    if (jtis.empty()) return {};
    return Serialized([&]() -> StoreResult<void> {
      TG_STORE_TRY(db_.Exec("BEGIN IMMEDIATE"));
      auto result = [&]() -> StoreResult<void> {
        for (const RememberedJti& jti : jtis) {
          TG_STORE_TRY(
              Execute(db_.Handle(),
                      "DELETE FROM remembered_jtis WHERE kind = ?1 AND environment_id = ?2 "
                      "AND jti = ?3 AND expires_at <= ?4",
                      JtiKindName(jti.kind), jti.environment_id.str(), jti.jti, Millis(now)));
          // Only for environments that still exist; an existing entry is kept as it is.
          TG_STORE_TRY(Execute(db_.Handle(),
                               "INSERT OR IGNORE INTO remembered_jtis (kind, environment_id, jti, "
                               "expires_at) SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM "
                               "environments WHERE id = ?2)",
                               JtiKindName(jti.kind), jti.environment_id.str(), jti.jti,
                               Millis(jti.expires_at)));
        }
        return {};
      }();
      if (result.ok()) result = db_.Exec("COMMIT");
      if (!result.ok()) db_.RollbackIfInTransaction();
      return result;
    });
  }

  StoreResult<std::vector<RememberedJti>> LoadJtis(JtiKind kind, TimePoint now) override {
    return Serialized([&]() -> StoreResult<std::vector<RememberedJti>> {
      TG_STORE_ASSIGN(auto stmt,
                      Statement::Prepare(db_.Handle(),
                                         "SELECT environment_id, jti, expires_at FROM "
                                         "remembered_jtis WHERE kind = ?1 AND expires_at > ?2 "
                                         "ORDER BY expires_at, environment_id, jti"));
      stmt.Bind(JtiKindName(kind), Millis(now));
      std::vector<RememberedJti> out;
      TG_STORE_TRY(ForEachRow(stmt, [&](Statement& row) -> StoreResult<void> {
        out.push_back({kind, EnvId(row.Text(0)), row.Text(1), Time(row.Int(2))});
        return {};
      }));
      return out;
    });
  }

  StoreResult<void> PurgeExpiredJtis(TimePoint now) override {
    return Serialized([&]() -> StoreResult<void> {
      return Execute(db_.Handle(), "DELETE FROM remembered_jtis WHERE expires_at <= ?1",
                     Millis(now));
    });
  }

 private:
  // Runs `f` holding the connection. A call made from inside a Write body on the same thread
  // fails instead of deadlocking; an exception leaves no transaction open.
  template <class F>
  auto Serialized(F&& f) -> decltype(f()) {
    if (holder_.load() == std::this_thread::get_id()) {
      return Fail(InternalError("the store was called from inside its own Write body"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    holder_.store(std::this_thread::get_id());
    struct ResetHolder {
      std::atomic<std::thread::id>& holder;
      ~ResetHolder() { holder.store(std::thread::id()); }
    } reset{holder_};
    try {
      return f();
    } catch (...) {
      db_.RollbackIfInTransaction();
      return Fail(InternalError("sqlite: unexpected exception; rolled back"));
    }
  }

  // One read transaction, so that everything returned is one consistent snapshot.
  template <class F>
  auto InReadTransaction(F&& f) -> decltype(f()) {
    TG_STORE_TRY(db_.Exec("BEGIN"));
    auto result = f();
    if (result.ok()) {
      StoreResult<void> ended = db_.Exec("COMMIT");
      if (ended.ok()) return result;
      db_.RollbackIfInTransaction();
      return Fail(std::move(ended).error());
    }
    db_.RollbackIfInTransaction();
    return result;
  }

  StoreResult<Deployment> LoadAllLocked() {
    Deployment out;
    TG_STORE_ASSIGN(out.organization, LoadOrganization(db_.Handle()));
    TG_STORE_ASSIGN(auto environments, LoadEnvironments(db_.Handle()));
    out.environments.reserve(environments.size());
    for (model::Environment& env : environments) {
      TG_STORE_ASSIGN(auto data, EnvironmentLoader(db_.Handle(), *codec_, std::move(env)).Load());
      out.environments.push_back(std::move(data));
    }
    return out;
  }

  StoreResult<EnvironmentData> LoadEnvironmentLocked(const EnvId& id) {
    TG_STORE_ASSIGN(auto env, LoadEnvironmentRow(db_.Handle(), id));
    if (!env) return Fail(NotFound("id", "no such environment"));
    return EnvironmentLoader(db_.Handle(), *codec_, std::move(*env)).Load();
  }

  std::mutex mu_;
  std::atomic<std::thread::id> holder_{};
  Connection db_;
  std::shared_ptr<const SecretCodec> codec_;
};

StoreResult<std::unique_ptr<Store>> OpenAndPrepare(const std::string& path,
                                                   std::shared_ptr<const SecretCodec> codec) {
  const bool in_memory = path == ":memory:";
  if (!in_memory) {
    // The file holds sealed secrets and everything else: readable by its owner only. SQLite
    // gives the -wal and -shm files the mode of the database file.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
    } else if (errno != EEXIST) {
      return Fail(StoreError{
          StoreErrorCode::kUnavailable,
          fmt::format("sqlite: cannot create '{}': {}", path, std::strerror(errno)), ""});
    }
  }
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Connection db(raw);  // closes the handle even when opening failed
  if (rc != SQLITE_OK) return Fail(SqliteError(raw, rc, fmt::format("open '{}'", path)));
  TG_STORE_TRY(Configure(db, in_memory));
  TG_STORE_TRY(MigrateAndCheckKey(db, *codec));
  return std::unique_ptr<Store>(std::make_unique<SqliteStore>(std::move(db), std::move(codec)));
}

}  // namespace

StoreResult<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                    std::shared_ptr<const SecretCodec> codec) {
  if (!codec) return Fail(InternalError("OpenSqliteStore: no SecretCodec"));
  if (path.empty()) return Fail(InternalError("sqlite: empty database path"));
  try {
    return OpenAndPrepare(path, std::move(codec));
  } catch (...) {
    return Fail(InternalError("sqlite: unexpected exception while opening the store"));
  }
}

}  // namespace tollgate::storage::sqlite
