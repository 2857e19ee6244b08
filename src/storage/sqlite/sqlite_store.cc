#include "storage/sqlite/sqlite_store.h"

#include <atomic>
#include <thread>
#include <utility>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "storage/sql/errors.h"
#include "storage/sql/migrate.h"
#include "storage/sql/sql_store.h"
#include "storage/sql/try.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/schema.h"

namespace tollgate::storage::sqlite {
namespace {

using sql::InternalError;

// One connection, serialized by a mutex. A call made from inside a Write body on the same
// thread fails instead of deadlocking.
class SqliteStore final : public sql::SqlStore {
 public:
  SqliteStore(std::unique_ptr<sql::Connection> db, std::shared_ptr<const SecretCodec> codec)
      : SqlStore("sqlite", std::move(codec)), db_(std::move(db)) {}

 protected:
  StoreResult<std::unique_ptr<sql::Lease>> Acquire() override {
    if (holder_.load() == std::this_thread::get_id()) {
      return Fail(InternalError("the store was called from inside its own Write body"));
    }
    return std::unique_ptr<sql::Lease>(std::make_unique<Held>(*this));
  }

 private:
  // Holds mu_ from its construction to its destruction. The lock passes through Acquire()'s
  // caller as a sql::Lease, which the thread-safety analysis cannot follow: these three members
  // are not analyzed, and they are the only code that may touch *db_ (PT_GUARDED_BY).
  class Held final : public sql::Lease {
   public:
    explicit Held(SqliteStore& store) NO_THREAD_SAFETY_ANALYSIS : store_(store) {
      store_.mu_.Lock();
      store_.holder_.store(std::this_thread::get_id());
    }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    // An exception leaves no transaction open.
    ~Held() override NO_THREAD_SAFETY_ANALYSIS {
      store_.db_->Rollback();
      store_.holder_.store(std::thread::id());
      store_.mu_.Unlock();
    }
    sql::Connection& conn() override NO_THREAD_SAFETY_ANALYSIS { return *store_.db_; }

   private:
    SqliteStore& store_;
  };

  common::Mutex mu_;
  std::atomic<std::thread::id> holder_{};
  const std::unique_ptr<sql::Connection> db_ PT_GUARDED_BY(mu_);
};

StoreResult<std::unique_ptr<Store>> OpenAndPrepare(const std::string& path,
                                                   std::shared_ptr<const SecretCodec> codec) {
  TG_STORE_ASSIGN(auto db, OpenConnection(path));
  TG_STORE_TRY(sql::PrepareDatabase(*db, Schema(), *codec, ToUnixMillis(SystemClock().Now())));
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
