#pragma once
// ApiError: the management API's error family in PingOne's platform shape
// {"id","code","message","details":[{"code","target","message"}]}. Written by ToResponse() only.

#include <string>
#include <string_view>
#include <vector>

#include "mgmt/api.h"
#include "storage/store.h"

namespace tollgate::mgmt {

struct ApiErrorDetail {
  std::string code;  // REQUIRED_VALUE, INVALID_VALUE, OUT_OF_RANGE, UNIQUENESS_VIOLATION, ...
  std::string target;
  std::string message;
};

struct ApiError {
  int status = 500;
  std::string code = "UNEXPECTED_ERROR";
  std::string message = "An unexpected error occurred.";
  std::vector<ApiErrorDetail> details;
  std::string debug;  // logged, never sent
  int retry_after_seconds = 0;
  bool bearer_challenge = false;
  std::string allow;  // 405: the Allow header
};

ApiError InvalidData(std::vector<ApiErrorDetail> details);
ApiError InvalidValue(std::string target, std::string message);
ApiError InvalidRequest(std::string message, int status = 400);
ApiError NotFound();
// RFC 9110 §15.5.6: 405 lists the allowed methods in Allow.
ApiError MethodNotAllowed(std::string_view allow);
ApiError Unauthorized(std::string debug);
ApiError Forbidden();
ApiError Unexpected(std::string debug);
ApiError Unavailable(std::string debug);
// Maps a store failure: kConflict -> 400 UNIQUENESS_VIOLATION on its target; kNotFound -> 404
// (or 400 INVALID_VALUE when the missing row was referenced from the body, `reference`);
// kUnavailable -> 503; anything else -> 500.
ApiError FromStore(const storage::StoreError& e, bool reference = false);

ApiResponse ToResponse(const ApiError& error);

}  // namespace tollgate::mgmt
