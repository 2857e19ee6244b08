// /v1/environments and /v1/environments/{envID} (SPEC §6).
#include <algorithm>
#include <tuple>

#include "common/uuid.h"
#include "mgmt/body.h"
#include "mgmt/internal.h"
#include "mgmt/provisioning.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;

json::object EnvironmentJson(const Call& call, const model::Environment& env) {
  json::object o;
  o["_links"] = Links(call.Href("/environments/" + env.id.str()));
  o["id"] = env.id.str();
  o["name"] = env.name;
  o["description"] = env.description;
  o["type"] = model::ToString(env.type);
  o["region"] = model::ToString(env.region);
  o["dpopNonceRequired"] = env.dpop_nonce_required;  // ours (docs/dpop.md)
  o["organization"] = Ref(env.organization_id.str());
  o["createdAt"] = FormatRfc3339(env.created_at);
  o["updatedAt"] = FormatRfc3339(env.updated_at);
  return o;
}

// The writable fields of an environment (create and PUT alike).
Result<model::Environment, ApiError> ReadEnvironment(const ApiRequest& request,
                                                     model::Environment env) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader r(*body);
  auto name = r.String("name", true);
  auto description = r.String("description", false);
  auto type = r.String("type", false);
  auto region = r.String("region", false);
  auto nonce = r.Bool("dpopNonceRequired", false);
  if (name && Utf8Length(*name) > 256) {
    r.Invalid("name", "The name must be at most 256 characters.");
  }
  std::optional<model::EnvironmentType> parsed_type = model::EnvironmentType::kSandbox;
  if (type) {
    parsed_type = model::ParseEnvironmentType(*type);
    if (!parsed_type) r.Invalid("type", "The type must be PRODUCTION or SANDBOX.");
  }
  std::optional<model::Region> parsed_region = model::Region::kNA;
  if (region) {
    parsed_region = model::ParseRegion(*region);
    if (!parsed_region) r.Invalid("region", "The region must be one of NA, EU, AP, CA, AU, SG.");
  }
  if (!r.ok()) return Fail(r.Error());
  env.name = *name;
  env.description = description.value_or("");
  env.type = *parsed_type;
  env.region = *parsed_region;
  env.dpop_nonce_required = nonce.value_or(false);
  return env;
}

ApiResult ListEnvironments(const Call& call) {
  std::vector<json::object> items;
  std::vector<const config::EnvironmentSnapshot*> envs;
  for (const auto& [id, env] : call.snapshot->environments) {
    if (call.caller.Reaches(env->environment.id)) envs.push_back(env.get());
  }
  std::sort(envs.begin(), envs.end(), [](const auto* a, const auto* b) {
    return std::tie(a->environment.created_at, a->environment.id) <
           std::tie(b->environment.created_at, b->environment.id);
  });
  items.reserve(envs.size());
  for (const auto* env : envs) items.push_back(EnvironmentJson(call, env->environment));
  return ListResponse(call, "environments", std::move(items), call.Href("/environments"));
}

ApiResult CreateEnvironment(const Services& s, const Call& call) {
  if (!call.caller.IsOrganizationAdmin()) return Fail(Forbidden());
  if (!call.snapshot->organization) return Fail(Unexpected("no organization"));
  model::Environment env;
  env.organization_id = call.snapshot->organization->id;
  auto read = ReadEnvironment(call.request, std::move(env));
  if (!read) return Fail(std::move(read).error());
  auto made = MakeEnvironment(std::move(read).value(), s.config.urls().api_url, s.clock);
  if (!made) return Fail(Unexpected(made.error()));
  auto written = WriteAndRefresh(s, made->environment.id, [&](storage::Transaction& tx) {
    return InsertEnvironment(tx, *made);
  });
  if (!written) return Fail(std::move(written).error());
  return Created(EnvironmentJson(call, made->environment),
                 call.Href("/environments/" + made->environment.id.str()));
}

}  // namespace

ApiResult HandleEnvironments(const Services& s, const Call& call) {
  const auto& method = call.request.method;
  if (call.segments.size() == 1) {
    if (method == "GET") return ListEnvironments(call);
    if (method == "POST") return CreateEnvironment(s, call);
    return Fail(MethodNotAllowed("GET, POST"));
  }
  if (call.segments.size() > 2) {
    auto env = EnvironmentFor(call, call.segments[1], Permission::kRead);
    if (!env) return Fail(std::move(env).error());
    std::string_view family = call.segments[2];
    if (family == "applications") return HandleApplications(s, call, **env);
    if (family == "resources") return HandleResources(s, call, **env);
    if (family == "keys") return HandleKeys(s, call, **env);
    if (family == "trustedIssuers") return HandleTrustedIssuers(s, call, **env);
    if (family == "trustedCertificateAuthorities") return HandleTrustedCas(s, call, **env);
    if (family == "keyRotationPolicies") return HandleKeyRotationPolicies(s, call, **env);
    if (family == "activities") return HandleActivities(s, call, **env);
    return Fail(NotFound());
  }

  if (method == "GET") {
    auto env = EnvironmentFor(call, call.segments[1], Permission::kRead);
    if (!env) return Fail(std::move(env).error());
    return JsonResponse(200, EnvironmentJson(call, (*env)->environment));
  }
  if (method == "PUT") {
    auto env = EnvironmentFor(call, call.segments[1], Permission::kAdminEnvironment);
    if (!env) return Fail(std::move(env).error());
    auto updated = ReadEnvironment(call.request, (*env)->environment);
    if (!updated) return Fail(std::move(updated).error());
    updated->updated_at = s.clock.Now();
    auto written = WriteAndRefresh(s, updated->id,
                                   [&](storage::Transaction& tx) { return tx.Update(*updated); });
    if (!written) return Fail(std::move(written).error());
    return JsonResponse(200, EnvironmentJson(call, *updated));
  }
  if (method == "DELETE") {
    auto env = EnvironmentFor(call, call.segments[1], Permission::kManageOrganization);
    if (!env) return Fail(std::move(env).error());
    const EnvId id = (*env)->environment.id;
    auto written = s.store.Write([&](storage::Transaction& tx) { return tx.Delete(id); });
    if (!written) return Fail(FromStore(written.error()));
    // Role assignments in other environments may have pointed here: reload everything.
    if (auto loaded = s.config.LoadAll(); !loaded) {
      return Fail(Unavailable("snapshot reload failed: " + loaded.error().message));
    }
    return NoContent();
  }
  return Fail(MethodNotAllowed("GET, PUT, DELETE"));
}

}  // namespace tollgate::mgmt
