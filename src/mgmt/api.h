#pragma once
// The management API (SPEC §6): PingOne-shaped JSON over HTTP under /v1, protected by bearer
// tokens this server issued. Every call blocks on the store: run it off the I/O threads.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/activity_log.h"
#include "common/clock.h"
#include "config/jti_cache.h"
#include "config/snapshot.h"
#include "config/store/change_feed.h"
#include "config/store/holder.h"
#include "storage/store.h"

namespace tollgate::mgmt {

struct ApiRequest {
  std::string_view method;
  std::string_view path;  // starts with /v1
  std::string_view query;
  std::string_view body;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> authorization;
  std::string base_url;             // scheme://host of the request, for Location and _links
  std::string_view remote_address;  // the caller's IP address, for audit activities
  std::string_view correlation_id;  // the request's, for audit activities
};

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON text; empty for 204
  std::vector<std::pair<std::string, std::string>> headers;
};

// Thread-safe: any number of calls may run at once; writes are serialized by the store.
class ManagementApi {
 public:
  // `revoked`: tokens revoked at /as/revoke are refused here too (may be null). `feed`: with
  // several nodes, every call first catches up with writes other nodes committed (may be null).
  // `activities`: where the audit activities of management writes go (may be null: none).
  ManagementApi(storage::Store& store, config::ConfigHolder& config, const Clock& clock,
                const config::JtiCache* revoked = nullptr, config::ChangeFeed* feed = nullptr,
                audit::ActivityLog* activities = nullptr);
  ApiResponse Handle(const ApiRequest& request) const;
  // The 401 answer for a request whose Authorization header already settles it (RefuteBearer),
  // from the current snapshot, before its body is read; std::nullopt when the body must be read
  // and Handle() called. Never blocks on the store: may run on an I/O thread.
  std::optional<ApiResponse> RefuseBeforeBody(std::optional<std::string_view> authorization) const;

 private:
  storage::Store& store_;
  config::ConfigHolder& config_;
  const Clock& clock_;
  const config::JtiCache* revoked_;
  config::ChangeFeed* feed_;
  audit::ActivityLog* activities_;
};

}  // namespace tollgate::mgmt
