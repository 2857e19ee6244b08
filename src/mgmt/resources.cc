// /v1/environments/{envID}/resources[/{resID}[/secret | /scopes[/{scopeID}]]] (SPEC §6); the
// resource's /attributes are in resource_attributes.cc.
#include <algorithm>
#include <cctype>

#include "common/uuid.h"
#include "mgmt/body.h"
#include "mgmt/internal.h"
#include "mgmt/provisioning.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using model::ResourceType;

// PingOne: accessTokenValiditySeconds is 300..2592000 (30 days), default 3600.
constexpr int64_t kMinValiditySeconds = 300;
constexpr int64_t kMaxValiditySeconds = 2592000;
constexpr int32_t kDefaultValiditySeconds = 3600;
constexpr size_t kMaxNameLength = 256;
constexpr size_t kMaxAudienceLength = 256;

bool IsBuiltin(const model::Resource& r) { return r.type != ResourceType::kCustom; }

std::string ResourceHref(const Call& call, const model::Resource& r) {
  return call.Href("/environments/" + r.environment_id.str() + "/resources/" + r.id.str());
}

std::string ScopeHref(const Call& call, const model::Scope& sc) {
  return call.Href("/environments/" + sc.environment_id.str() + "/resources/" +
                   sc.resource_id.str() + "/scopes/" + sc.id.str());
}

// The resource object; never carries the secret (that lives at /secret only).
json::object ResourceJson(const Call& call, const model::Resource& r) {
  json::object o;
  json::object links = Links(ResourceHref(call, r));
  links["scopes"] = json::object{{"href", ResourceHref(call, r) + "/scopes"}};
  links["attributes"] = json::object{{"href", ResourceHref(call, r) + "/attributes"}};
  o["_links"] = std::move(links);
  o["id"] = r.id.str();
  o["name"] = r.name;
  o["description"] = r.description;
  o["type"] = model::ToString(r.type);
  o["audience"] = r.audience;
  o["accessTokenValiditySeconds"] = r.access_token_validity_seconds;
  o["introspectEndpointAuthMethod"] = model::ToString(r.introspect_endpoint_auth_method);
  o["environment"] = Ref(r.environment_id.str());
  o["createdAt"] = FormatRfc3339(r.created_at);
  o["updatedAt"] = FormatRfc3339(r.updated_at);
  return o;
}

json::object ScopeJson(const Call& call, const model::Scope& sc) {
  json::object o;
  json::object links = Links(ScopeHref(call, sc));
  links["resource"] = json::object{{"href", call.Href("/environments/" + sc.environment_id.str() +
                                                      "/resources/" + sc.resource_id.str())}};
  o["_links"] = std::move(links);
  o["id"] = sc.id.str();
  o["name"] = sc.name;
  o["description"] = sc.description;
  o["resource"] = Ref(sc.resource_id.str());
  o["environment"] = Ref(sc.environment_id.str());
  o["createdAt"] = FormatRfc3339(sc.created_at);
  o["updatedAt"] = FormatRfc3339(sc.updated_at);
  return o;
}

json::object SecretJson(const model::Resource& r) { return json::object{{"secret", r.secret}}; }

// PingOne: OPENID_CONNECT and PINGONE_API are managed by the platform.
ApiError BuiltinResourceError() {
  return InvalidValue("type", "Built-in resources cannot be changed or deleted.");
}

ApiError BuiltinScopesError() {
  return InvalidValue("resource",
                      "The scopes of a built-in resource cannot be created, changed or deleted.");
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool IsScopeToken(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
  });
}

