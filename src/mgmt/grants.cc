// /v1/environments/{envID}/applications/{appID}/grants[/{grantID}] (SPEC §6).
#include <algorithm>

#include "common/uuid.h"
#include "mgmt/body.h"
#include "mgmt/internal.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;

json::object GrantJson(const Call& call, const model::Grant& g) {
  json::object o;
  o["_links"] = Links(call.Href("/environments/" + g.environment_id.str() + "/applications/" +
                                g.application_id.str() + "/grants/" + g.id.str()));
  o["id"] = g.id.str();
  o["application"] = Ref(g.application_id.str());
  o["resource"] = Ref(g.resource_id.str());
  json::array scopes;
  for (const auto& s : g.scopes) scopes.push_back(Ref(s.str()));
  o["scopes"] = std::move(scopes);
  o["environment"] = Ref(g.environment_id.str());
  o["createdAt"] = FormatRfc3339(g.created_at);
  o["updatedAt"] = FormatRfc3339(g.updated_at);
  return o;
}

// {"resource":{"id"},"scopes":[{"id"},...]}: the resource must be in this environment and every
// scope must belong to it.
Result<model::Grant, ApiError> ReadGrant(const ApiRequest& request,
                                         const config::EnvironmentSnapshot& env, model::Grant g) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader r(*body);
  auto resource = r.RefId("resource", true);
  auto scopes = r.RefIdArray("scopes", true);
  if (!r.ok()) return Fail(r.Error());
  const auto& data = *env.data;
  auto res = std::find_if(data.resources.begin(), data.resources.end(),
                          [&](const model::Resource& x) { return x.id.str() == *resource; });
  if (res == data.resources.end()) {
    return Fail(InvalidValue("resource.id", "The resource does not exist in this environment."));
  }
  g.resource_id = res->id;
  g.scopes.clear();
  for (const auto& sid : *scopes) {
    auto sc = std::find_if(data.scopes.begin(), data.scopes.end(), [&](const model::Scope& x) {
      return x.id.str() == sid && x.resource_id == res->id;
    });
    if (sc == data.scopes.end()) {
      return Fail(InvalidValue("scopes", "Scope " + sid + " is not a scope of the resource."));
    }
    if (std::find(g.scopes.begin(), g.scopes.end(), sc->id) == g.scopes.end())
      g.scopes.push_back(sc->id);
  }
  return g;
}

}  // namespace

ApiResult HandleGrants(const Services& s, const Call& call, const config::EnvironmentSnapshot& env,
                       const model::Application& app) {
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  const std::string base =
      call.Href("/environments/" + env_id.str() + "/applications/" + app.id.str() + "/grants");
  std::vector<const model::Grant*> mine;
  for (const auto& g : env.data->grants) {
    if (g.application_id == app.id) mine.push_back(&g);
  }
  if (call.segments.size() == 5) {
    if (method == "GET") {
      std::vector<json::object> items;
      items.reserve(mine.size());
      for (const auto* g : mine) items.push_back(GrantJson(call, *g));
      return ListResponse(call, "grants", std::move(items), base);
    }
    if (method != "POST") return Fail(MethodNotAllowed("GET, POST"));
    if (!call.caller.Can(Permission::kManageApps, env_id)) return Fail(Forbidden());
    model::Grant g;
    g.id = GrantId(NewUuid());
    g.environment_id = env_id;
    g.application_id = app.id;
    g.created_at = g.updated_at = s.clock.Now();
    auto read = ReadGrant(call.request, env, std::move(g));
    if (!read) return Fail(std::move(read).error());
    auto written = WriteAndRefresh(
        s, env_id, [&](storage::Transaction& tx) { return tx.Insert(*read); },
        /*reference=*/true);
    if (!written) return Fail(std::move(written).error());
    return Created(GrantJson(call, *read), base + "/" + read->id.str());
  }
  if (call.segments.size() != 6) return Fail(NotFound());
  auto id = PathId(call.segments[5]);
  const model::Grant* found = nullptr;
  for (const auto* g : mine) {
    if (id && g->id.str() == *id) found = g;
  }
  if (found == nullptr) return Fail(NotFound());
  if (method == "GET") return JsonResponse(200, GrantJson(call, *found));
  if (method != "PUT" && method != "DELETE") return Fail(MethodNotAllowed("GET, PUT, DELETE"));
  if (!call.caller.Can(Permission::kManageApps, env_id)) return Fail(Forbidden());
  if (method == "DELETE") {
    const GrantId gid = found->id;
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Delete(gid); });
    if (!written) return Fail(std::move(written).error());
    return NoContent();
  }
  auto updated = ReadGrant(call.request, env, *found);
  if (!updated) return Fail(std::move(updated).error());
  updated->updated_at = s.clock.Now();
  auto written = WriteAndRefresh(
      s, env_id, [&](storage::Transaction& tx) { return tx.Update(*updated); },
      /*reference=*/true);
  if (!written) return Fail(std::move(written).error());
  return JsonResponse(200, GrantJson(call, *updated));
}

}  // namespace tollgate::mgmt
