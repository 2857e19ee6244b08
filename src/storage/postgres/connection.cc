#include "storage/postgres/connection.h"

#include <fmt/format.h>

#include <array>
#include <climits>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "common/log.h"
#include "storage/sql/query.h"

namespace tollgate::storage::postgres {
namespace {

// Type OIDs of pg_type.h (server headers are not installed with libpq).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;

constexpr int kBinary = 1;

uint64_t ReadBigEndian(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// libpq prints NOTICEs (e.g. "relation already exists, skipping") on stderr by default; they
// go to the log at debug level instead.
void QuietNotice(void*, const char* message) {
  if (message != nullptr) log::Debug("postgres: {}", OneLine(message));
}

bool IsUnavailableState(std::string_view state) {
  return state.starts_with("08") ||  // connection exception
         state.starts_with("53") ||  // insufficient resources (too many connections...)
         state == "57P01" ||         // admin_shutdown
         state == "57P02" ||         // crash_shutdown
         state == "57P03" ||         // cannot_connect_now (starting up, shutting down)
         state == "40001" ||         // serialization_failure: worth a retry
         state == "40P01";           // deadlock_detected: worth a retry
}

StoreError ResultError(PGconn* conn, const PGresult* result, std::string_view sql) {
  const std::string_view what = sql.substr(0, 60);
  if (result == nullptr || PQstatus(conn) == CONNECTION_BAD) {
    return UnavailableError(fmt::format("postgres: '{}': {}", what, OneLine(PQerrorMessage(conn))));
  }
  const char* state_field = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string state = state_field != nullptr ? state_field : "";
  // The primary message only: DETAIL lines may quote row values.
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  StoreError e;
  e.message = fmt::format("postgres: '{}': {} (SQLSTATE {})", what,
                          primary != nullptr ? primary : PQresStatus(PQresultStatus(result)),
                          state.empty() ? "?" : state);
  if (IsUnavailableState(state)) {
    e.code = StoreErrorCode::kUnavailable;
  } else if (state == "23505") {
    e.code = StoreErrorCode::kConflict;
  } else {
    e.code = StoreErrorCode::kInternal;
  }
  return e;
}

// Advisory lock keys (pg_advisory_xact_lock): one serializes every management write of the
// deployment, across nodes, as SQLite's BEGIN IMMEDIATE does within one file; one serializes
// the appends of audit activities; the last serializes migrations of nodes that start at once.
constexpr int64_t kWriteLockKey = 0x546f6c6c67617465;     // "Tollgate"
constexpr int64_t kActivityLockKey = 0x546f6c6c41637473;  // "TollActs"
constexpr int64_t kMigrateLockKey = 0x546f6c6c4d696772;   // "TollMigr"

using ResultPtr = std::unique_ptr<PGresult, void (*)(PGresult*)>;

// The parameters of one query in libpq's form: binary format, explicit types.
class Params {
 public:
  explicit Params(std::span<const sql::Value> values) {
    bytes_.reserve(values.size());
    for (const sql::Value& v : values) Add(v);
    for (size_t i = 0; i < bytes_.size(); ++i) {
      pointers_.push_back(values[i].null() ? nullptr : bytes_[i].data());
      lengths_.push_back(static_cast<int>(bytes_[i].size()));
      formats_.push_back(kBinary);
    }
  }

  int size() const { return static_cast<int>(bytes_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return pointers_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }
  // Set when a value could not be bound (too long).
  const std::optional<StoreError>& error() const { return error_; }

 private:
  void Add(const sql::Value& v) {
    switch (v.type()) {
      case sql::Value::Type::kText:
        types_.push_back(kTextOid);
        bytes_.emplace_back(v.null() ? std::string_view() : v.bytes());
        break;
      case sql::Value::Type::kBlob:
        types_.push_back(kByteaOid);
        bytes_.emplace_back(v.null() ? std::string_view() : v.bytes());
        break;
      case sql::Value::Type::kBool:
        types_.push_back(kBoolOid);
        bytes_.push_back(v.null() ? std::string() : std::string(1, v.integer() != 0 ? '\1' : '\0'));
        break;
      case sql::Value::Type::kInt: {
        types_.push_back(kInt8Oid);
        std::string big_endian(v.null() ? 0 : 8, '\0');
        auto u = static_cast<uint64_t>(v.integer());
        for (size_t i = big_endian.size(); i > 0; --i) {
          big_endian[i - 1] = static_cast<char>(u & 0xffu);
          u >>= 8;
        }
        bytes_.push_back(std::move(big_endian));
        break;
      }
    }
    if (bytes_.back().size() > static_cast<size_t>(INT_MAX)) {
      if (!error_) error_ = InternalError("postgres: parameter value too long");
      bytes_.back().clear();
    }
  }

  std::vector<std::string> bytes_;  // each value's bytes (empty for NULL)
  std::vector<Oid> types_;
  std::vector<const char*> pointers_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::optional<StoreError> error_;
};

// The rows of one successful query, in binary format, and the current one. Column readers
// decode by the column's type.
class PgResult final : public sql::Statement, public sql::Row {
 public:
  explicit PgResult(ResultPtr result) : Row("postgres"), result_(std::move(result)) {}

  StoreResult<bool> Step() override {
    if (next_ >= PQntuples(result_.get())) return false;
    row_ = next_++;
    return true;
  }

  const sql::Row& row() const override { return *this; }

  int64_t Changes() const override {
    const char* n = PQcmdTuples(result_.get());
    if (n == nullptr || *n == '\0') return 0;
    int64_t v = 0;
    for (const char* p = n; *p != '\0'; ++p) {
      if (*p < '0' || *p > '9') return 0;
      v = v * 10 + (*p - '0');
    }
    return v;
  }

  std::string Text(int col) const override {
    if (!Valid(col)) return {};
    if (PQgetisnull(result_.get(), row_, col) != 0) return {};
    const char* p = PQgetvalue(result_.get(), row_, col);
    const int n = PQgetlength(result_.get(), row_, col);
    if (p == nullptr || n < 0) {
      MarkColumnError();
      return {};
    }
    return {p, static_cast<size_t>(n)};
  }

  std::string Bytes(int col) const override { return Text(col); }

  int64_t Int(int col) const override {
    if (!Valid(col) || PQgetisnull(result_.get(), row_, col) != 0) {
      MarkColumnError();
      return 0;
    }
    const Oid type = PQftype(result_.get(), col);
    const char* p = PQgetvalue(result_.get(), row_, col);
    const auto n = static_cast<size_t>(PQgetlength(result_.get(), row_, col));
    size_t expected = 0;
    switch (type) {
      case kInt8Oid:
        expected = 8;
        break;
      case kInt4Oid:
        expected = 4;
        break;
      case kInt2Oid:
        expected = 2;
        break;
      default:
        break;
    }
    if (expected == 0 || n != expected || p == nullptr) {
      MarkColumnError();
      return 0;
    }
    const uint64_t raw = ReadBigEndian(p, n);
    // Sign-extend the narrower types.
    if (n == 8) return static_cast<int64_t>(raw);
    if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(raw));
    return static_cast<int16_t>(static_cast<uint16_t>(raw));
  }

  bool Bool(int col) const override {
    if (!Valid(col) || PQgetisnull(result_.get(), row_, col) != 0 ||
        PQftype(result_.get(), col) != kBoolOid || PQgetlength(result_.get(), row_, col) != 1) {
      MarkColumnError();
      return false;
    }
    return PQgetvalue(result_.get(), row_, col)[0] != 0;
  }

  bool IsNull(int col) const override {
    if (!Valid(col)) return true;
    return PQgetisnull(result_.get(), row_, col) != 0;
  }

 private:
  // True when the current row has column `col`; marks a column error otherwise.
  bool Valid(int col) const {
    if (row_ < 0 || col < 0 || col >= PQnfields(result_.get())) {
      MarkColumnError();
      return false;
    }
    return true;
  }

  ResultPtr result_;
  int next_ = 0;
  int row_ = -1;
};

// `sql` with its parameters ?1..?N written $1..$N, PostgreSQL's spelling (quoted text is left
// as it is).
std::string WithDollarParameters(std::string_view sql) {
  std::string out(sql);
  char quote = '\0';
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (quote != '\0') {
      if (c == quote) quote = '\0';
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?' && i + 1 < out.size() && out[i + 1] >= '0' && out[i + 1] <= '9') {
      out[i] = '$';
    }
  }
  return out;
}

// Runs `sql` as PQexec does (several statements allowed, no parameters).
StoreResult<void> ExecOn(PGconn* conn, const char* sql) {
  if (conn == nullptr) return Fail(UnavailableError("postgres: no connection"));
  ResultPtr result(PQexec(conn, sql), &PQclear);
  const ExecStatusType status =
      result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(ResultError(conn, result.get(), sql));
  }
  return {};
}

}  // namespace

