// /v1/roles and /v1/environments/{envID}/applications/{appID}/roleAssignments (SPEC §6).
#include "common/uuid.h"
#include "mgmt/body.h"
#include "mgmt/internal.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;

// What each role may do, as PingOne-style permission names.
std::vector<std::string_view> PermissionsOf(const RoleId& role) {
  if (role == model::kOrganizationAdminRoleId) {
    return {"environments:create", "environments:delete",   "environments:read",
            "environments:update", "applications:manage",   "resources:manage",
            "keys:manage",         "roleAssignments:manage"};
  }
  if (role == model::kEnvironmentAdminRoleId) {
    return {"environments:read", "environments:update", "applications:manage",
            "resources:manage",  "keys:manage",         "roleAssignments:manage"};
  }
  if (role == model::kClientApplicationDeveloperRoleId) {
    return {"environments:read", "applications:manage", "resources:manage"};
  }
  return {"environments:read", "applications:read", "resources:read", "keys:read"};
}

json::object RoleJson(const Call& call, const model::Role& role) {
  json::object o;
  o["_links"] = Links(call.Href("/roles/" + role.id.str()));
  o["id"] = role.id.str();
  o["name"] = role.name;
  o["description"] = role.description;
  o["applicableTo"] = json::array({json::string(model::ToString(role.applicable_to))});
  json::array permissions;
  for (auto p : PermissionsOf(role.id)) permissions.push_back(json::object{{"id", p}});
  o["permissions"] = std::move(permissions);
  return o;
}

json::object AssignmentJson(const Call& call, const model::RoleAssignment& ra) {
  json::object o;
  o["_links"] = Links(call.Href("/environments/" + ra.environment_id.str() + "/applications/" +
                                ra.application_id.str() + "/roleAssignments/" + ra.id.str()));
  o["id"] = ra.id.str();
  o["role"] = Ref(ra.role_id.str());
  o["scope"] = json::object{{"id", ra.scope_id}, {"type", model::ToString(ra.scope_type)}};
  o["environment"] = Ref(ra.environment_id.str());
  o["createdAt"] = FormatRfc3339(ra.created_at);
  o["updatedAt"] = FormatRfc3339(ra.created_at);
  return o;
}

const model::Role* FindRole(std::string_view id) {
  for (const auto& role : model::BuiltinRoles()) {
    if (role.id.str() == id) return &role;
  }
  return nullptr;
}

}  // namespace

ApiResult HandleRoles(const Services&, const Call& call) {
  if (call.request.method != "GET") return Fail(MethodNotAllowed("GET"));
  if (call.segments.size() == 1) {
    std::vector<json::object> items;
    for (const auto& role : model::BuiltinRoles()) items.push_back(RoleJson(call, role));
    return ListResponse(call, "roles", std::move(items), call.Href("/roles"));
  }
  if (call.segments.size() != 2) return Fail(NotFound());
  auto id = PathId(call.segments[1]);
  const model::Role* role = id ? FindRole(*id) : nullptr;
  if (role == nullptr) return Fail(NotFound());
  return JsonResponse(200, RoleJson(call, *role));
}

ApiResult HandleRoleAssignments(const Services& s, const Call& call,
                                const config::EnvironmentSnapshot& env,
                                const model::Application& app) {
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  std::vector<const model::RoleAssignment*> mine;
  for (const auto& ra : env.data->role_assignments) {
    if (ra.application_id == app.id) mine.push_back(&ra);
  }
  const std::string base = call.Href("/environments/" + env_id.str() + "/applications/" +
                                     app.id.str() + "/roleAssignments");
  if (call.segments.size() == 5) {
    if (method == "GET") {
      std::vector<json::object> items;
      items.reserve(mine.size());
      for (const auto* ra : mine) items.push_back(AssignmentJson(call, *ra));
      return ListResponse(call, "roleAssignments", std::move(items), base);
    }
    if (method != "POST") return Fail(MethodNotAllowed("GET, POST"));
    if (!call.caller.Can(Permission::kAdminEnvironment, env_id)) return Fail(Forbidden());
    auto body = ParseJsonBody(call.request);
    if (!body) return Fail(std::move(body).error());
    BodyReader r(*body);
    auto role_id = r.RefId("role", true);
    auto scope_id = r.RefId("scope", true);
    std::optional<model::RoleScopeType> scope_type;
    if (const auto* scope = r.Raw("scope"); scope != nullptr && scope->is_object()) {
      const auto* type = scope->as_object().if_contains("type");
      if (type != nullptr && type->is_string())
        scope_type = model::ParseRoleScopeType(type->as_string());
      if (!scope_type)
        r.Invalid("scope.type", "The scope type must be ORGANIZATION or ENVIRONMENT.");
    }
    if (!r.ok()) return Fail(r.Error());
    const model::Role* role = FindRole(*role_id);
    if (role == nullptr) return Fail(InvalidValue("role.id", "The role does not exist."));
    if (*scope_type != role->applicable_to) {
      return Fail(InvalidValue("scope.type", "The role applies to " +
                                                 std::string(model::ToString(role->applicable_to)) +
                                                 " scopes only."));
    }
    if (app.type != model::AppType::kWorker) {
      return Fail(InvalidValue("role.id", "Only WORKER applications can hold roles."));
    }
    // No one hands out power it does not hold (SPEC §6).
    if (!call.caller.MayAssign(*scope_type, *scope_id)) return Fail(Forbidden());
    if (*scope_type == model::RoleScopeType::kOrganization) {
      if (!call.snapshot->organization || call.snapshot->organization->id.str() != *scope_id) {
        return Fail(InvalidValue("scope.id", "The organization does not exist."));
      }
    } else if (!call.snapshot->FindEnvironment(*scope_id)) {
      return Fail(InvalidValue("scope.id", "The environment does not exist."));
    }
    for (const auto* ra : mine) {
      if (ra->role_id.str() == *role_id && ra->scope_id == *scope_id) {
        return Fail(InvalidData({{"UNIQUENESS_VIOLATION", "role.id",
                                  "The application already has this role in this scope."}}));
      }
    }
    model::RoleAssignment ra;
    ra.id = RoleAssignmentId(NewUuid());
    ra.environment_id = env_id;
    ra.application_id = app.id;
    ra.role_id = RoleId(*role_id);
    ra.scope_id = *scope_id;
    ra.scope_type = *scope_type;
    ra.created_at = s.clock.Now();
    auto written = WriteAndRefresh(
        s, env_id, [&](storage::Transaction& tx) { return tx.Insert(ra); },
        /*reference=*/true);
    if (!written) return Fail(std::move(written).error());
    return Created(AssignmentJson(call, ra), base + "/" + ra.id.str());
  }
  if (call.segments.size() != 6) return Fail(NotFound());
  auto id = PathId(call.segments[5]);
  const model::RoleAssignment* found = nullptr;
  for (const auto* ra : mine) {
    if (id && ra->id.str() == *id) found = ra;
  }
  if (found == nullptr) return Fail(NotFound());
  if (method == "GET") return JsonResponse(200, AssignmentJson(call, *found));
  if (method != "DELETE") return Fail(MethodNotAllowed("GET, DELETE"));
  if (!call.caller.Can(Permission::kAdminEnvironment, env_id)) return Fail(Forbidden());
  if (found->scope_type == model::RoleScopeType::kOrganization &&
      !call.caller.IsOrganizationAdmin()) {
    return Fail(Forbidden());
  }
  const RoleAssignmentId rid = found->id;
  auto written =
      WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Delete(rid); });
  if (!written) return Fail(std::move(written).error());
  return NoContent();
}

}  // namespace tollgate::mgmt
