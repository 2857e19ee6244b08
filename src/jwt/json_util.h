#pragma once
// JSON helpers the decoders of this module share (client assertions, DPoP proofs). Internal to
// jwt: its public headers do not include Boost.JSON.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tollgate::jwt::internal {

// The JSON object `text` (nesting at most 8 deep), or "<what> is not a JSON object".
Result<boost::json::object, std::string> ParseObject(std::string_view text, std::string_view what);

// A non-empty string member, or the reason it is not one ("claim <name> is ...").
Result<std::string, std::string> RequiredString(const boost::json::object& o,
                                                std::string_view name);

// The string member `name` into `out` (left alone when absent); false when present but not a
// string.
bool StringMember(const boost::json::object& o, std::string_view name, std::string& out);

// RFC 7519 §2 NumericDate: a JSON number of seconds, fractions cut; nullopt for anything else and
// beyond ±2^33 s (the year 2242), so that adding small offsets never overflows a TimePoint.
std::optional<int64_t> NumericDate(const boost::json::value& v);

}  // namespace tollgate::jwt::internal
