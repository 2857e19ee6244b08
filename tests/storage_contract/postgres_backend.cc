#include "postgres_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "common/uuid.h"
#include "storage/postgres/schema.h"

namespace tollgate::storage::testing {

std::string TestPostgresUri() {
  const char* uri = std::getenv("TOLLGATE_TEST_PG");
  if (uri != nullptr && *uri != '\0') return uri;
  const char* required = std::getenv("TOLLGATE_REQUIRE_PG");
  if (required != nullptr && std::string_view(required) == "1") {
    ADD_FAILURE() << "TOLLGATE_REQUIRE_PG=1 but TOLLGATE_TEST_PG names no test cluster";
  }
  return "";
}

RawPg::RawPg(const std::string& uri) {
  conn_ = PQconnectdb(uri.c_str());
  if (!ok()) ADD_FAILURE() << "raw connect failed: " << PQerrorMessage(conn_);
  // NOTICEs (e.g. of DROP SCHEMA ... CASCADE) are noise here.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
}

RawPg::~RawPg() { PQfinish(conn_); }

void RawPg::Exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  const ExecStatusType status = PQresultStatus(r);
  EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
      << sql << ": " << PQerrorMessage(conn_);
  PQclear(r);
}

std::string RawPg::Query(const std::string& sql, const std::string& param, bool with_param) {
  const char* values[1] = {param.c_str()};
  PGresult* r = PQexecParams(conn_, sql.c_str(), with_param ? 1 : 0, nullptr,
                             with_param ? values : nullptr, nullptr, nullptr, 0);
  std::string out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK) {
    if (PQntuples(r) > 0 && PQgetisnull(r, 0, 0) == 0) out = PQgetvalue(r, 0, 0);
  } else {
    ADD_FAILURE() << sql << ": " << PQerrorMessage(conn_);
  }
  PQclear(r);
  return out;
}

std::unique_ptr<PostgresSchemaBackend> PostgresSchemaBackend::Make() {
  std::string admin = TestPostgresUri();
  if (admin.empty()) return nullptr;
  std::string schema = "contract_" + NewUuid();
  std::replace(schema.begin(), schema.end(), '-', '_');
  RawPg(admin).Exec(fmt::format("CREATE SCHEMA {}", schema));
  return std::unique_ptr<PostgresSchemaBackend>(
      new PostgresSchemaBackend(std::move(admin), std::move(schema)));
}

PostgresSchemaBackend::PostgresSchemaBackend(std::string admin_uri, std::string schema)
    : admin_uri_(std::move(admin_uri)), schema_(std::move(schema)) {
  const char separator = admin_uri_.find('?') == std::string::npos ? '?' : '&';
  uri_ = fmt::format("{}{}options=-csearch_path%3D{}", admin_uri_, separator, schema_);
}

PostgresSchemaBackend::~PostgresSchemaBackend() {
  RawPg(admin_uri_).Exec(fmt::format("DROP SCHEMA {} CASCADE", schema_));
}

StoreResult<std::unique_ptr<Store>> PostgresSchemaBackend::Open(
    std::shared_ptr<const SecretCodec> codec) {
  return OpenStore(uri_, std::move(codec));
}

bool PostgresSchemaBackend::RawContains(std::string_view needle) {
  // Every text and bytea value of every table of the schema, as stored.
  RawPg db(admin_uri_);
  const std::string list = db.Query(
      "SELECT string_agg(format('%I.%I|%I|%s', table_schema, table_name, column_name, "
      "data_type), ',') FROM information_schema.columns WHERE table_schema = $1 "
      "AND data_type IN ('text', 'bytea')",
      schema_, true);
  size_t from = 0;
  while (from < list.size()) {
    size_t end = list.find(',', from);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(from, end - from);
    from = end + 1;
    const size_t bar1 = item.find('|');
    const size_t bar2 = item.rfind('|');
    const std::string table = item.substr(0, bar1);
    const std::string column = item.substr(bar1 + 1, bar2 - bar1 - 1);
    const bool bytea = item.substr(bar2 + 1) == "bytea";
    const std::string sql =
        bytea ? fmt::format(
                    "SELECT 1 FROM {} WHERE position(convert_to($1, 'UTF8') IN {}) > 0 "
                    "LIMIT 1",
                    table, column)
              : fmt::format("SELECT 1 FROM {} WHERE strpos({}, $1) > 0 LIMIT 1", table, column);
    if (!db.Query(sql, std::string(needle), true).empty()) return true;
  }
  return false;
}

void PostgresSchemaBackend::BumpSchemaVersion() {
  RawPg(admin_uri_)
      .Exec(fmt::format("INSERT INTO {}.schema_migrations (version, applied_at) VALUES ({}, 0)",
                        schema_, postgres::LatestSchemaVersion() + 1));
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
                         ::testing::Values(BackendParam{"Postgres",
                                                        []() -> std::unique_ptr<BackendUnderTest> {
                                                          return PostgresSchemaBackend::Make();
                                                        }}),
                         BackendParamName);

}  // namespace tollgate::storage::testing
