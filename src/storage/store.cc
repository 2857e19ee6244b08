#include "storage/store.h"

#include <fmt/format.h>

#include <string_view>

#include "storage/sqlite/sqlite_store.h"

namespace tollgate::storage {
namespace {

constexpr std::string_view kSqliteMemoryUri = "sqlite::memory:";
constexpr std::string_view kSqlitePrefix = "sqlite:";

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

StoreResult<void> Store::RememberJtis(const std::vector<RememberedJti>& jtis, TimePoint now) {
  for (const RememberedJti& jti : jtis) {
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
  // TODO(postgres backend is a later issue): dispatch postgresql:// here.
  return Fail(StoreError{
      StoreErrorCode::kInternal,
      fmt::format("unsupported store URI (scheme {}): expected sqlite:PATH or sqlite::memory:",
                  SchemeForMessage(u)),
      ""});
}

}  // namespace tollgate::storage
