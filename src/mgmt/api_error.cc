#include "mgmt/api_error.h"

#include <boost/json.hpp>

#include "common/log.h"
#include "common/uuid.h"

namespace tollgate::mgmt {

ApiError InvalidData(std::vector<ApiErrorDetail> details) {
  ApiError e;
  e.status = 400;
  e.code = "INVALID_DATA";
  e.message =
      "The request could not be completed. One or more validation errors were in the request.";
  e.details = std::move(details);
  return e;
}

ApiError InvalidValue(std::string target, std::string message) {
  return InvalidData({{"INVALID_VALUE", std::move(target), std::move(message)}});
}

ApiError InvalidRequest(std::string message, int status) {
  ApiError e;
  e.status = status;
  e.code = "INVALID_REQUEST";
  e.message = std::move(message);
  return e;
}

ApiError NotFound() {
  ApiError e;
  e.status = 404;
  e.code = "NOT_FOUND";
  e.message = "The requested resource was not found.";
  return e;
}

ApiError MethodNotAllowed(std::string_view allow) {
  ApiError e;
  e.status = 405;
  e.code = "METHOD_NOT_ALLOWED";
  e.message = "The request method is not supported for this resource.";
  e.allow = std::string(allow);
  return e;
}

ApiError Unauthorized(std::string debug) {
  ApiError e;
  e.status = 401;
  e.code = "ACCESS_FAILED";
  e.message =
      "The request could not be completed. The access token is missing, invalid or expired.";
  e.debug = std::move(debug);
  e.bearer_challenge = true;
  return e;
}

ApiError Forbidden() {
  ApiError e;
  e.status = 403;
  e.code = "ACCESS_FAILED";
  e.message = "The request could not be completed. You do not have access to this resource.";
  e.details = {{"INSUFFICIENT_PERMISSIONS", "",
                "The actor does not have permission to perform this action."}};
  return e;
}

ApiError Unexpected(std::string debug) {
  ApiError e;
  e.debug = std::move(debug);
  return e;
}

ApiError Unavailable(std::string debug) {
  ApiError e;
  e.status = 503;
  e.code = "SERVICE_UNAVAILABLE";
  e.message = "The configuration store is unavailable. Retry later.";
  e.debug = std::move(debug);
  e.retry_after_seconds = 1;
  return e;
}

ApiError FromStore(const storage::StoreError& e, bool reference) {
  switch (e.code) {
    case storage::StoreErrorCode::kConflict:
      return InvalidData({{"UNIQUENESS_VIOLATION", e.target.empty() ? "name" : e.target,
                           "The value is already in use."}});
    case storage::StoreErrorCode::kNotFound:
      if (reference) return InvalidValue(e.target, "The referenced object does not exist.");
      return NotFound();
    case storage::StoreErrorCode::kUnavailable:
      return Unavailable(e.message);
    default:
      return Unexpected(e.message);
  }
}

ApiResponse ToResponse(const ApiError& error) {
  const std::string id = NewUuid();
  if (!error.debug.empty() || error.status >= 500) {
    log::Warn("management error {} {} id={} debug={}", error.status, error.code, id, error.debug);
  }
  boost::json::object o;
  o["id"] = id;
  o["code"] = error.code;
  o["message"] = error.message;
  if (!error.details.empty()) {
    boost::json::array details;
    for (const auto& d : error.details) {
      boost::json::object od;
      od["code"] = d.code;
      if (!d.target.empty()) od["target"] = d.target;
      od["message"] = d.message;
      details.push_back(std::move(od));
    }
    o["details"] = std::move(details);
  }
  ApiResponse r;
  r.status = error.status;
  r.body = boost::json::serialize(o);
  if (error.retry_after_seconds > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(error.retry_after_seconds));
  }
  if (error.bearer_challenge) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (!error.allow.empty()) r.headers.emplace_back("Allow", error.allow);
  return r;
}

}  // namespace tollgate::mgmt
