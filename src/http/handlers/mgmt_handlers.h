#pragma once
// The /v1 surface: hands the request to mgmt::ManagementApi. Blocks on the store.

#include <optional>
#include <string_view>

#include "http/message.h"
#include "mgmt/api.h"

namespace tollgate::http::handlers {

// `api_url` is the base for Location and _links when the request has no Host header.
Response Management(const Request& request, const mgmt::ManagementApi& api,
                    std::string_view api_url);
// From the header alone: the 401 of a missing or refuted bearer token
// (mgmt::ManagementApi::RefuseBeforeBody), or std::nullopt. Does not block.
std::optional<Response> ManagementBeforeBody(const Request& header, const mgmt::ManagementApi& api);

}  // namespace tollgate::http::handlers
