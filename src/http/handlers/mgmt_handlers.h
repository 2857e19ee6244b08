#pragma once
// The /v1 surface: hands the request to mgmt::ManagementApi. Blocks on the store.

#include <string_view>

#include "http/message.h"
#include "mgmt/api.h"

namespace tollgate::http::handlers {

// `api_url` is the base for Location and _links when the request has no Host header.
Response Management(const Request& request, const mgmt::ManagementApi& api,
                    std::string_view api_url);

}  // namespace tollgate::http::handlers
