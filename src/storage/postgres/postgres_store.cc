#include "storage/postgres/postgres_store.h"

#include <fmt/format.h>

#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "storage/postgres/change_source.h"
#include "storage/postgres/connection.h"
#include "storage/postgres/schema.h"
#include "storage/sql/migrate.h"
#include "storage/sql/query.h"
#include "storage/sql/sql_store.h"

namespace tollgate::storage::postgres {
namespace {

// How many connections one Store keeps at most. Management calls run on a small blocking pool
// (http/) and the token path never calls the store, so a few are plenty.
constexpr size_t kPoolSize = 4;

class Pool {
 public:
  class Lease final : public sql::Lease {
   public:
    Lease(Pool& pool, PgConnection conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() override { pool_.Release(std::move(conn_)); }
    sql::Connection& conn() override { return conn_; }

   private:
    Pool& pool_;
    PgConnection conn_;
  };

  explicit Pool(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  // An idle connection, or a new one while fewer than kPoolSize are open; waits otherwise.
  StoreResult<std::unique_ptr<sql::Lease>> Acquire() {
    {
      common::MutexLock lock(mu_);
      while (idle_.empty() && open_ >= kPoolSize) cv_.Wait(mu_);
      if (!idle_.empty()) {
        PgConnection conn = std::move(idle_.back());
        idle_.pop_back();
        return Leased(std::move(conn));
      }
      ++open_;
    }
    auto conn = PgConnection::Connect(conninfo_);
    if (!conn.ok()) {
      common::MutexLock lock(mu_);
      --open_;
      cv_.NotifyOne();
      return Fail(std::move(conn).error());
    }
    return Leased(std::move(conn).value());
  }

 private:
  std::unique_ptr<sql::Lease> Leased(PgConnection conn) {
    return std::make_unique<Lease>(*this, std::move(conn));
  }

  void Release(PgConnection conn) {
    const bool usable = !conn.Broken() && conn.Rollback();
    common::MutexLock lock(mu_);
    if (usable) {
      idle_.push_back(std::move(conn));
    } else {
      // A lost connection usually means the server went away: the idle ones are dead too.
      --open_;
      open_ -= idle_.size();
      idle_.clear();
    }
    cv_.NotifyAll();
  }

  const std::string conninfo_;
  common::Mutex mu_;
  common::CondVar cv_;
  std::vector<PgConnection> idle_ GUARDED_BY(mu_);
  size_t open_ GUARDED_BY(mu_) = 0;
};

class PostgresStore final : public sql::SqlStore {
 public:
  PostgresStore(std::string conninfo, std::shared_ptr<const SecretCodec> codec)
      : SqlStore("postgres", std::move(codec)), conninfo_(std::move(conninfo)), pool_(conninfo_) {}

  StoreResult<std::unique_ptr<ChangeSource>> OpenChangeSource() override {
    return postgres::OpenChangeSource(conninfo_);
  }

  StoreResult<std::vector<EnvironmentVersion>> LoadVersions() override {
    std::vector<EnvironmentVersion> out;
    auto done = Run([&](sql::Connection& db) -> StoreResult<void> {
      TG_STORE_ASSIGN(out, postgres::LoadVersions(db));
      return {};
    });
    if (!done.ok()) return Fail(std::move(done).error());
    return out;
  }

 protected:
  StoreResult<std::unique_ptr<sql::Lease>> Acquire() override { return pool_.Acquire(); }

 private:
  const std::string conninfo_;
  Pool pool_;
};

StoreResult<void> CheckServer(PgConnection& db) {
  const int version = PQserverVersion(db.Handle());
  if (version < 130000) {
    return Fail(InternalError(fmt::format(
        "postgres: the server runs PostgreSQL {}.{}; Tollgate needs PostgreSQL 13 or later",
        version / 10000, version % 10000)));
  }
  TG_STORE_ASSIGN(auto stmt,
                  sql::Query(db, "SELECT pg_catalog.current_setting('server_encoding')"));
  std::string encoding;
  TG_STORE_TRY(sql::ForEachRow(*stmt, [&](const sql::Row& r) -> StoreResult<void> {
    encoding = r.Text(0);
    return {};
  }));
  if (encoding != "UTF8") {
    return Fail(InternalError(fmt::format(
        "postgres: the database's encoding is {}; Tollgate needs a UTF8 database", encoding)));
  }
  return {};
}

StoreResult<std::unique_ptr<Store>> OpenAndPrepare(const std::string& conninfo,
                                                   std::shared_ptr<const SecretCodec> codec) {
  TG_STORE_ASSIGN(auto db, PgConnection::Connect(conninfo));
  TG_STORE_TRY(CheckServer(db));
  TG_STORE_TRY(sql::PrepareDatabase(db, Schema(), *codec, ToUnixMillis(SystemClock().Now())));
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
