#include "storage/postgres/pg.h"

#include <fmt/format.h>

#include <array>
#include <climits>
#include <cstring>
#include <utility>

#include "common/log.h"

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

// ---------------------------------------------------------------------------------------------
// Params.

void Params::Push(Oid type, std::optional<std::string> bytes) {
  if (bytes && bytes->size() > static_cast<size_t>(INT_MAX)) {
    if (!error_) error_ = InternalError("postgres: parameter value too long");
    bytes = std::string();
  }
  types_.push_back(type);
  formats_.push_back(kBinary);
  lengths_.push_back(bytes ? static_cast<int>(bytes->size()) : 0);
  values_.push_back(bytes ? std::make_unique<std::string>(std::move(*bytes)) : nullptr);
  pointers_.clear();
  for (const auto& v : values_) pointers_.push_back(v ? v->data() : nullptr);
}

void Params::Add(std::string_view v) { Push(kTextOid, std::string(v)); }

void Params::Add(int64_t v) {
  std::string bytes(8, '\0');
  auto u = static_cast<uint64_t>(v);
  for (size_t i = 0; i < 8; ++i) {
    bytes[7 - i] = static_cast<char>(u & 0xffu);
    u >>= 8;
  }
  Push(kInt8Oid, std::move(bytes));
}

void Params::Add(bool v) { Push(kBoolOid, std::string(1, v ? '\1' : '\0')); }

void Params::Add(const Bytea& v) { Push(kByteaOid, std::string(v.bytes)); }

void Params::Add(std::nullopt_t) { Push(kTextOid, std::nullopt); }

void Params::Add(const std::optional<int64_t>& v) {
  if (v) {
    Add(*v);
  } else {
    Push(kInt8Oid, std::nullopt);
  }
}

void Params::Add(const std::optional<Bytea>& v) {
  if (v) {
    Add(*v);
  } else {
    Push(kByteaOid, std::nullopt);
  }
}

// ---------------------------------------------------------------------------------------------
// Rows.

int64_t Rows::affected() const {
  if (!result_) return 0;
  const char* n = PQcmdTuples(result_.get());
  if (n == nullptr || *n == '\0') return 0;
  int64_t v = 0;
  for (const char* p = n; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') return 0;
    v = v * 10 + (*p - '0');
  }
  return v;
}

std::string Rows::Text(int row, int col) const {
  if (!result_ || row >= count() || col >= PQnfields(result_.get())) {
    column_error_ = true;
    return {};
  }
  if (PQgetisnull(result_.get(), row, col) != 0) return {};
  const char* p = PQgetvalue(result_.get(), row, col);
  const int n = PQgetlength(result_.get(), row, col);
  if (p == nullptr || n < 0) {
    column_error_ = true;
    return {};
  }
  return {p, static_cast<size_t>(n)};
}

int64_t Rows::Int(int row, int col) const {
  if (!result_ || row >= count() || col >= PQnfields(result_.get()) ||
      PQgetisnull(result_.get(), row, col) != 0) {
    column_error_ = true;
    return 0;
  }
  const Oid type = PQftype(result_.get(), col);
  const char* p = PQgetvalue(result_.get(), row, col);
  const auto n = static_cast<size_t>(PQgetlength(result_.get(), row, col));
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
    column_error_ = true;
    return 0;
  }
  const uint64_t raw = ReadBigEndian(p, n);
  // Sign-extend the narrower types.
  if (n == 8) return static_cast<int64_t>(raw);
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(raw));
  return static_cast<int16_t>(static_cast<uint16_t>(raw));
}

int32_t Rows::Int32(int row, int col) const {
  const int64_t v = Int(row, col);
  if (v < INT32_MIN || v > INT32_MAX) {
    column_error_ = true;
    return 0;
  }
  return static_cast<int32_t>(v);
}

bool Rows::Bool(int row, int col) const {
  if (!result_ || row >= count() || col >= PQnfields(result_.get()) ||
      PQgetisnull(result_.get(), row, col) != 0 || PQftype(result_.get(), col) != kBoolOid ||
      PQgetlength(result_.get(), row, col) != 1) {
    column_error_ = true;
    return false;
  }
  return PQgetvalue(result_.get(), row, col)[0] != 0;
}

