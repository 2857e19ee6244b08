#include "mgmt/body.h"

#include <cctype>

#include "common/form.h"
#include "common/uuid.h"

namespace tollgate::mgmt {
namespace {

bool IsJsonContentType(std::string_view value) {
  std::string_view media = value.substr(0, value.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  std::string lower(media);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" || (lower.rfind("application/", 0) == 0 && lower.size() > 5 &&
                                         lower.compare(lower.size() - 5, 5, "+json") == 0);
}

}  // namespace

Result<boost::json::object, ApiError> ParseJsonBody(const ApiRequest& request, bool allow_empty) {
  if (allow_empty && request.body.empty()) return boost::json::object();
  if (!request.content_type || !IsJsonContentType(*request.content_type)) {
    return Fail(InvalidRequest("The request body must be application/json.", 415));
  }
  if (!IsValidUtf8(request.body))
    return Fail(InvalidRequest("The request body is not valid UTF-8."));
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(request.body, ec);
  if (ec) return Fail(InvalidRequest("The request body is not valid JSON."));
  if (!v.is_object()) return Fail(InvalidRequest("The request body must be a JSON object."));
  return std::move(v.as_object());
}

size_t Utf8Length(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;  // not a continuation byte
  }
  return n;
}

bool BodyReader::Has(std::string_view name) const {
  const auto* v = object_.if_contains(name);
  return v != nullptr && !v->is_null();
}

void BodyReader::Invalid(std::string target, std::string message) {
  details_.push_back({"INVALID_VALUE", std::move(target), std::move(message)});
}

void BodyReader::Required(std::string target) {
  details_.push_back({"REQUIRED_VALUE", std::move(target), "A value is required."});
}

void BodyReader::OutOfRange(std::string target, std::string message) {
  details_.push_back({"OUT_OF_RANGE", std::move(target), std::move(message)});
}

std::optional<std::string> BodyReader::String(std::string_view name, bool required) {
  const auto* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) Required(std::string(name));
    return std::nullopt;
  }
  if (!v->is_string()) {
    Invalid(std::string(name), "The value must be a string.");
    return std::nullopt;
  }
  std::string s(v->as_string());
  if (required && s.empty()) {
    Required(std::string(name));
    return std::nullopt;
  }
  return s;
}

std::optional<bool> BodyReader::Bool(std::string_view name, bool required) {
  const auto* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) Required(std::string(name));
    return std::nullopt;
  }
  if (!v->is_bool()) {
    Invalid(std::string(name), "The value must be a boolean.");
    return std::nullopt;
  }
  return v->as_bool();
}

std::optional<int64_t> BodyReader::Int(std::string_view name, bool required, int64_t min,
                                       int64_t max) {
  const auto* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) Required(std::string(name));
    return std::nullopt;
  }
  int64_t n;
  if (v->is_int64()) {
    n = v->as_int64();
  } else if (v->is_uint64()) {
    n = v->as_uint64() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX
                                                          : static_cast<int64_t>(v->as_uint64());
  } else {
    Invalid(std::string(name), "The value must be an integer.");
    return std::nullopt;
  }
  if (n < min || n > max) {
    OutOfRange(std::string(name), "The value must be between " + std::to_string(min) + " and " +
                                      std::to_string(max) + ".");
    return std::nullopt;
  }
  return n;
}

std::optional<std::vector<std::string>> BodyReader::StringArray(std::string_view name,
                                                                bool required) {
  const auto* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) Required(std::string(name));
    return std::nullopt;
  }
  if (!v->is_array()) {
    Invalid(std::string(name), "The value must be an array of strings.");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : v->as_array()) {
    if (!item.is_string()) {
      Invalid(std::string(name), "The value must be an array of strings.");
      return std::nullopt;
    }
    out.emplace_back(item.as_string());
  }
  if (required && out.empty()) {
    Required(std::string(name));
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> BodyReader::RefId(std::string_view name, bool required) {
  const auto* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) Required(std::string(name) + ".id");
    return std::nullopt;
  }
  const auto* id = v->is_object() ? v->as_object().if_contains("id") : nullptr;
  if (id == nullptr || !id->is_string()) {
    Invalid(std::string(name) + ".id", "The value must be an object with a string id.");
    return std::nullopt;
  }
  auto norm = NormalizeUuid(std::string_view(id->as_string()));
  if (!norm) {
    Invalid(std::string(name) + ".id", "The id must be a UUID.");
    return std::nullopt;
  }
  return norm;
}

std::optional<std::vector<std::string>> BodyReader::RefIdArray(std::string_view name,
                                                               bool required) {
  const auto* v = object_.if_contains(name);
  if (v == nullptr || v->is_null()) {
    if (required) Required(std::string(name));
    return std::nullopt;
  }
  if (!v->is_array()) {
    Invalid(std::string(name), "The value must be an array of objects with an id.");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : v->as_array()) {
    const auto* id = item.is_object() ? item.as_object().if_contains("id") : nullptr;
    auto norm = id != nullptr && id->is_string() ? NormalizeUuid(std::string_view(id->as_string()))
                                                 : std::nullopt;
    if (!norm) {
      Invalid(std::string(name), "Every item must be an object with a UUID id.");
      return std::nullopt;
    }
    out.push_back(std::move(*norm));
  }
  if (required && out.empty()) {
    Required(std::string(name));
    return std::nullopt;
  }
  return out;
}

}  // namespace tollgate::mgmt
