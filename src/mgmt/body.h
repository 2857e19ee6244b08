#pragma once
// Reads a PingOne JSON request body field by field, collecting one detail per bad field
// (INVALID_VALUE with the field as target for a wrong type, REQUIRED_VALUE for a missing one,
// OUT_OF_RANGE for a number outside its range). Unknown fields are ignored (SPEC §6).

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "mgmt/api.h"
#include "mgmt/api_error.h"

namespace tollgate::mgmt {

// The JSON object in a request body: 415 unless the content type is application/json, 400
// INVALID_REQUEST for malformed JSON or a value that is not an object. An empty body with no
// content type gives an empty object when `allow_empty`.
Result<boost::json::object, ApiError> ParseJsonBody(const ApiRequest& request,
                                                    bool allow_empty = false);

// The number of characters (UTF-8 code points) of `text`, which is valid UTF-8 as every parsed
// body is: what the limits "at most N characters" count.
size_t Utf8Length(std::string_view text);

class BodyReader {
 public:
  explicit BodyReader(const boost::json::object& object) : object_(object) {}

  bool Has(std::string_view name) const;
  // Strings must be JSON strings; `required` also refuses empty strings.
  std::optional<std::string> String(std::string_view name, bool required);
  std::optional<bool> Bool(std::string_view name, bool required);
  std::optional<int64_t> Int(std::string_view name, bool required, int64_t min, int64_t max);
  std::optional<std::vector<std::string>> StringArray(std::string_view name, bool required);
  // A reference object {"id": "<uuid>"}; returns the lower-case id.
  std::optional<std::string> RefId(std::string_view name, bool required);
  // An array of reference objects [{"id": ...}, ...].
  std::optional<std::vector<std::string>> RefIdArray(std::string_view name, bool required);
  const boost::json::value* Raw(std::string_view name) const { return object_.if_contains(name); }

  void Invalid(std::string target, std::string message);
  void Required(std::string target);
  void OutOfRange(std::string target, std::string message);

  bool ok() const { return details_.empty(); }
  ApiError Error() const { return InvalidData(details_); }

 private:
  const boost::json::object& object_;
  std::vector<ApiErrorDetail> details_;
};

}  // namespace tollgate::mgmt
