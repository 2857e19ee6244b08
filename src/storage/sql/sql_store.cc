#include "storage/sql/sql_store.h"

#include <fmt/format.h>

#include <utility>

#include "common/log.h"
#include "storage/sql/errors.h"
#include "storage/sql/loader.h"
#include "storage/sql/query.h"
#include "storage/sql/tables.h"
#include "storage/sql/transaction.h"
#include "storage/sql/try.h"

namespace tollgate::storage::sql {

SqlStore::SqlStore(std::string_view backend, std::shared_ptr<const SecretCodec> codec)
    : backend_(backend), codec_(std::move(codec)) {}

StoreResult<void> SqlStore::Run(const Body& f) {
  try {
    for (int attempt = 0;; ++attempt) {
      TG_STORE_ASSIGN(auto lease, Acquire());
      Connection& db = lease->conn();
      StoreResult<void> result = f(db);
      if (result.ok() || attempt > 0 || !db.Broken() ||
          result.error().code != StoreErrorCode::kUnavailable) {
        return result;
      }
    }
  } catch (...) {
    return Fail(InternalError(fmt::format("{}: unexpected exception; rolled back", backend_)));
  }
}

StoreResult<void> SqlStore::RunInTransaction(TransactionKind kind, const Body& f) {
  try {
    for (int attempt = 0;; ++attempt) {
      TG_STORE_ASSIGN(auto lease, Acquire());
      Connection& db = lease->conn();
      if (auto begun = db.Begin(kind); !begun.ok()) {
        // A pooled connection found lost (the server restarted since its last use): nothing
        // was sent, so another connection gets one more try.
        if (attempt == 0 && db.Broken()) continue;
        return begun;
      }
      StoreResult<void> result = f(db);
      if (result.ok()) {
        result = db.Commit();
        if (result.ok()) return result;
      }
      if (!db.Rollback() && !db.Broken()) {
        log::Error("{}: the store connection is stuck inside a transaction", backend_);
      }
      return result;
    }
  } catch (...) {
    return Fail(InternalError(fmt::format("{}: unexpected exception; rolled back", backend_)));
  }
}

StoreResult<void> SqlStore::Write(const std::function<StoreResult<void>(Transaction&)>& body) {
  if (!body) return Fail(InternalError("Write: empty body"));
  return RunInTransaction(TransactionKind::kWrite,
                          [&](Connection& db) { return RunWriteBody(db, *codec_, body); });
}

StoreResult<Deployment> SqlStore::LoadAll() {
  Deployment out;
  auto done = RunInTransaction(TransactionKind::kRead, [&](Connection& db) -> StoreResult<void> {
    TG_STORE_ASSIGN(out, LoadDeployment(db, *codec_));
    return {};
  });
  if (!done.ok()) return Fail(std::move(done).error());
  return out;
}

StoreResult<model::EnvironmentData> SqlStore::LoadEnvironment(const EnvId& id) {
  model::EnvironmentData out;
  auto done = RunInTransaction(TransactionKind::kRead, [&](Connection& db) -> StoreResult<void> {
    TG_STORE_ASSIGN(out, sql::LoadEnvironment(db, *codec_, id));
    return {};
  });
  if (!done.ok()) return Fail(std::move(done).error());
  return out;
}

StoreResult<bool> SqlStore::RememberJti(const model::RememberedJti& jti, TimePoint now) {
  bool inserted = false;
  auto done = RunInTransaction(TransactionKind::kJti, [&](Connection& db) -> StoreResult<void> {
    TG_STORE_TRY(FailIfNoRow(db, NotFound("environment.id", "no such environment"),
                             "SELECT 1 FROM environments WHERE id = ?1", jti.environment_id.str()));
    TG_STORE_ASSIGN(inserted, remembered_jtis::Insert(db, jti, now));
    return {};
  });
  if (!done.ok()) return Fail(std::move(done).error());
  return inserted;
}

StoreResult<void> SqlStore::RememberJtis(const std::vector<model::RememberedJti>& jtis,
                                         TimePoint now) {
  if (jtis.empty()) return {};
  // Only for environments that still exist; an existing entry is kept as it is.
  return RunInTransaction(TransactionKind::kJti, [&](Connection& db) {
    return remembered_jtis::InsertEachIfEnvironmentExists(db, jtis, now);
  });
}

StoreResult<std::vector<model::RememberedJti>> SqlStore::LoadJtis(model::JtiKind kind,
                                                                  TimePoint now) {
  std::vector<model::RememberedJti> out;
  auto done = Run([&](Connection& db) -> StoreResult<void> {
    TG_STORE_ASSIGN(out, remembered_jtis::Load(db, kind, now));
    return {};
  });
  if (!done.ok()) return Fail(std::move(done).error());
  return out;
}

StoreResult<void> SqlStore::PurgeExpiredJtis(TimePoint now) {
  return Run([&](Connection& db) { return remembered_jtis::Purge(db, now); });
}

StoreResult<void> SqlStore::AppendActivities(const std::vector<model::Activity>& batch) {
  if (batch.empty()) return {};
  // Under the deployment's activity lock: across nodes, seqs are then given in commit order, so
  // a reader's cursor never passes a row still to be committed. Not the management write lock:
  // at token rates the appends would hold it much of the time.
  return RunInTransaction(TransactionKind::kActivities,
                          [&](Connection& db) { return activities::Append(db, batch); });
}

StoreResult<std::vector<model::Activity>> SqlStore::LoadActivities(
    const model::ActivityQuery& query) {
  std::vector<model::Activity> out;
  auto done = Run([&](Connection& db) -> StoreResult<void> {
    TG_STORE_ASSIGN(out, activities::Load(db, query));
    return {};
  });
  if (!done.ok()) return Fail(std::move(done).error());
  return out;
}

StoreResult<int64_t> SqlStore::PurgeActivities(TimePoint before) {
  // In chunks, each its own statement: at token rates an hour holds millions of activities, and
  // one DELETE of them all would hold SQLite's write lock (every other write waiting) for long.
  constexpr int64_t kChunk = 10'000;
  int64_t purged = 0;
  while (true) {
    int64_t some = 0;
    auto done = Run([&](Connection& db) -> StoreResult<void> {
      TG_STORE_ASSIGN(some, activities::PurgeSome(db, before, kChunk));
      return {};
    });
    if (!done.ok()) return Fail(std::move(done).error());
    purged += some;
    if (some < kChunk) return purged;
  }
}

}  // namespace tollgate::storage::sql
