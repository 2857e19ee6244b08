#pragma once
// The Store of an SQL database, shared by the backends: Write, the loads and the jti calls,
// written against sql::Connection. A backend derives from SqlStore and supplies only how a
// connection is held for one call (Acquire): SQLite one connection behind a mutex, PostgreSQL a
// pool. Transactions are begun with the backend's locking (Connection::Begin).

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "storage/sql/connection.h"
#include "storage/store.h"

namespace tollgate::storage::sql {

// A connection held for one Store call. Destroying it hands the connection back to its owner,
// rolled back if a transaction was left open.
class Lease {
 public:
  virtual ~Lease() = default;
  virtual Connection& conn() = 0;
};

class SqlStore : public Store {
 public:
  StoreResult<void> Write(const std::function<StoreResult<void>(Transaction&)>& body) override;
  StoreResult<Deployment> LoadAll() override;
  StoreResult<model::EnvironmentData> LoadEnvironment(const EnvId& id) override;
  StoreResult<bool> RememberJti(const model::RememberedJti& jti, TimePoint now) override;
  // In one transaction.
  StoreResult<void> RememberJtis(const std::vector<model::RememberedJti>& jtis,
                                 TimePoint now) override;
  StoreResult<std::vector<model::RememberedJti>> LoadJtis(model::JtiKind kind,
                                                          TimePoint now) override;
  StoreResult<void> PurgeExpiredJtis(TimePoint now) override;
  StoreResult<void> AppendActivities(const std::vector<model::Activity>& batch) override;
  StoreResult<std::vector<model::Activity>> LoadActivities(
      const model::ActivityQuery& query) override;
  StoreResult<int64_t> PurgeActivities(TimePoint before) override;

 protected:
  using Body = std::function<StoreResult<void>(Connection&)>;

  // `backend` ("sqlite", "postgres") prefixes messages; `codec` must not be null.
  SqlStore(std::string_view backend, std::shared_ptr<const SecretCodec> codec);

  // Holds a connection for one call, waiting for one if needed. Errors: kUnavailable when the
  // database cannot be reached; kInternal when the call may not run (SQLite: a call from inside
  // a Write body).
  virtual StoreResult<std::unique_ptr<Lease>> Acquire() = 0;

  // Runs `f` on a held connection without a transaction (each statement commits by itself).
  // When `f` fails with kUnavailable on a connection that turns out lost (a pooled connection
  // whose server restarted since its last use), it runs once more on another: `f` must be
  // harmless to repeat. kInternal when anything throws.
  StoreResult<void> Run(const Body& f);
  // Runs `f` on a held connection inside a transaction of `kind`; commits when it succeeds and
  // rolls back otherwise. Only a failure of Begin on a lost connection is retried (on another):
  // then nothing was written. kInternal when anything throws (rolled back).
  StoreResult<void> RunInTransaction(TransactionKind kind, const Body& f);

 private:
  const std::string_view backend_;
  const std::shared_ptr<const SecretCodec> codec_;
};

}  // namespace tollgate::storage::sql