std::string OneLine(std::string_view text) {
  std::string out;
  bool pending_break = false;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      pending_break = true;
      continue;
    }
    if (pending_break) {
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
      if (!out.empty()) out += "; ";
      pending_break = false;
      if (c == '\t' || c == ' ') continue;
    }
    if (c == '\t') c = ' ';
    if (c == ' ' && (out.empty() || out.ends_with("; ") || out.back() == ' ')) continue;
    out.push_back(c);
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

StoreResult<void> CheckConnectionString(const std::string& conninfo) {
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &err);
  if (options == nullptr) {
    std::string message = err != nullptr ? OneLine(err) : "out of memory";
    PQfreemem(err);
    return Fail(InternalError("invalid PostgreSQL connection string: " + message));
  }
  PQconninfoFree(options);
  return {};
}

StoreResult<PgConnection> PgConnection::Connect(const std::string& conninfo) {
  TG_STORE_TRY(CheckConnectionString(conninfo));
  // Defaults first: the connection string (expanded from `dbname`) overrides them.
  const std::array<const char*, 5> keywords = {"connect_timeout", "application_name",
                                               "client_encoding", "dbname", nullptr};
  const std::array<const char*, 5> values = {"5", "tollgate", "UTF8", conninfo.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
  if (raw == nullptr) return Fail(UnavailableError("postgres: out of memory while connecting"));
  PgConnection conn(raw);
  if (PQstatus(raw) != CONNECTION_OK) {
    // libpq's message names the host, port and user, never the password.
    return Fail(UnavailableError(OneLine(PQerrorMessage(raw))));
  }
  PQsetNoticeProcessor(raw, &QuietNotice, nullptr);
  return conn;
}

const sql::Dialect& PgConnection::dialect() const {
  static constexpr sql::Dialect kDialect{"postgres", "INSERT", " ON CONFLICT DO NOTHING"};
  return kDialect;
}

bool PgConnection::Broken() const { return !conn_ || PQstatus(conn_.get()) != CONNECTION_OK; }

StoreResult<std::unique_ptr<sql::Statement>> PgConnection::Query(
    std::string_view sql, std::span<const sql::Value> values) {
  if (!conn_) return Fail(UnavailableError("postgres: no connection"));
  const Params params(values);
  if (params.error()) return Fail(*params.error());
  const std::string text = WithDollarParameters(sql);  // also NUL-terminated, for libpq
  ResultPtr result(PQexecParams(conn_.get(), text.c_str(), params.size(), params.types(),
                                params.values(), params.lengths(), params.formats(), kBinary),
                   &PQclear);
  const ExecStatusType status =
      result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(ResultError(conn_.get(), result.get(), sql));
  }
  return std::unique_ptr<sql::Statement>(std::make_unique<PgResult>(std::move(result)));
}