// The writable fields of a CUSTOM resource (create and PUT alike, SPEC §6): PUT replaces every
// one of them, so an absent optional field goes back to its default. Id, environment, type,
// secret and createdAt come from `r`.
Result<model::Resource, ApiError> ReadResource(const ApiRequest& request,
                                               const std::string& api_url, model::Resource r) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader reader(*body);
  auto name = reader.String("name", true);
  auto description = reader.String("description", false);
  auto type = reader.String("type", false);
  auto audience = reader.String("audience", false);
  auto validity =
      reader.Int("accessTokenValiditySeconds", false, kMinValiditySeconds, kMaxValiditySeconds);
  auto method = reader.String("introspectEndpointAuthMethod", false);

  if (name && Utf8Length(*name) > kMaxNameLength) {
    reader.Invalid("name", "The name must be at most 256 characters.");
  }
  // PingOne: only CUSTOM resources can be created; the built-in ones exist in every environment.
  if (type && model::ParseResourceType(*type) != ResourceType::kCustom) {
    reader.Invalid("type", "The type must be CUSTOM.");
  }
  std::optional<model::IntrospectAuthMethod> parsed_method;
  if (method) {
    parsed_method = model::ParseIntrospectAuthMethod(*method);
    if (!parsed_method) {
      reader.Invalid("introspectEndpointAuthMethod",
                     "The method must be one of NONE, CLIENT_SECRET_BASIC, CLIENT_SECRET_POST.");
    }
  }
  // PingOne: the audience defaults to the name (an empty one counts as absent).
  std::string final_audience = audience && !audience->empty() ? *audience : name.value_or("");
  if (name) {
    // PingOne: the audience may not claim to be one of the platform's own.
    if (ContainsIgnoreCase(final_audience, "pingone") ||
        ContainsIgnoreCase(final_audience, "pingidentity")) {
      reader.Invalid("audience", "The audience must not contain 'pingone' or 'pingidentity'.");
    } else if (Utf8Length(final_audience) > kMaxAudienceLength) {
      reader.Invalid("audience", "The audience must be at most 256 characters.");
    } else if (final_audience == api_url) {
      // Ours: a custom resource must not mint tokens for the management API's audience.
      reader.Invalid("audience", "The audience is reserved for the management API.");
    }
  }
  if (!reader.ok()) return Fail(reader.Error());

  r.name = *name;
  r.description = description.value_or("");
  r.type = ResourceType::kCustom;
  r.audience = std::move(final_audience);
  r.access_token_validity_seconds =
      validity ? static_cast<int32_t>(*validity) : kDefaultValiditySeconds;
  r.introspect_endpoint_auth_method =
      parsed_method.value_or(model::IntrospectAuthMethod::kClientSecretBasic);
  return r;
}

// The writable fields of a scope of a CUSTOM resource: name and description. Id, resource,
// environment and createdAt come from `sc`.
Result<model::Scope, ApiError> ReadScope(const ApiRequest& request, model::Scope sc) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader reader(*body);
  auto name = reader.String("name", true);
  auto description = reader.String("description", false);
  if (name) {
    if (name->size() > kMaxNameLength) {
      reader.Invalid("name", "The name must be at most 256 characters.");
    } else if (!IsScopeToken(*name)) {
      reader.Invalid("name",
                     "The name must be an RFC 6749 scope token: printable ASCII without spaces, "
                     "'\"' or '\\'.");
    } else if (*name == "openid" || name->rfind("p1:", 0) == 0) {
      // PingOne: `openid` and `p1:*` belong to the built-in resources.
      reader.Invalid("name", "The names 'openid' and 'p1:*' are reserved for built-in resources.");
    }
  }
  if (!reader.ok()) return Fail(reader.Error());
  sc.name = *name;
  sc.description = description.value_or("");
  return sc;
}

const model::Resource* FindResource(const config::EnvironmentSnapshot& env,
                                    std::string_view segment) {
  auto id = PathId(segment);
  if (!id) return nullptr;
  const auto& all = env.data->resources;
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const model::Resource& r) { return r.id.str() == *id; });
  return it == all.end() ? nullptr : &*it;
}

ApiResult HandleSecret(const Services& s, const Call& call, const model::Resource& res) {
  const EnvId& env_id = res.environment_id;
  const auto& method = call.request.method;
  if (method == "GET") {
    if (!call.caller.Can(Permission::kReadSecrets, env_id)) return Fail(Forbidden());
    if (IsBuiltin(res) || res.secret.empty()) return Fail(NotFound());
    return JsonResponse(200, SecretJson(res));
  }
  if (method != "POST") return Fail(MethodNotAllowed("GET, POST"));
  if (!call.caller.Can(Permission::kManageApps, env_id)) return Fail(Forbidden());
  if (IsBuiltin(res)) return Fail(NotFound());
  // A body is optional and carries nothing yet; when present it must still be a JSON object.
  auto body = ParseJsonBody(call.request, /*allow_empty=*/true);
  if (!body) return Fail(std::move(body).error());
  model::Resource rotated = res;
  rotated.secret = NewClientSecret();
  auto written = WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) {
    return tx.SetResourceSecret(rotated.id, rotated.secret);
  });
  if (!written) return Fail(std::move(written).error());
  return JsonResponse(200, SecretJson(rotated));
}

