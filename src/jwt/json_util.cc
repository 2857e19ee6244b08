#include "jwt/json_util.h"

#include <cmath>

namespace tollgate::jwt::internal {
namespace json = boost::json;

Result<json::object, std::string> ParseObject(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 8;
  json::value v = json::parse(text, ec, {}, options);
  if (ec || !v.is_object()) return Fail(std::string(what) + " is not a JSON object");
  return std::move(v.as_object());
}

// A non-empty string member, or the reason it is not one.
Result<std::string, std::string> RequiredString(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return Fail("claim " + std::string(name) + " is missing");
  if (!v->is_string() || v->as_string().empty()) {
    return Fail("claim " + std::string(name) + " is not a non-empty string");
  }
  return std::string(v->as_string());
}

bool StringMember(const json::object& o, std::string_view name, std::string& out) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return true;
  if (!v->is_string()) return false;
  out = std::string(v->as_string());
  return true;
}

// RFC 7519 §2 NumericDate: a JSON number of seconds; fractions are cut.
std::optional<int64_t> NumericDate(const json::value& v) {
  // 2^33 s is the year 2242: far beyond any plausible date, safe to add small offsets to, and
  // still a TimePoint (nanoseconds in int64 end in 2262), so RememberUntil cannot overflow. Found
  // by tests/fuzz/assertion_fuzz.cc at 2^40.
  constexpr int64_t kMax = int64_t{1} << 33;
  if (v.is_int64()) {
    const int64_t n = v.as_int64();
    if (n >= -kMax && n <= kMax) return n;
  } else if (v.is_uint64()) {
    if (v.as_uint64() <= static_cast<uint64_t>(kMax)) return static_cast<int64_t>(v.as_uint64());
  } else if (v.is_double()) {
    const double d = v.as_double();
    if (std::isfinite(d) && d >= -static_cast<double>(kMax) && d <= static_cast<double>(kMax)) {
      return static_cast<int64_t>(std::floor(d));
    }
  }
  return std::nullopt;
}

}  // namespace tollgate::jwt::internal
