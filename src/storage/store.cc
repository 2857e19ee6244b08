#include "storage/store.h"

#include <fmt/format.h>

#include <string_view>

#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace tollgate::storage {
namespace {

constexpr std::string_view kSqliteMemoryUri = "sqlite::memory:";
constexpr std::string_view kSqlitePrefix = "sqlite:";
constexpr std::string_view kPostgresqlPrefix = "postgresql://";
constexpr std::string_view kPostgresPrefix = "postgres://";

bool IsPostgresUri(std::string_view uri) {
  return uri.starts_with(kPostgresqlPrefix) || uri.starts_with(kPostgresPrefix);
}

// Replaces the value of every `password=` parameter (up to `terminators`) by "****".
std::string RedactPasswordParameters(std::string text, std::string_view terminators) {
  constexpr std::string_view kKey = "password=";
  size_t from = 0;
  while ((from = text.find(kKey, from)) != std::string::npos) {
    const bool at_boundary =
        from == 0 || text[from - 1] == '?' || text[from - 1] == '&' || text[from - 1] == ' ';
    const size_t value = from + kKey.size();
    if (!at_boundary) {
      from = value;
      continue;
    }
    const size_t end = text.find_first_of(terminators, value);
    text.replace(value, (end == std::string::npos ? text.size() : end) - value, "****");
    from = value + 4;
  }
  return text;
}

// The URI's scheme when it looks like one; URIs may carry credentials
// (postgresql://user:password@host), so nothing past the scheme is ever echoed.
std::string SchemeForMessage(std::string_view uri) {
  const size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 32) return "(none)";
  const std::string_view scheme = uri.substr(0, colon);
  for (char c : scheme) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '-' || c == '.';
    if (!ok) return "(none)";
  }
  return std::string(scheme);
}

}  // namespace

StoreResult<void> Store::RememberJtis(const std::vector<model::RememberedJti>& jtis,
                                      TimePoint now) {
  for (const model::RememberedJti& jti : jtis) {
    auto r = RememberJti(jti, now);
    if (!r.ok() && r.error().code != StoreErrorCode::kNotFound) return Fail(std::move(r).error());
  }
  return {};
}

StoreResult<std::unique_ptr<Store>> OpenStore(const std::string& uri,
                                              std::shared_ptr<const SecretCodec> codec) {
  const std::string_view u(uri);
  if (u == kSqliteMemoryUri) return sqlite::OpenSqliteStore(":memory:", std::move(codec));
  if (u.starts_with(kSqlitePrefix)) {
    const std::string path(u.substr(kSqlitePrefix.size()));
    if (path.empty()) {
      return Fail(StoreError{StoreErrorCode::kInternal,
                             "store URI 'sqlite:' names no file: expected sqlite:PATH", ""});
    }
    return sqlite::OpenSqliteStore(path, std::move(codec));
  }
  if (IsPostgresUri(u)) return postgres::OpenPostgresStore(uri, std::move(codec));
  return Fail(StoreError{StoreErrorCode::kInternal,
                         fmt::format("unsupported store URI (scheme {}): expected sqlite:PATH, "
                                     "sqlite::memory: or postgresql://...",
                                     SchemeForMessage(u)),
                         ""});
}

std::string RedactStoreUri(const std::string& uri) {
  // Any scheme://user:password@host form (a mistyped scheme too), plus password= parameters.
  const size_t scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return uri;
  const size_t authority = scheme_end + 3;
  const size_t authority_end = uri.find_first_of("/?", authority);
  const std::string_view host_part = std::string_view(uri).substr(
      authority,
      authority_end == std::string::npos ? std::string::npos : authority_end - authority);
  std::string out = uri;
  const size_t at = host_part.rfind('@');
  if (at != std::string_view::npos) {
    const size_t colon = host_part.substr(0, at).find(':');
    if (colon != std::string_view::npos) {
      out.replace(authority + colon + 1, at - colon - 1, "****");
    }
  }
  return RedactPasswordParameters(std::move(out), "&#");
}

}  // namespace tollgate::storage
