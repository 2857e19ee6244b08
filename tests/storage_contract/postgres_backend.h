#pragma once
// The PostgreSQL backend of the contract suite: a fresh schema per test in the database named by
// TOLLGATE_TEST_PG (a postgresql:// URI of a throwaway cluster, which scripts/test.sh starts),
// selected with the URI's `options=-csearch_path=...`. Without TOLLGATE_TEST_PG the Postgres
// tests skip, unless TOLLGATE_REQUIRE_PG=1 (set by scripts/test.sh), which makes them fail.

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>

#include "store_contract.h"

namespace tollgate::storage::testing {

// The admin URI of the test cluster, or "" (recording a failure when it is required).
std::string TestPostgresUri();

// A raw libpq connection for the tests' back door; fails the test on errors.
class RawPg {
 public:
  explicit RawPg(const std::string& uri);
  ~RawPg();
  RawPg(const RawPg&) = delete;
  RawPg& operator=(const RawPg&) = delete;

  bool ok() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }
  // Runs `sql` with text parameters; fails the test on error.
  void Exec(const std::string& sql);
  // The first column of the first row ("" when no row); fails the test on error.
  std::string Query(const std::string& sql, const std::string& param = "", bool with_param = false);

 private:
  PGconn* conn_ = nullptr;
};

class PostgresSchemaBackend final : public BackendUnderTest {
 public:
  // nullptr when no test cluster is configured.
  static std::unique_ptr<PostgresSchemaBackend> Make();
  ~PostgresSchemaBackend() override;

  StoreResult<std::unique_ptr<Store>> Open(std::shared_ptr<const SecretCodec> codec) override;
  bool IsPersistent() const override { return true; }
  bool RawContains(std::string_view needle) override;
  void BumpSchemaVersion() override;

  // The store URI of this test's schema, and the cluster's admin URI.
  const std::string& uri() const { return uri_; }
  const std::string& admin_uri() const { return admin_uri_; }
  const std::string& schema() const { return schema_; }

 private:
  PostgresSchemaBackend(std::string admin_uri, std::string schema);

  std::string admin_uri_;
  std::string schema_;
  std::string uri_;
};

}  // namespace tollgate::storage::testing
