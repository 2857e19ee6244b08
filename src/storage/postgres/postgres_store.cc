#include "storage/postgres/postgres_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "storage/postgres/pg.h"
#include "storage/postgres/schema.h"

namespace tollgate::storage::postgres {
namespace {

using sql::Conflict;
using sql::IdConflict;
using sql::NotFound;
using sql::WrongMasterKey;

// Advisory lock keys (pg_advisory_xact_lock): one serializes every management write of the
// deployment, across nodes, as SQLite's BEGIN IMMEDIATE does within one file; the other
// serializes migrations of nodes that start at once.
constexpr int64_t kWriteLockKey = 0x546f6c6c67617465;    // "Tollgate"
constexpr int64_t kMigrateLockKey = 0x546f6c6c4d696772;  // "TollMigr"

// The value sealed into `meta` at the first open, so that a store opened under another master
// key is refused at open even when it holds no secret yet.
constexpr std::string_view kMasterKeyCheckKey = "master_key_check";
constexpr std::string_view kMasterKeyCheckPlaintext = "tollgate-master-key-check";
constexpr std::string_view kMasterKeyCheckAad = "meta:master_key_check";

// Associated data binding each sealed value to its row and column (the same as the SQLite
// backend's, so sealed values mean the same in both).
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

std::optional<TimePoint> Time(const std::optional<int64_t>& ms) {
  if (!ms) return std::nullopt;
  return FromUnixMillis(*ms);
}

std::string_view JtiKindName(JtiKind kind) {
  return kind == JtiKind::kRevokedToken ? "REVOKED_TOKEN" : "USED_ASSERTION";
}

std::optional<JtiKind> ParseJtiKind(std::string_view s) {
  if (s == "REVOKED_TOKEN") return JtiKind::kRevokedToken;
  if (s == "USED_ASSERTION") return JtiKind::kUsedAssertion;
  return std::nullopt;
}

// One row of a result, read with the accessors of the SQLite backend's Statement, so that the
// two backends' loaders read alike.
class Row {
 public:
  Row(const Rows& rows, int row) : rows_(rows), row_(row) {}
  std::string Text(int col) const { return rows_.Text(row_, col); }
  std::string Bytes(int col) const { return rows_.Bytes(row_, col); }
  int64_t Int(int col) const { return rows_.Int(row_, col); }
  int32_t Int32(int col) const { return rows_.Int32(row_, col); }
  bool Bool(int col) const { return rows_.Bool(row_, col); }
  std::optional<int64_t> OptionalInt(int col) const { return rows_.OptionalInt(row_, col); }
  std::optional<std::string> OptionalBytes(int col) const { return rows_.OptionalBytes(row_, col); }

 private:
  const Rows& rows_;
  int row_;
};

// Calls `f(row)` (returning StoreResult<void>) for each row.
template <class F>
StoreResult<void> ForEachRow(const Rows& rows, F&& f) {
  for (int i = 0; i < rows.count(); ++i) {
    TG_STORE_TRY(f(Row(rows, i)));
    TG_STORE_TRY(rows.ColumnError());
  }
  return {};
}

template <class... A>
StoreResult<bool> HasRow(const Connection& db, std::string_view sql, const A&... args) {
  TG_STORE_ASSIGN(auto rows, db.Run(sql, args...));
  return rows.count() > 0;
}

// Fails with `error` when the query yields a row.
template <class... A>
StoreResult<void> FailIfRow(const Connection& db, StoreError error, std::string_view sql,
                            const A&... args) {
  TG_STORE_ASSIGN(bool row, HasRow(db, sql, args...));
  if (row) return Fail(std::move(error));
  return {};
}

// Fails with `error` when the query yields no row.
template <class... A>
StoreResult<void> FailIfNoRow(const Connection& db, StoreError error, std::string_view sql,
                              const A&... args) {
  TG_STORE_ASSIGN(bool row, HasRow(db, sql, args...));
  if (!row) return Fail(std::move(error));
  return {};
}

template <class... A>
StoreResult<void> Execute(const Connection& db, std::string_view sql, const A&... args) {
  TG_STORE_TRY(db.Run(sql, args...));
  return {};
}

// Executes a DELETE/UPDATE of one row by key; kNotFound (naming `what`) when no row changed.
template <class... A>
StoreResult<void> ChangeOneRow(const Connection& db, std::string_view what, std::string_view sql,
                               const A&... args) {
  TG_STORE_ASSIGN(auto rows, db.Run(sql, args...));
  if (rows.affected() == 0) return Fail(NotFound("id", fmt::format("no such {}", what)));
  return {};
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
    "INSERT INTO application_grant_types (application_id, position, value) VALUES ($1, $2, $3)",
    "DELETE FROM application_grant_types WHERE application_id = $1",
    "SELECT l.application_id, l.value FROM application_grant_types l"
    " JOIN applications a ON a.id = l.application_id WHERE a.environment_id = $1"
    " ORDER BY l.application_id, l.position"};
constexpr ListTable kResponseTypesTable{
    "INSERT INTO application_response_types (application_id, position, value) VALUES ($1, $2, $3)",
    "DELETE FROM application_response_types WHERE application_id = $1",
    "SELECT l.application_id, l.value FROM application_response_types l"
    " JOIN applications a ON a.id = l.application_id WHERE a.environment_id = $1"
    " ORDER BY l.application_id, l.position"};
constexpr ListTable kRedirectUrisTable{
    "INSERT INTO application_redirect_uris (application_id, position, value) VALUES ($1, $2, $3)",
    "DELETE FROM application_redirect_uris WHERE application_id = $1",
    "SELECT l.application_id, l.value FROM application_redirect_uris l"
    " JOIN applications a ON a.id = l.application_id WHERE a.environment_id = $1"
    " ORDER BY l.application_id, l.position"};

StoreResult<void> ReplaceList(const Connection& db, const ListTable& table, const AppId& id,
                              const std::vector<std::string>& values) {
  TG_STORE_TRY(Execute(db, table.delete_sql, id.str()));
  int64_t position = 0;
  for (const std::string& value : values) {
    TG_STORE_TRY(Execute(db, table.insert_sql, id.str(), position++, value));
  }
  return {};
}

StoreResult<void> ReplaceApplicationLists(const Connection& db, const model::Application& v) {
  std::vector<std::string> grant_types;
  grant_types.reserve(v.grant_types.size());
  for (model::GrantType g : v.grant_types) grant_types.emplace_back(model::ToString(g));
  TG_STORE_TRY(ReplaceList(db, kGrantTypesTable, v.id, grant_types));
  TG_STORE_TRY(ReplaceList(db, kResponseTypesTable, v.id, v.response_types));
  return ReplaceList(db, kRedirectUrisTable, v.id, v.redirect_uris);
}

// ---------------------------------------------------------------------------------------------
// Write side.

class PgTransaction final : public Transaction {
 public:
  PgTransaction(const Connection& db, const SecretCodec& codec) : db_(db), codec_(codec) {}