bool Rows::IsNull(int row, int col) const {
  if (!result_ || row >= count() || col >= PQnfields(result_.get())) {
    column_error_ = true;
    return true;
  }
  return PQgetisnull(result_.get(), row, col) != 0;
}

std::optional<int64_t> Rows::OptionalInt(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}

std::optional<std::string> Rows::OptionalBytes(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Bytes(row, col);
}

StoreResult<void> Rows::ColumnError() const {
  if (column_error_) return Fail(InternalError("postgres: a column has an unexpected type"));
  return {};
}

// ---------------------------------------------------------------------------------------------
// Connection.

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

StoreResult<Connection> Connection::Connect(const std::string& conninfo) {
  TG_STORE_TRY(CheckConnectionString(conninfo));
  // Defaults first: the connection string (expanded from `dbname`) overrides them.
  const std::array<const char*, 5> keywords = {"connect_timeout", "application_name",
                                               "client_encoding", "dbname", nullptr};
  const std::array<const char*, 5> values = {"5", "tollgate", "UTF8", conninfo.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
  if (raw == nullptr) return Fail(UnavailableError("postgres: out of memory while connecting"));
  Connection conn(raw);
  if (PQstatus(raw) != CONNECTION_OK) {
    // libpq's message names the host, port and user, never the password.
    return Fail(UnavailableError(OneLine(PQerrorMessage(raw))));
  }
  PQsetNoticeProcessor(raw, &QuietNotice, nullptr);
  return conn;
}

bool Connection::Broken() const { return !conn_ || PQstatus(conn_.get()) != CONNECTION_OK; }

StoreResult<Rows> Connection::Query(std::string_view sql, const Params& params) const {
  if (!conn_) return Fail(UnavailableError("postgres: no connection"));
  if (params.error()) return Fail(*params.error());
  const std::string text(sql);  // libpq wants NUL-terminated text
  PGresult* raw = PQexecParams(conn_.get(), text.c_str(), params.size(), params.types(),
                               params.values(), params.lengths(), params.formats(), kBinary);
  Rows rows(raw);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(ResultError(conn_.get(), raw, sql));
  }
  return rows;
}

StoreResult<void> Connection::Exec(const char* constant_sql) const {
  if (!conn_) return Fail(UnavailableError("postgres: no connection"));
  PGresult* raw = PQexec(conn_.get(), constant_sql);
  Rows rows(raw);
  const ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(ResultError(conn_.get(), raw, constant_sql));
  }
  return {};
}

StoreResult<void> Connection::Commit() const {
  if (!conn_) return Fail(UnavailableError("postgres: no connection"));
  if (PQtransactionStatus(conn_.get()) != PQTRANS_INTRANS) {
    return Fail(InternalError("postgres: COMMIT outside a healthy transaction"));
  }
  PGresult* raw = PQexec(conn_.get(), "COMMIT");
  Rows rows(raw);
  if (raw == nullptr || PQresultStatus(raw) != PGRES_COMMAND_OK) {
    return Fail(ResultError(conn_.get(), raw, "COMMIT"));
  }
  if (std::string_view(PQcmdStatus(raw)) != "COMMIT") {
    return Fail(InternalError("postgres: the transaction was rolled back at COMMIT"));
  }
  return {};
}

bool Connection::RollbackIfInTransaction() const {
  if (Broken()) return false;
  if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) return true;
  PGresult* raw = PQexec(conn_.get(), "ROLLBACK");
  Rows rows(raw);
  if (raw == nullptr || PQresultStatus(raw) != PGRES_COMMAND_OK) {
    log::Warn("postgres: ROLLBACK failed: {}", OneLine(PQerrorMessage(conn_.get())));
  }
  return !Broken() && PQtransactionStatus(conn_.get()) == PQTRANS_IDLE;
}

}  // namespace tollgate::storage::postgres
