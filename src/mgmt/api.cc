#include "mgmt/api.h"

#include "common/log.h"
#include "mgmt/internal.h"

namespace tollgate::mgmt {

ManagementApi::ManagementApi(storage::Store& store, config::ConfigHolder& config,
                             const Clock& clock, const config::JtiCache* revoked,
                             config::ChangeFeed* feed, audit::ActivityLog* activities)
    : store_(store),
      config_(config),
      clock_(clock),
      revoked_(revoked),
      feed_(feed),
      activities_(activities) {}

std::optional<ApiResponse> ManagementApi::RefuseBeforeBody(
    std::optional<std::string_view> authorization) const {
  auto refuted = RefuteBearer(authorization, *config_.Current(), config_.urls(), clock_, revoked_);
  if (!refuted) return std::nullopt;
  log::Info("management API: 401 before the body ({})", refuted->debug);
  return ToResponse(*refuted);
}

ApiResponse ManagementApi::Handle(const ApiRequest& request) const {
  try {
    // Read-your-writes across nodes: a write another node acknowledged is in the snapshot
    // before this call reads it. When the database is away, reads go on from the snapshot.
    if (feed_ != nullptr) {
      if (auto caught_up = feed_->CatchUp(); !caught_up) {
        log::Info("management API: cannot catch up with the store: {}", caught_up.error().message);
      }
    }
    auto snapshot = config_.Current();
    auto caller =
        AuthenticateBearer(request.authorization, *snapshot, config_.urls(), clock_, revoked_);
    if (!caller) {
      log::Info("management API: 401 ({})", caller.error().debug);
      return ToResponse(caller.error());
    }
    std::vector<std::string_view> segments;
    std::string_view path = request.path.substr(3);  // after "/v1"
    while (!path.empty()) {
      path.remove_prefix(1);  // the '/'
      size_t slash = path.find('/');
      segments.push_back(path.substr(0, slash));
      path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    }
    for (auto seg : segments) {
      if (seg.empty()) return ToResponse(NotFound());
    }
    if (segments.empty()) return ToResponse(NotFound());

    Services services{store_, config_, clock_, activities_};
    Call call{request, *caller, std::move(snapshot), std::move(segments), request.base_url + "/v1"};
    ApiResult result = call.segments[0] == "environments" ? HandleEnvironments(services, call)
                       : call.segments[0] == "roles"
                           ? HandleRoles(services, call)
                           : Result<ApiResponse, ApiError>(Fail(NotFound()));
    ApiResponse response = result ? std::move(result).value() : ToResponse(result.error());
    if (activities_ != nullptr) RecordActivity(services, call, response);
    return response;
  } catch (const std::exception& e) {
    return ToResponse(Unexpected(std::string("exception: ") + e.what()));
  }
}

}  // namespace tollgate::mgmt