ApiResult HandleScopes(const Services& s, const Call& call, const config::EnvironmentSnapshot& env,
                       const model::Resource& res) {
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  const std::string base = ResourceHref(call, res) + "/scopes";
  std::vector<const model::Scope*> mine;
  for (const auto& sc : env.data->scopes) {
    if (sc.resource_id == res.id) mine.push_back(&sc);
  }
  if (call.segments.size() == 5) {
    if (method == "GET") {
      std::vector<json::object> items;
      items.reserve(mine.size());
      for (const auto* sc : mine) items.push_back(ScopeJson(call, *sc));
      return ListResponse(call, "scopes", std::move(items), base);
    }
    if (method != "POST") return Fail(MethodNotAllowed("GET, POST"));
    if (!call.caller.Can(Permission::kManageApps, env_id)) return Fail(Forbidden());
    if (IsBuiltin(res)) return Fail(BuiltinScopesError());
    model::Scope sc;
    sc.id = ScopeId(NewUuid());
    sc.resource_id = res.id;
    sc.environment_id = env_id;
    sc.created_at = sc.updated_at = s.clock.Now();
    auto read = ReadScope(call.request, std::move(sc));
    if (!read) return Fail(std::move(read).error());
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Insert(*read); });
    if (!written) return Fail(std::move(written).error());
    return Created(ScopeJson(call, *read), ScopeHref(call, *read));
  }
  if (call.segments.size() != 6) return Fail(NotFound());
  auto id = PathId(call.segments[5]);
  const model::Scope* found = nullptr;
  for (const auto* sc : mine) {
    if (id && sc->id.str() == *id) found = sc;
  }
  if (found == nullptr) return Fail(NotFound());
  if (method == "GET") return JsonResponse(200, ScopeJson(call, *found));
  if (method != "PUT" && method != "DELETE") return Fail(MethodNotAllowed("GET, PUT, DELETE"));
  if (!call.caller.Can(Permission::kManageApps, env_id)) return Fail(Forbidden());
  if (IsBuiltin(res)) return Fail(BuiltinScopesError());
  if (method == "DELETE") {
    // The store also removes the scope from the grants that list it.
    const ScopeId sid = found->id;
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Delete(sid); });
    if (!written) return Fail(std::move(written).error());
    return NoContent();
  }
  auto updated = ReadScope(call.request, *found);
  if (!updated) return Fail(std::move(updated).error());
  updated->updated_at = s.clock.Now();
  auto written =
      WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Update(*updated); });
  if (!written) return Fail(std::move(written).error());
  return JsonResponse(200, ScopeJson(call, *updated));
}

}  // namespace

ApiResult HandleResources(const Services& s, const Call& call,
                          const config::EnvironmentSnapshot& env) {
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  const std::string& api_url = s.config.urls().api_url;
  if (call.segments.size() == 3) {
    if (method == "GET") {
      std::vector<json::object> items;
      for (const auto& r : env.data->resources) items.push_back(ResourceJson(call, r));
      return ListResponse(call, "resources", std::move(items),
                          call.Href("/environments/" + env_id.str() + "/resources"));
    }
    if (method != "POST") return Fail(MethodNotAllowed("GET, POST"));
    if (!call.caller.Can(Permission::kManageApps, env_id)) return Fail(Forbidden());
    model::Resource r;
    r.id = ResourceId(NewUuid());
    r.environment_id = env_id;
    r.created_at = r.updated_at = s.clock.Now();
    // Generated now so that introspection callers always find one at /secret.
    r.secret = NewClientSecret();
    auto read = ReadResource(call.request, api_url, std::move(r));
    if (!read) return Fail(std::move(read).error());
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Insert(*read); });
    if (!written) return Fail(std::move(written).error());
    return Created(ResourceJson(call, *read), ResourceHref(call, *read));
  }

  const model::Resource* res = FindResource(env, call.segments[3]);
  if (res == nullptr) return Fail(NotFound());
  if (call.segments.size() > 4) {
    std::string_view sub = call.segments[4];
    if (sub == "scopes") return HandleScopes(s, call, env, *res);
    if (sub == "attributes") return HandleAttributes(s, call, env, *res);
    if (sub == "secret" && call.segments.size() == 5) return HandleSecret(s, call, *res);
    return Fail(NotFound());
  }
  if (method == "GET") return JsonResponse(200, ResourceJson(call, *res));
  if (method != "PUT" && method != "DELETE") return Fail(MethodNotAllowed("GET, PUT, DELETE"));
  if (!call.caller.Can(Permission::kManageApps, env_id)) return Fail(Forbidden());
  if (IsBuiltin(*res)) return Fail(BuiltinResourceError());
  if (method == "DELETE") {
    // The store deletes the resource's scopes and the grants that point at it, atomically.
    const ResourceId id = res->id;
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Delete(id); });
    if (!written) return Fail(std::move(written).error());
    return NoContent();
  }
  auto updated = ReadResource(call.request, api_url, *res);
  if (!updated) return Fail(std::move(updated).error());
  updated->updated_at = s.clock.Now();
  // Update() leaves the secret alone, so a concurrent rotation is never undone.
  auto written =
      WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Update(*updated); });
  if (!written) return Fail(std::move(written).error());
  return JsonResponse(200, ResourceJson(call, *updated));
}

}  // namespace tollgate::mgmt