  // True when a failed call could not be undone; the transaction must then be rolled back.
  bool Poisoned() const { return poisoned_; }

  StoreResult<void> Insert(const model::Organization& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(),
                             StoreError{StoreErrorCode::kAlreadyInitialized,
                                        "the store already has an organization", ""},
                             "SELECT 1 FROM organization"));
      return Execute(Db(), "INSERT INTO organization (id, name, created_at) VALUES ($1, $2, $3)",
                     v.id.str(), v.name, Millis(v.created_at));
    });
  }

  StoreResult<void> Insert(const model::Environment& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(), IdConflict("environment"),
                             "SELECT 1 FROM environments WHERE id = $1", v.id.str()));
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("organization.id", "no such organization"),
                               "SELECT 1 FROM organization WHERE id = $1",
                               v.organization_id.str()));
      TG_STORE_TRY(CheckEnvironmentName(v));
      return Execute(Db(),
                     "INSERT INTO environments (id, organization_id, name, description, type, "
                     "region, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                     v.id.str(), v.organization_id.str(), v.name, v.description,
                     model::ToString(v.type), model::ToString(v.region), Millis(v.created_at),
                     Millis(v.updated_at));
    });
  }

  StoreResult<void> Update(const model::Environment& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("id", "no such environment"),
                               "SELECT 1 FROM environments WHERE id = $1", v.id.str()));
      TG_STORE_TRY(CheckEnvironmentName(v));
      return Execute(Db(),
                     "UPDATE environments SET name = $2, description = $3, type = $4, "
                     "region = $5, updated_at = $6 WHERE id = $1",
                     v.id.str(), v.name, v.description, model::ToString(v.type),
                     model::ToString(v.region), Millis(v.updated_at));
    });
  }

  StoreResult<void> Insert(const model::Application& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(), IdConflict("application"),
                             "SELECT 1 FROM applications WHERE id = $1", v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      TG_STORE_TRY(CheckApplicationName(v));
      TG_STORE_TRY(Execute(
          Db(),
          "INSERT INTO applications (id, environment_id, name, description, enabled, protocol, "
          "type, token_endpoint_auth_method, jwks, jwks_url, "
          "request_scopes_for_multiple_resources_enabled, include_x5t, include_typ, created_at, "
          "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
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
          "UPDATE applications SET name = $3, description = $4, enabled = $5, protocol = $6, "
          "type = $7, token_endpoint_auth_method = $8, jwks = $9, jwks_url = $10, "
          "request_scopes_for_multiple_resources_enabled = $11, include_x5t = $12, "
          "include_typ = $13, updated_at = $14 WHERE id = $1 AND environment_id = $2",
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
      std::optional<Bytea> previous_blob;
      if (sealed_previous) previous_blob = Bytea{*sealed_previous};
      return Execute(Db(),
                     "INSERT INTO application_secrets (application_id, environment_id, secret, "
                     "previous, previous_expires_at) VALUES ($1, $2, $3, $4, $5) "
                     "ON CONFLICT (application_id) DO UPDATE SET secret = excluded.secret, "
                     "previous = excluded.previous, "
                     "previous_expires_at = excluded.previous_expires_at",
                     v.application_id.str(), v.environment_id.str(), Bytea{sealed}, previous_blob,
                     Millis(v.previous_expires_at));
    });
  }

  StoreResult<void> Insert(const model::Resource& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(), IdConflict("resource"), "SELECT 1 FROM resources WHERE id = $1",
                             v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      TG_STORE_TRY(CheckResourceName(v));
      const std::string sealed = codec_.Seal(v.secret, ResourceSecretAad(v.id));
      return Execute(Db(),
                     "INSERT INTO resources (id, environment_id, name, description, type, "
                     "audience, access_token_validity_seconds, introspect_endpoint_auth_method, "
                     "secret, created_at, updated_at) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                     v.id.str(), v.environment_id.str(), v.name, v.description,
                     model::ToString(v.type), v.audience, v.access_token_validity_seconds,
                     model::ToString(v.introspect_endpoint_auth_method), Bytea{sealed},
                     Millis(v.created_at), Millis(v.updated_at));
    });
  }

  StoreResult<void> Update(const model::Resource& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("id", "no such resource"),
                               "SELECT 1 FROM resources WHERE id = $1 AND environment_id = $2",
                               v.id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckResourceName(v));
      return Execute(Db(),
                     "UPDATE resources SET name = $3, description = $4, type = $5, "
                     "audience = $6, access_token_validity_seconds = $7, "
                     "introspect_endpoint_auth_method = $8, updated_at = $9 "
                     "WHERE id = $1 AND environment_id = $2",
                     v.id.str(), v.environment_id.str(), v.name, v.description,
                     model::ToString(v.type), v.audience, v.access_token_validity_seconds,
                     model::ToString(v.introspect_endpoint_auth_method), Millis(v.updated_at));
    });
  }

  StoreResult<void> SetResourceSecret(const ResourceId& id, const std::string& secret) override {
    return Atomically([&]() -> StoreResult<void> {
      const std::string sealed = codec_.Seal(secret, ResourceSecretAad(id));
      return ChangeOneRow(Db(), "resource", "UPDATE resources SET secret = $2 WHERE id = $1",
                          id.str(), Bytea{sealed});
    });
  }

  StoreResult<void> Insert(const model::Scope& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(
          FailIfRow(Db(), IdConflict("scope"), "SELECT 1 FROM scopes WHERE id = $1", v.id.str()));
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("resource.id", "no such resource in the environment"),
                               "SELECT 1 FROM resources WHERE id = $1 AND environment_id = $2",
                               v.resource_id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckScopeName(v));
      return Execute(Db(),
                     "INSERT INTO scopes (id, resource_id, environment_id, name, description, "
                     "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     v.id.str(), v.resource_id.str(), v.environment_id.str(), v.name, v.description,
                     Millis(v.created_at), Millis(v.updated_at));
    });
  }

  StoreResult<void> Update(const model::Scope& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(
          Db(), NotFound("id", "no such scope"),
          "SELECT 1 FROM scopes WHERE id = $1 AND resource_id = $2 AND environment_id = $3",
          v.id.str(), v.resource_id.str(), v.environment_id.str()));
      TG_STORE_TRY(CheckScopeName(v));
      return Execute(Db(),
                     "UPDATE scopes SET name = $2, description = $3, updated_at = $4 "
                     "WHERE id = $1",
                     v.id.str(), v.name, v.description, Millis(v.updated_at));
    });
  }

  StoreResult<void> Insert(const model::Grant& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(
          FailIfRow(Db(), IdConflict("grant"), "SELECT 1 FROM grants WHERE id = $1", v.id.str()));
      TG_STORE_TRY(CheckGrantReferences(v));
      TG_STORE_TRY(Execute(Db(),
                           "INSERT INTO grants (id, environment_id, application_id, resource_id, "
                           "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
                           v.id.str(), v.environment_id.str(), v.application_id.str(),
                           v.resource_id.str(), Millis(v.created_at), Millis(v.updated_at)));
      return InsertGrantScopes(v);
    });
  }

  StoreResult<void> Update(const model::Grant& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(
          Db(), NotFound("id", "no such grant"),
          "SELECT 1 FROM grants WHERE id = $1 AND environment_id = $2 AND application_id = $3",
          v.id.str(), v.environment_id.str(), v.application_id.str()));
      TG_STORE_TRY(CheckGrantReferences(v));
      // The scope rows reference the grant's resource: drop them before the resource changes.
      TG_STORE_TRY(Execute(Db(), "DELETE FROM grant_scopes WHERE grant_id = $1", v.id.str()));
      TG_STORE_TRY(Execute(Db(),
                           "UPDATE grants SET resource_id = $2, updated_at = $3 WHERE id = $1",
                           v.id.str(), v.resource_id.str(), Millis(v.updated_at)));
      return InsertGrantScopes(v);
    });
  }

  StoreResult<void> Insert(const model::RoleAssignment& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(), IdConflict("role assignment"),
                             "SELECT 1 FROM role_assignments WHERE id = $1", v.id.str()));
      TG_STORE_TRY(RequireApplication(v.application_id, v.environment_id, "application.id"));
      if (!IsBuiltinRole(v.role_id)) return Fail(NotFound("role.id", "no such role"));
      if (v.scope_type == model::RoleScopeType::kOrganization) {
        TG_STORE_TRY(FailIfNoRow(Db(), NotFound("scope.id", "no such organization"),
                                 "SELECT 1 FROM organization WHERE id = $1", v.scope_id));
      } else {
        TG_STORE_TRY(FailIfNoRow(Db(), NotFound("scope.id", "no such environment"),
                                 "SELECT 1 FROM environments WHERE id = $1", v.scope_id));
      }
      return Execute(Db(),
                     "INSERT INTO role_assignments (id, environment_id, application_id, role_id, "
                     "scope_id, scope_type, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     v.id.str(), v.environment_id.str(), v.application_id.str(), v.role_id.str(),
                     v.scope_id, model::ToString(v.scope_type), Millis(v.created_at));
    });
  }

  StoreResult<void> Insert(const model::SigningKey& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfRow(Db(), IdConflict("signing key"),
                             "SELECT 1 FROM signing_keys WHERE id = $1", v.id.str()));
      TG_STORE_TRY(RequireEnvironment(v.environment_id));
      const std::string sealed = codec_.Seal(v.private_key_pem, SigningKeyAad(v.id));
      return Execute(
          Db(),
          "INSERT INTO signing_keys (id, environment_id, name, algorithm, key_length, "
          "subject_dn, validity_period_days, is_default, revoked, private_key, certificate_der, "
          "created_at, starts_at, expires_at, retired_at) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
          v.id.str(), v.environment_id.str(), v.name, model::ToString(v.algorithm), v.key_length,
          v.subject_dn, v.validity_period_days, v.is_default, v.revoked, Bytea{sealed},
          Bytea{v.certificate_der}, Millis(v.created_at), Millis(v.starts_at), Millis(v.expires_at),
          Millis(v.retired_at));
    });
  }

  StoreResult<void> Update(const model::SigningKey& v) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("id", "no such signing key"),
                               "SELECT 1 FROM signing_keys WHERE id = $1 AND environment_id = $2",
                               v.id.str(), v.environment_id.str()));
      return Execute(Db(),
                     "UPDATE signing_keys SET name = $3, algorithm = $4, key_length = $5, "
                     "subject_dn = $6, validity_period_days = $7, is_default = $8, revoked = $9, "
                     "starts_at = $10, expires_at = $11, retired_at = $12 "
                     "WHERE id = $1 AND environment_id = $2",
                     v.id.str(), v.environment_id.str(), v.name, model::ToString(v.algorithm),
                     v.key_length, v.subject_dn, v.validity_period_days, v.is_default, v.revoked,
                     Millis(v.starts_at), Millis(v.expires_at), Millis(v.retired_at));
    });
  }

  StoreResult<void> MakeDefaultKey(const KeyId& id, TimePoint now) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("id", "no such signing key"),
                               "SELECT 1 FROM signing_keys WHERE id = $1", id.str()));
      TG_STORE_TRY(Execute(Db(),
                           "UPDATE signing_keys SET is_default = false, retired_at = $2 "
                           "WHERE is_default AND id <> $1 AND environment_id = "
                           "(SELECT environment_id FROM signing_keys WHERE id = $1)",
                           id.str(), Millis(now)));
      return Execute(Db(),
                     "UPDATE signing_keys SET is_default = true, retired_at = NULL WHERE id = $1",
                     id.str());
    });
  }

  // Deletes. Foreign keys (ON DELETE CASCADE) take the dependent rows; see schema.cc.
  StoreResult<void> Delete(const EnvId& id) override {
    return Atomically([&]() -> StoreResult<void> {
      TG_STORE_TRY(
          ChangeOneRow(Db(), "environment", "DELETE FROM environments WHERE id = $1", id.str()));
      // Role assignments of other environments' applications that were scoped to this one.
      return Execute(Db(), "DELETE FROM role_assignments WHERE scope_type = $1 AND scope_id = $2",
                     model::ToString(model::RoleScopeType::kEnvironment), id.str());
    });
  }
  StoreResult<void> Delete(const AppId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "application", "DELETE FROM applications WHERE id = $1", id.str());
    });
  }
  StoreResult<void> Delete(const ResourceId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "resource", "DELETE FROM resources WHERE id = $1", id.str());
    });
  }
  StoreResult<void> Delete(const ScopeId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "scope", "DELETE FROM scopes WHERE id = $1", id.str());
    });
  }
  StoreResult<void> Delete(const GrantId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "grant", "DELETE FROM grants WHERE id = $1", id.str());
    });
  }
  StoreResult<void> Delete(const RoleAssignmentId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "role assignment", "DELETE FROM role_assignments WHERE id = $1",
                          id.str());
    });
  }
  StoreResult<void> Delete(const KeyId& id) override {
    return Atomically([&]() {
      return ChangeOneRow(Db(), "signing key", "DELETE FROM signing_keys WHERE id = $1", id.str());
    });
  }

 private:
  const Connection& Db() const { return db_; }

  // Runs `f` under a savepoint: when it fails, everything it did is undone and the rest of the
  // transaction is kept (Transaction's contract).
  template <class F>
  StoreResult<void> Atomically(F&& f) {
    if (poisoned_) return Fail(InternalError("postgres: transaction unusable after a failed undo"));
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
                       "SELECT 1 FROM environments WHERE id = $1", id.str());
  }

  StoreResult<void> RequireApplication(const AppId& id, const EnvId& env, std::string target) {
    return FailIfNoRow(Db(), NotFound(std::move(target), "no such application in the environment"),
                       "SELECT 1 FROM applications WHERE id = $1 AND environment_id = $2", id.str(),
                       env.str());
  }

  StoreResult<void> CheckEnvironmentName(const model::Environment& v) {
    return FailIfRow(Db(), Conflict("name", "an environment with this name already exists"),
                     "SELECT 1 FROM environments WHERE name = $1 AND id <> $2", v.name, v.id.str());
  }

  StoreResult<void> CheckApplicationName(const model::Application& v) {
    return FailIfRow(
        Db(), Conflict("name", "an application with this name already exists in the environment"),
        "SELECT 1 FROM applications WHERE environment_id = $1 AND name = $2 AND id <> $3",
        v.environment_id.str(), v.name, v.id.str());
  }

  StoreResult<void> CheckResourceName(const model::Resource& v) {
    return FailIfRow(
        Db(), Conflict("name", "a resource with this name already exists in the environment"),
        "SELECT 1 FROM resources WHERE environment_id = $1 AND name = $2 AND id <> $3",
        v.environment_id.str(), v.name, v.id.str());
  }

  StoreResult<void> CheckScopeName(const model::Scope& v) {
    return FailIfRow(Db(),
                     Conflict("name", "a scope with this name already exists in the resource"),
                     "SELECT 1 FROM scopes WHERE resource_id = $1 AND name = $2 AND id <> $3",
                     v.resource_id.str(), v.name, v.id.str());
  }

  StoreResult<void> CheckGrantReferences(const model::Grant& v) {
    TG_STORE_TRY(RequireApplication(v.application_id, v.environment_id, "application.id"));
    TG_STORE_TRY(FailIfNoRow(Db(), NotFound("resource.id", "no such resource in the environment"),
                             "SELECT 1 FROM resources WHERE id = $1 AND environment_id = $2",
                             v.resource_id.str(), v.environment_id.str()));
    std::set<ScopeId> seen;
    for (const ScopeId& scope : v.scopes) {
      if (!seen.insert(scope).second) {
        return Fail(Conflict("scopes", "a scope is listed twice in the grant"));
      }
      TG_STORE_TRY(FailIfNoRow(Db(), NotFound("scopes", "no such scope in the grant's resource"),
                               "SELECT 1 FROM scopes WHERE id = $1 AND resource_id = $2",
                               scope.str(), v.resource_id.str()));
    }
    return {};
  }

  StoreResult<void> InsertGrantScopes(const model::Grant& v) {
    int64_t position = 0;
    for (const ScopeId& scope : v.scopes) {
      TG_STORE_TRY(Execute(Db(),
                           "INSERT INTO grant_scopes (grant_id, resource_id, scope_id, position) "
                           "VALUES ($1, $2, $3, $4)",
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

StoreResult<std::optional<model::Organization>> LoadOrganization(const Connection& db) {
  TG_STORE_ASSIGN(auto stmt, db.Run("SELECT id, name, created_at FROM organization"));
  std::optional<model::Organization> org;
  TG_STORE_TRY(ForEachRow(stmt, [&](const Row& s) -> StoreResult<void> {
    org = model::Organization{OrgId(s.Text(0)), s.Text(1), Time(s.Int(2))};
    return {};
  }));
  return org;
}

constexpr const char* kEnvironmentColumns =
    "SELECT id, organization_id, name, description, type, region, created_at, updated_at "
    "FROM environments";

StoreResult<model::Environment> ReadEnvironment(const Row& s) {
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

StoreResult<std::vector<model::Environment>> LoadEnvironments(const Connection& db) {
  TG_STORE_ASSIGN(auto stmt,
                  db.Run(fmt::format("{} ORDER BY created_at, id", kEnvironmentColumns)));
  std::vector<model::Environment> out;
  TG_STORE_TRY(ForEachRow(stmt, [&](const Row& s) -> StoreResult<void> {
    TG_STORE_ASSIGN(auto env, ReadEnvironment(s));
    out.push_back(std::move(env));
    return {};
  }));
  return out;
}

StoreResult<std::optional<model::Environment>> LoadEnvironmentRow(const Connection& db,
                                                                  const EnvId& id) {
  TG_STORE_ASSIGN(auto stmt,
                  db.Run(fmt::format("{} WHERE id = $1", kEnvironmentColumns), id.str()));

  std::optional<model::Environment> out;
  TG_STORE_TRY(ForEachRow(stmt, [&](const Row& s) -> StoreResult<void> {
    TG_STORE_ASSIGN(auto env, ReadEnvironment(s));
    out = std::move(env);
    return {};
  }));
  return out;
}

class EnvironmentLoader {
 public:
  EnvironmentLoader(const Connection& db, const SecretCodec& codec, model::Environment env)
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

  StoreResult<Rows> Query(std::string_view sql) { return db_.Run(sql, EnvIdText()); }

  StoreResult<void> LoadApplications() {
    TG_STORE_ASSIGN(
        auto stmt,
        Query("SELECT id, name, description, enabled, protocol, type, token_endpoint_auth_method, "
              "jwks, jwks_url, request_scopes_for_multiple_resources_enabled, include_x5t, "
              "include_typ, created_at, updated_at FROM applications WHERE environment_id = $1 "
              "ORDER BY created_at, id"));
    std::unordered_map<std::string, size_t> index;
    TG_STORE_TRY(ForEachRow(stmt, [&](const Row& s) -> StoreResult<void> {
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
      return ForEachRow(list, [&](const Row& s) -> StoreResult<void> {
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
                          "WHERE s.environment_id = $1 ORDER BY a.created_at, a.id"));
    return ForEachRow(stmt, [&](const Row& s) -> StoreResult<void> {
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
              "WHERE environment_id = $1 ORDER BY created_at, id"));
    return ForEachRow(stmt, [&](const Row& s) -> StoreResult<void> {
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
                          "FROM scopes WHERE environment_id = $1 ORDER BY created_at, id"));
    return ForEachRow(stmt, [&](const Row& s) -> StoreResult<void> {
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
                          "FROM grants WHERE environment_id = $1 ORDER BY created_at, id"));
    std::unordered_map<std::string, size_t> index;
    TG_STORE_TRY(ForEachRow(stmt, [&](const Row& s) -> StoreResult<void> {
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
                          "JOIN grants g ON g.id = gs.grant_id WHERE g.environment_id = $1 "
                          "ORDER BY gs.grant_id, gs.position"));
    return ForEachRow(scopes, [&](const Row& s) -> StoreResult<void> {
      auto it = index.find(s.Text(0));
      if (it == index.end()) return Fail(InternalError("corrupt row: scope of unknown grant"));
      data_.grants[it->second].scopes.emplace_back(s.Text(1));
      return {};
    });
  }

  StoreResult<void> LoadRoleAssignments() {
    TG_STORE_ASSIGN(auto stmt,
                    Query("SELECT id, application_id, role_id, scope_id, scope_type, created_at "
                          "FROM role_assignments WHERE environment_id = $1 "
                          "ORDER BY created_at, id"));
    return ForEachRow(stmt, [&](const Row& s) -> StoreResult<void> {
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
              "expires_at, retired_at FROM signing_keys WHERE environment_id = $1 "
              "ORDER BY created_at, id"));
    return ForEachRow(stmt, [&](const Row& s) -> StoreResult<void> {
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

  const Connection& db_;
  const SecretCodec& codec_;
  EnvironmentData data_;
};

// ---------------------------------------------------------------------------------------------
// The connection pool.

// How many connections one Store keeps at most. Management calls run on a small blocking pool
// (http/) and the token path never calls the store, so a few are plenty.
constexpr size_t kPoolSize = 4;

class Pool {
 public:
  class Lease {
   public:
    Lease(Pool& pool, Connection conn) : pool_(&pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->Release(std::move(conn_));
    }
    const Connection& conn() const { return conn_; }

   private:
    Pool* pool_;
    Connection conn_;
  };

  explicit Pool(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  // An idle connection, or a new one while fewer than kPoolSize are open; waits otherwise.
  StoreResult<Lease> Acquire() {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !idle_.empty() || open_ < kPoolSize; });
      if (!idle_.empty()) {
        Connection conn = std::move(idle_.back());
        idle_.pop_back();
        return Lease(*this, std::move(conn));
      }
      ++open_;
    }
    auto conn = Connection::Connect(conninfo_);
    if (!conn.ok()) {
      std::lock_guard lock(mu_);
      --open_;
      cv_.notify_one();
      return Fail(std::move(conn).error());
    }
    return Lease(*this, std::move(conn).value());
  }

 private:
  void Release(Connection conn) {
    const bool usable = !conn.Broken() && conn.RollbackIfInTransaction();
    std::lock_guard lock(mu_);
    if (usable) {
      idle_.push_back(std::move(conn));
    } else {
      // A lost connection usually means the server went away: the idle ones are dead too.
      --open_;
      open_ -= idle_.size();
      idle_.clear();
    }
    cv_.notify_all();
  }

  const std::string conninfo_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Connection> idle_;
  size_t open_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Opening.

// Seals the check value at the first open; verifies it at every later one.
StoreResult<void> CheckMasterKey(const Connection& db, const SecretCodec& codec) {
  TG_STORE_ASSIGN(auto rows, db.Run("SELECT value FROM meta WHERE key = $1", kMasterKeyCheckKey));
  if (rows.count() > 0) {
    const std::string sealed = rows.Bytes(0, 0);
    TG_STORE_TRY(rows.ColumnError());
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
  return Execute(db, "INSERT INTO meta (key, value) VALUES ($1, $2)", kMasterKeyCheckKey,
                 Bytea{sealed});
}

StoreResult<void> CheckServer(const Connection& db) {
  const int version = PQserverVersion(db.Handle());
  if (version < 130000) {
    return Fail(InternalError(fmt::format(
        "postgres: the server runs PostgreSQL {}.{}; Tollgate needs PostgreSQL 13 or later",
        version / 10000, version % 10000)));
  }
  TG_STORE_ASSIGN(auto rows, db.Run("SELECT pg_catalog.current_setting('server_encoding')"));
  const std::string encoding = rows.count() > 0 ? rows.Text(0, 0) : "";
  TG_STORE_TRY(rows.ColumnError());
  if (encoding != "UTF8") {
    return Fail(InternalError(fmt::format(
        "postgres: the database's encoding is {}; Tollgate needs a UTF8 database", encoding)));
  }
  return {};
}

StoreResult<void> MigrateAndCheckKey(const Connection& db, const SecretCodec& codec) {
  TG_STORE_TRY(db.Exec("BEGIN"));
  StoreResult<void> result = Execute(db, "SELECT pg_advisory_xact_lock($1)", kMigrateLockKey);
  if (result.ok()) result = Migrate(db, ToUnixMillis(SystemClock().Now()));
  if (result.ok()) result = CheckMasterKey(db, codec);
  if (result.ok()) result = db.Commit();
  if (!result.ok()) db.RollbackIfInTransaction();
  return result;
}

// ---------------------------------------------------------------------------------------------
// The change feed's listening connection.

class PgChangeSource final : public ChangeSource {
 public:
  static StoreResult<std::unique_ptr<ChangeSource>> Open(const std::string& conninfo) {
    const int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake < 0) return Fail(InternalError("postgres: eventfd failed"));
    std::unique_ptr<PgChangeSource> source(new PgChangeSource(conninfo, wake));
    TG_STORE_TRY(source->Connect());
    return std::unique_ptr<ChangeSource>(std::move(source));
  }

  ~PgChangeSource() override { ::close(wake_fd_); }
  PgChangeSource(const PgChangeSource&) = delete;
  PgChangeSource& operator=(const PgChangeSource&) = delete;

  StoreResult<ChangeBatch> Wait(std::chrono::milliseconds timeout) override {
    if (conn_.Broken()) {
      conn_ = Connection();
      TG_STORE_TRY(Connect());
      resync_pending_ = true;
    }
    ChangeBatch batch;
    TG_STORE_TRY(Collect(batch));
    if (batch.environments.empty() && batch.jtis.empty() && !resync_pending_) {
      std::array<pollfd, 2> fds{{{PQsocket(conn_.Handle()), POLLIN, 0}, {wake_fd_, POLLIN, 0}}};
      const auto millis = static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 60'000));
      const int n = ::poll(fds.data(), fds.size(), millis);
      if (n < 0 && errno != EINTR) return Fail(InternalError("postgres: poll failed"));
      if (n > 0 && (fds[1].revents & POLLIN) != 0) {
        uint64_t ignored = 0;
        while (::read(wake_fd_, &ignored, sizeof(ignored)) > 0) {
        }
      }
      if (n > 0 && fds[0].revents != 0) {
        if (PQconsumeInput(conn_.Handle()) == 0 || conn_.Broken()) {
          return Fail(UnavailableError("postgres: the change feed's connection was lost: " +
                                       OneLine(PQerrorMessage(conn_.Handle()))));
        }
        TG_STORE_TRY(Collect(batch));
      }
    }
    batch.resync = std::exchange(resync_pending_, false) || batch.resync;
    return batch;
  }

  void Interrupt() override {
    const uint64_t one = 1;
    // A full counter still wakes the reader; nothing to handle.
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }

  StoreResult<std::vector<EnvironmentVersion>> Versions() override {
    TG_STORE_ASSIGN(auto rows, conn_.Run("SELECT environment_id, version FROM config_versions"));
    std::vector<EnvironmentVersion> out;
    TG_STORE_TRY(ForEachRow(rows, [&](const Row& r) -> StoreResult<void> {
      out.push_back({EnvId(r.Text(0)), r.Int(1)});
      return {};
    }));
    return out;
  }

  StoreResult<std::vector<SharedJti>> JtisAfter(JtiKind kind, int64_t after,
                                                TimePoint now) override {
    TG_STORE_ASSIGN(auto rows, conn_.Run("SELECT environment_id, jti, expires_at, seq "
                                         "FROM remembered_jtis WHERE kind = $1 AND seq > $2 "
                                         "AND expires_at > $3 ORDER BY seq",
                                         JtiKindName(kind), after, Millis(now)));
    std::vector<SharedJti> out;
    TG_STORE_TRY(ForEachRow(rows, [&](const Row& r) -> StoreResult<void> {
      out.push_back({{kind, EnvId(r.Text(0)), r.Text(1), Time(r.Int(2))}, r.Int(3)});
      return {};
    }));
    return out;
  }

  StoreResult<int64_t> LastJtiSeq(JtiKind kind) override {
    TG_STORE_ASSIGN(auto rows,
                    conn_.Run("SELECT COALESCE(MAX(seq), 0)::bigint FROM remembered_jtis "
                              "WHERE kind = $1",
                              JtiKindName(kind)));
    const int64_t seq = rows.count() > 0 ? rows.Int(0, 0) : 0;
    TG_STORE_TRY(rows.ColumnError());
    return seq;
  }

 private:
  PgChangeSource(std::string conninfo, int wake_fd)
      : conninfo_(std::move(conninfo)), wake_fd_(wake_fd) {}

  StoreResult<void> Connect() {
    TG_STORE_ASSIGN(auto conn, Connection::Connect(conninfo_));
    TG_STORE_TRY(conn.Exec("LISTEN tollgate_config; LISTEN tollgate_jtis"));
    conn_ = std::move(conn);
    return {};
  }

  // Moves the notifications libpq has read into `batch`.
  StoreResult<void> Collect(ChangeBatch& batch) {
    if (PQconsumeInput(conn_.Handle()) == 0) {
      return Fail(UnavailableError("postgres: the change feed's connection was lost: " +
                                   OneLine(PQerrorMessage(conn_.Handle()))));
    }
    while (PGnotify* raw = PQnotifies(conn_.Handle())) {
      std::unique_ptr<PGnotify, void (*)(void*)> n(raw, &PQfreemem);
      const std::string_view channel = n->relname != nullptr ? n->relname : "";
      const std::string_view payload = n->extra != nullptr ? n->extra : "";
      bool parsed = false;
      if (channel == kConfigChannel) {
        parsed = ParseConfig(payload, batch);
      } else if (channel == kJtiChannel) {
        TG_STORE_ASSIGN(parsed, ParseJti(payload, batch));
      }
      if (!parsed) {
        log::Warn("postgres: unreadable change notification on '{}'; checking everything", channel);
        batch.resync = true;
      }
    }
    return {};
  }

  static std::optional<int64_t> Number(std::string_view text) {
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
    return v;
  }

  // Splits off the text before the next space.
  static std::string_view Field(std::string_view& rest) {
    const size_t space = rest.find(' ');
    std::string_view field = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    return field;
  }

  // "<environment id> <version>"
  static bool ParseConfig(std::string_view payload, ChangeBatch& batch) {
    std::string_view env = Field(payload);
    auto version = Number(payload);
    if (env.empty() || !version) return false;
    for (auto& e : batch.environments) {
      if (e.environment_id.str() == env) {
        e.version = std::max(e.version, *version);
        return true;
      }
    }
    batch.environments.push_back({EnvId(std::string(env)), *version});
    return true;
  }

  // "<kind> <seq> <expires_at ms> <environment id> <jti>" or "<kind> <seq> *"
  StoreResult<bool> ParseJti(std::string_view payload, ChangeBatch& batch) {
    auto kind = ParseJtiKind(Field(payload));
    auto seq = Number(Field(payload));
    if (!kind || !seq) return false;
    if (payload == "*") {
      TG_STORE_ASSIGN(auto rows, conn_.Run("SELECT environment_id, jti, expires_at FROM "
                                           "remembered_jtis WHERE kind = $1 AND seq = $2",
                                           JtiKindName(*kind), *seq));
      TG_STORE_TRY(ForEachRow(rows, [&](const Row& r) -> StoreResult<void> {
        batch.jtis.push_back({{*kind, EnvId(r.Text(0)), r.Text(1), Time(r.Int(2))}, *seq});
        return {};
      }));
      return true;  // a row already purged needs nothing
    }
    auto expires = Number(Field(payload));
    std::string_view env = Field(payload);
    if (!expires || env.empty()) return false;
    batch.jtis.push_back(
        {{*kind, EnvId(std::string(env)), std::string(payload), Time(*expires)}, *seq});
    return true;
  }

  const std::string conninfo_;
  const int wake_fd_;
  Connection conn_;
  bool resync_pending_ = false;
};

// ---------------------------------------------------------------------------------------------
// The store.

class PostgresStore final : public Store {
 public:
  PostgresStore(std::string conninfo, std::shared_ptr<const SecretCodec> codec)
      : conninfo_(std::move(conninfo)), pool_(conninfo_), codec_(std::move(codec)) {}

  StoreResult<std::unique_ptr<ChangeSource>> OpenChangeSource() override {
    return PgChangeSource::Open(conninfo_);
  }

  StoreResult<std::vector<EnvironmentVersion>> LoadVersions() override {
    return WithConnection(
        [&](const Connection& db) -> StoreResult<std::vector<EnvironmentVersion>> {
          TG_STORE_ASSIGN(auto rows, db.Run("SELECT environment_id, version FROM config_versions"));
          std::vector<EnvironmentVersion> out;
          TG_STORE_TRY(ForEachRow(rows, [&](const Row& r) -> StoreResult<void> {
            out.push_back({EnvId(r.Text(0)), r.Int(1)});
            return {};
          }));
          return out;
        });
  }

  StoreResult<void> Write(const std::function<StoreResult<void>(Transaction&)>& body) override {
    if (!body) return Fail(InternalError("Write: empty body"));
    return InTransaction("BEGIN", [&](const Connection& db) -> StoreResult<void> {
      // Every write of the deployment, on every node, in turn: the checks the Transaction makes
      // before each change (names, references) then hold until the commit.
      TG_STORE_TRY(Execute(db, "SELECT pg_advisory_xact_lock($1)", kWriteLockKey));
      StoreResult<void> result;
      try {
        PgTransaction tx(db, *codec_);
        result = body(tx);
        if (result.ok() && tx.Poisoned()) {
          result = Fail(InternalError("postgres: a failed call could not be undone; rolled back"));
        }
      } catch (...) {
        // The body's exception text may hold anything; it is not logged.
        result = Fail(InternalError("the Write body threw an exception; rolled back"));
      }
      return result;
    });
  }

  StoreResult<Deployment> LoadAll() override {
    return InTransaction(kReadTransaction, [&](const Connection& db) -> StoreResult<Deployment> {
      Deployment out;
      TG_STORE_ASSIGN(out.organization, LoadOrganization(db));
      TG_STORE_ASSIGN(auto environments, LoadEnvironments(db));
      out.environments.reserve(environments.size());
      for (model::Environment& env : environments) {
        TG_STORE_ASSIGN(auto data, EnvironmentLoader(db, *codec_, std::move(env)).Load());
        out.environments.push_back(std::move(data));
      }
      return out;
    });
  }

  StoreResult<EnvironmentData> LoadEnvironment(const EnvId& id) override {
    return InTransaction(kReadTransaction,
                         [&](const Connection& db) -> StoreResult<EnvironmentData> {
                           TG_STORE_ASSIGN(auto env, LoadEnvironmentRow(db, id));
                           if (!env) return Fail(NotFound("id", "no such environment"));
                           return EnvironmentLoader(db, *codec_, std::move(*env)).Load();
                         });
  }

  StoreResult<bool> RememberJti(const RememberedJti& jti, TimePoint now) override {
    return InTransaction("BEGIN", [&](const Connection& db) -> StoreResult<bool> {
      TG_STORE_TRY(FailIfNoRow(db, NotFound("environment.id", "no such environment"),
                               "SELECT 1 FROM environments WHERE id = $1",
                               jti.environment_id.str()));
      // An expired entry no longer blocks the same jti.
      TG_STORE_TRY(Execute(db,
                           "DELETE FROM remembered_jtis WHERE kind = $1 AND environment_id = $2 "
                           "AND jti = $3 AND expires_at <= $4",
                           JtiKindName(jti.kind), jti.environment_id.str(), jti.jti, Millis(now)));
      // Concurrent inserts of one jti (on several nodes) wait for each other: one wins.
      TG_STORE_ASSIGN(
          auto inserted,
          db.Run("INSERT INTO remembered_jtis (kind, environment_id, jti, "
                 "expires_at) VALUES ($1, $2, $3, $4) "
                 "ON CONFLICT DO NOTHING",
                 JtiKindName(jti.kind), jti.environment_id.str(), jti.jti, Millis(jti.expires_at)));
      return inserted.affected() == 1;
    });
  }

  StoreResult<void> RememberJtis(const std::vector<RememberedJti>& jtis, TimePoint now) override {
    if (jtis.empty()) return {};
    return InTransaction("BEGIN", [&](const Connection& db) -> StoreResult<void> {
      for (const RememberedJti& jti : jtis) {
        TG_STORE_TRY(Execute(db,
                             "DELETE FROM remembered_jtis WHERE kind = $1 AND environment_id = $2 "
                             "AND jti = $3 AND expires_at <= $4",
                             JtiKindName(jti.kind), jti.environment_id.str(), jti.jti,
                             Millis(now)));
        // Only for environments that still exist; an existing entry is kept as it is.
        TG_STORE_TRY(Execute(
            db,
            "INSERT INTO remembered_jtis (kind, environment_id, jti, expires_at) "
            "SELECT $1::text, $2::text, $3::text, $4::bigint WHERE EXISTS (SELECT 1 "
            "FROM environments WHERE id = $2) ON CONFLICT DO NOTHING",
            JtiKindName(jti.kind), jti.environment_id.str(), jti.jti, Millis(jti.expires_at)));
      }
      return {};
    });
  }

  StoreResult<std::vector<RememberedJti>> LoadJtis(JtiKind kind, TimePoint now) override {
    return WithConnection([&](const Connection& db) -> StoreResult<std::vector<RememberedJti>> {
      TG_STORE_ASSIGN(auto rows, db.Run("SELECT environment_id, jti, expires_at FROM "
                                        "remembered_jtis WHERE kind = $1 AND expires_at > $2 "
                                        "ORDER BY expires_at, environment_id, jti",
                                        JtiKindName(kind), Millis(now)));
      std::vector<RememberedJti> out;
      TG_STORE_TRY(ForEachRow(rows, [&](const Row& r) -> StoreResult<void> {
        out.push_back({kind, EnvId(r.Text(0)), r.Text(1), Time(r.Int(2))});
        return {};
      }));
      return out;
    });
  }

  StoreResult<void> PurgeExpiredJtis(TimePoint now) override {
    return WithConnection([&](const Connection& db) -> StoreResult<void> {
      return Execute(db, "DELETE FROM remembered_jtis WHERE expires_at <= $1", Millis(now));
    });
  }

 private:
  static constexpr const char* kReadTransaction =
      "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";

  // Runs `f(connection)` on a pooled connection. A connection found dead (the server restarted
  // since it was last used) is replaced once: nothing ran on it.
  template <class F>
  auto WithConnection(F&& f) -> decltype(f(std::declval<const Connection&>())) {
    try {
      for (int attempt = 0;; ++attempt) {
        TG_STORE_ASSIGN(auto lease, pool_.Acquire());
        auto result = f(lease.conn());
        if (result.ok() || attempt > 0 || !lease.conn().Broken() ||
            result.error().code != StoreErrorCode::kUnavailable) {
          return result;
        }
      }
    } catch (...) {
      return Fail(InternalError("postgres: unexpected exception"));
    }
  }

  // Runs `f(connection)` inside a transaction started with `begin`; commits when it succeeds,
  // rolls back otherwise. Only a failure of `begin` itself on a dead pooled connection is
  // retried (on a new connection): then nothing was sent.
  template <class F>
  auto InTransaction(const char* begin, F&& f) -> decltype(f(std::declval<const Connection&>())) {
    try {
      for (int attempt = 0;; ++attempt) {
        TG_STORE_ASSIGN(auto lease, pool_.Acquire());
        const Connection& db = lease.conn();
        if (auto begun = db.Exec(begin); !begun.ok()) {
          if (attempt == 0 && db.Broken()) continue;
          return Fail(std::move(begun).error());
        }
        auto result = f(db);
        if (result.ok()) {
          if (auto committed = db.Commit(); !committed.ok()) {
            db.RollbackIfInTransaction();
            return Fail(std::move(committed).error());
          }
          return result;
        }
        db.RollbackIfInTransaction();
        return result;
      }
    } catch (...) {
      return Fail(InternalError("postgres: unexpected exception; rolled back"));
    }
  }

  const std::string conninfo_;
  Pool pool_;
  std::shared_ptr<const SecretCodec> codec_;
};

StoreResult<std::unique_ptr<Store>> OpenAndPrepare(const std::string& conninfo,
                                                   std::shared_ptr<const SecretCodec> codec) {
  TG_STORE_ASSIGN(auto db, Connection::Connect(conninfo));
  TG_STORE_TRY(CheckServer(db));
  TG_STORE_TRY(MigrateAndCheckKey(db, *codec));
  return std::unique_ptr<Store>(std::make_unique<PostgresStore>(conninfo, std::move(codec)));
}

}  // namespace

StoreResult<std::unique_ptr<Store>> OpenPostgresStore(const std::string& conninfo,
                                                      std::shared_ptr<const SecretCodec> codec) {
  if (!codec) return Fail(InternalError("OpenPostgresStore: no SecretCodec"));
  try {
    return OpenAndPrepare(conninfo, std::move(codec));
  } catch (...) {
    return Fail(InternalError("postgres: unexpected exception while opening the store"));
  }
}

}  // namespace tollgate::storage::postgres
