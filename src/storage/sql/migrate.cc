#include "storage/sql/migrate.h"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>

#include "storage/sql/errors.h"
#include "storage/sql/query.h"
#include "storage/sql/tables.h"
#include "storage/sql/try.h"

namespace tollgate::storage::sql {
namespace {

// The value sealed into `meta` at the first open, so that a store opened under another master
// key is refused at open even when it holds no secret yet.
constexpr std::string_view kMasterKeyCheckKey = "master_key_check";
constexpr std::string_view kMasterKeyCheckPlaintext = "tollgate-master-key-check";
constexpr std::string_view kMasterKeyCheckAad = "meta:master_key_check";

StoreResult<int64_t> CurrentVersion(Connection& db) {
  TG_STORE_ASSIGN(auto stmt, Query(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  TG_STORE_ASSIGN(bool row, stmt->Step());
  if (!row) {
    return Fail(InternalError(
        fmt::format("{}: schema_migrations query returned no row", db.dialect().name)));
  }
  const int64_t current = stmt->row().Int(0);
  TG_STORE_TRY(stmt->row().ColumnError());
  return current;
}

StoreResult<void> Migrate(Connection& db, const Schema& schema, int64_t now_unix_millis) {
  TG_STORE_TRY(db.Exec(schema.create_migrations_table));
  TG_STORE_ASSIGN(const int64_t current, CurrentVersion(db));
  if (current > schema.LatestVersion()) {
    return Fail(StoreError{StoreErrorCode::kSchemaTooNew,
                           fmt::format("the database has schema version {}, this build knows up "
                                       "to {}: it was migrated by a newer Tollgate",
                                       current, schema.LatestVersion()),
                           ""});
  }
  for (const Migration& m : schema.migrations) {
    if (m.version <= current) continue;
    TG_STORE_TRY(db.Exec(m.sql));
    TG_STORE_TRY(Execute(db, "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                         m.version, now_unix_millis));
  }
  return {};
}

// Seals the check value at the first open; verifies it at every later one.
StoreResult<void> CheckMasterKey(Connection& db, const SecretCodec& codec) {
  TG_STORE_ASSIGN(std::optional<std::string> sealed, meta::Get(db, kMasterKeyCheckKey));
  if (sealed) {
    std::optional<std::string> opened = codec.Open(*sealed, kMasterKeyCheckAad);
    if (!opened || *opened != kMasterKeyCheckPlaintext) {
      return Fail(WrongMasterKey("the store's master key check value"));
    }
    return {};
  }
  const std::string fresh = codec.Seal(kMasterKeyCheckPlaintext, kMasterKeyCheckAad);
  std::optional<std::string> reopened = codec.Open(fresh, kMasterKeyCheckAad);
  if (!reopened || *reopened != kMasterKeyCheckPlaintext) {
    return Fail(InternalError("the SecretCodec does not open what it sealed"));
  }
  return meta::Insert(db, kMasterKeyCheckKey, fresh);
}

}  // namespace

StoreResult<void> PrepareDatabase(Connection& db, const Schema& schema, const SecretCodec& codec,
                                  int64_t now_unix_millis) {
  TG_STORE_TRY(db.Begin(TransactionKind::kMigrate));
  StoreResult<void> result = Migrate(db, schema, now_unix_millis);
  if (result.ok()) result = CheckMasterKey(db, codec);
  if (result.ok()) result = db.Commit();
  if (!result.ok()) db.Rollback();
  return result;
}

}  // namespace tollgate::storage::sql