StoreResult<void> PgConnection::Exec(const char* constant_sql) {
  return ExecOn(conn_.get(), constant_sql);
}

StoreResult<void> PgConnection::Begin(sql::TransactionKind kind) {
  if (kind == sql::TransactionKind::kRead) {
    return Exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  }
  TG_STORE_TRY(Exec("BEGIN"));
  if (kind == sql::TransactionKind::kJti) return {};
  // Every write (or migration) of the deployment, on every node, in turn: the checks the
  // Transaction makes before each change (names, references) then hold until the commit.
  const int64_t key = kind == sql::TransactionKind::kWrite        ? kWriteLockKey
                      : kind == sql::TransactionKind::kActivities ? kActivityLockKey
                                                                  : kMigrateLockKey;
  auto locked = sql::Execute(*this, "SELECT pg_advisory_xact_lock(?1)", key);
  if (!locked.ok()) {
    Rollback();
    return Fail(std::move(locked).error());
  }
  return {};
}

StoreResult<void> PgConnection::Commit() {
  if (!conn_) return Fail(UnavailableError("postgres: no connection"));
  if (PQtransactionStatus(conn_.get()) != PQTRANS_INTRANS) {
    return Fail(InternalError("postgres: COMMIT outside a healthy transaction"));
  }
  ResultPtr result(PQexec(conn_.get(), "COMMIT"), &PQclear);
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return Fail(ResultError(conn_.get(), result.get(), "COMMIT"));
  }
  if (std::string_view(PQcmdStatus(result.get())) != "COMMIT") {
    return Fail(InternalError("postgres: the transaction was rolled back at COMMIT"));
  }
  return {};
}

bool PgConnection::Rollback() {
  if (Broken()) return false;
  if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) return true;
  ResultPtr result(PQexec(conn_.get(), "ROLLBACK"), &PQclear);
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    log::Warn("postgres: ROLLBACK failed: {}", OneLine(PQerrorMessage(conn_.get())));
  }
  return !Broken() && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
}

}  // namespace tollgate::storage::postgres
