// /v1/environments/{envID}/resources/{resID}/attributes[/{attributeID}]: PingOne's resource
// attributes, the custom claims of the resource's tokens (docs/token-customization.md).
#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_map>

#include "claims/expression.h"
#include "common/uuid.h"
#include "mgmt/body.h"
#include "mgmt/internal.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;

constexpr size_t kMaxNameLength = 256;
// Ours: bounds what one resource (and so one snapshot) holds and what one token evaluates.
constexpr size_t kMaxAttributesPerResource = 100;

// Claims a token has already, or that RFC 8693 and RFC 8705 give a meaning (`act`, `may_act`,
// `cnf`), and the members introspection adds (RFC 7662 §2.2: `active`, `token_type`); PingOne
// also keeps `p1.*` for itself.
constexpr std::array<std::string_view, 16> kReservedNames{
    "aud", "client_id", "env", "exp", "iat",     "iss", "jti",    "nbf",
    "org", "scope",     "sub", "act", "may_act", "cnf", "active", "token_type"};

bool IsReserved(std::string_view name) {
  return std::find(kReservedNames.begin(), kReservedNames.end(), name) != kReservedNames.end() ||
         name.rfind("p1.", 0) == 0;
}

// Printable ASCII without '"' and '\' (a JSON member name that needs no escaping, and that
// reads the same in every client).
bool IsClaimName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7E && u != '"' && u != '\\';
  });
}

std::string AttributeHref(const Call& call, const model::ResourceAttribute& a) {
  return call.Href("/environments/" + a.environment_id.str() + "/resources/" + a.resource_id.str() +
                   "/attributes/" + a.id.str());
}

json::object AttributeJson(const Call& call, const model::ResourceAttribute& a) {
  json::object o;
  json::object links = Links(AttributeHref(call, a));
  links["resource"] = json::object{{"href", call.Href("/environments/" + a.environment_id.str() +
                                                      "/resources/" + a.resource_id.str())}};
  o["_links"] = std::move(links);
  o["id"] = a.id.str();
  o["name"] = a.name;
  o["value"] = a.value;
  o["type"] = model::ToString(a.type);
  o["resource"] = Ref(a.resource_id.str());
  o["environment"] = Ref(a.environment_id.str());
  o["createdAt"] = FormatRfc3339(a.created_at);
  o["updatedAt"] = FormatRfc3339(a.updated_at);
  return o;
}

// The writable fields: name and value (type may be sent, and must be CUSTOM). Checks the
// attribute against the others of the environment as they would be after the write: one
// value per claim name across the environment's resources (a token may carry several
// resources' claims), at most kMaxAttributesPerResource per resource, and static claims
// within config::kMaxCustomClaimBytes in all.
Result<model::ResourceAttribute, ApiError> ReadAttribute(const ApiRequest& request,
                                                         const config::EnvironmentSnapshot& env,
                                                         model::ResourceAttribute a) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader reader(*body);
  auto name = reader.String("name", true);
  auto value = reader.String("value", true);
  auto type = reader.String("type", false);
  if (type && model::ParseAttributeType(*type) != model::AttributeType::kCustom) {
    // PingOne: CORE and PREDEFINED attributes belong to the platform.
    reader.Invalid("type", "The type must be CUSTOM.");
  }
  if (name) {
    if (name->size() > kMaxNameLength || !IsClaimName(*name)) {
      reader.Invalid("name",
                     "The name must be 1 to 256 printable ASCII characters without spaces, '\"' "
                     "or '\\'.");
    } else if (IsReserved(*name)) {
      reader.Invalid(
          "name", "The name '" + *name +
                      "' is reserved: aud, client_id, env, exp, iat, iss, jti, nbf, "
                      "org, scope, sub, act, may_act, cnf, active, token_type and p1.* are set by "
                      "the server.");
    }
  }
  std::optional<claims::Expression> compiled;
  if (value) {
    if (value->size() > claims::kMaxValueBytes) {
      reader.Invalid("value", "The value must be at most 4096 bytes.");
    } else {
      auto c = claims::Expression::Compile(*value);
      if (!c) {
        reader.Invalid("value", "Invalid expression at position " +
                                    std::to_string(c.error().position) + ": " + c.error().message);
      } else {
        compiled = std::move(c).value();
      }
    }
  }
  if (!reader.ok()) return Fail(reader.Error());

  a.name = *name;
  a.value = *value;
  a.type = model::AttributeType::kCustom;

  // The environment as it would be: every other attribute, plus this one.
  size_t on_resource = 1;
  std::unordered_map<std::string_view, size_t> static_bytes;  // by name
  if (std::string claim = config::StaticClaimJson(a.name, *compiled); !claim.empty()) {
    static_bytes[a.name] = claim.size();
  }
  for (const model::ResourceAttribute& other : env.data->resource_attributes) {
    if (other.id == a.id) continue;
    if (other.resource_id == a.resource_id) ++on_resource;
    if (other.name == a.name && other.resource_id != a.resource_id && other.value != a.value) {
      return Fail(
          InvalidValue("name", "The claim '" + a.name + "' has another value on resource " +
                                   other.resource_id.str() +
                                   "; a name has one value across the environment's resources."));
    }
    if (static_bytes.count(other.name) > 0) continue;
    auto other_compiled = claims::Expression::Compile(other.value);
    if (!other_compiled) continue;
    if (std::string claim = config::StaticClaimJson(other.name, *other_compiled); !claim.empty()) {
      static_bytes[other.name] = claim.size();
    }
  }
  if (on_resource > kMaxAttributesPerResource) {
    return Fail(InvalidValue("resource", "A resource has at most 100 attributes."));
  }
  size_t total = 0;
  for (const auto& [n, bytes] : static_bytes) total += bytes;
  if (total > config::kMaxCustomClaimBytes) {
    return Fail(InvalidValue("value",
                             "The environment's static claims would take " + std::to_string(total) +
                                 " bytes; a token carries at most 16384 bytes of custom claims."));
  }
  return a;
}

}  // namespace

ApiResult HandleAttributes(const Services& s, const Call& call,
                           const config::EnvironmentSnapshot& env, const model::Resource& res) {
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  const std::string base =
      call.Href("/environments/" + env_id.str() + "/resources/" + res.id.str() + "/attributes");
  std::vector<const model::ResourceAttribute*> mine;
  for (const auto& a : env.data->resource_attributes) {
    if (a.resource_id == res.id) mine.push_back(&a);
  }
  // Ours: only CUSTOM resources issue tokens here, so only they take attributes.
  const bool builtin = res.type != model::ResourceType::kCustom;
  auto builtin_error = [] {
    return InvalidValue("resource",
                        "Attributes can be created, changed or deleted on CUSTOM resources only.");
  };
  if (call.segments.size() == 5) {
    if (method == "GET") {
      std::vector<json::object> items;
      items.reserve(mine.size());
      for (const auto* a : mine) items.push_back(AttributeJson(call, *a));
      return ListResponse(call, "attributes", std::move(items), base);
    }
    if (method != "POST") return Fail(MethodNotAllowed("GET, POST"));
    if (!call.caller.Can(Permission::kManageApps, env_id)) return Fail(Forbidden());
    if (builtin) return Fail(builtin_error());
    model::ResourceAttribute a;
    a.id = AttributeId(NewUuid());
    a.resource_id = res.id;
    a.environment_id = env_id;
    a.created_at = a.updated_at = s.clock.Now();
    auto read = ReadAttribute(call.request, env, std::move(a));
    if (!read) return Fail(std::move(read).error());
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Insert(*read); });
    if (!written) return Fail(std::move(written).error());
    return Created(AttributeJson(call, *read), AttributeHref(call, *read));
  }
  if (call.segments.size() != 6) return Fail(NotFound());
  auto id = PathId(call.segments[5]);
  const model::ResourceAttribute* found = nullptr;
  for (const auto* a : mine) {
    if (id && a->id.str() == *id) found = a;
  }
  if (found == nullptr) return Fail(NotFound());
  if (method == "GET") return JsonResponse(200, AttributeJson(call, *found));
  if (method != "PUT" && method != "DELETE") return Fail(MethodNotAllowed("GET, PUT, DELETE"));
  if (!call.caller.Can(Permission::kManageApps, env_id)) return Fail(Forbidden());
  if (builtin) return Fail(builtin_error());
  if (method == "DELETE") {
    const AttributeId aid = found->id;
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Delete(aid); });
    if (!written) return Fail(std::move(written).error());
    return NoContent();
  }
  auto updated = ReadAttribute(call.request, env, *found);
  if (!updated) return Fail(std::move(updated).error());
  updated->updated_at = s.clock.Now();
  auto written =
      WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Update(*updated); });
  if (!written) return Fail(std::move(written).error());
  return JsonResponse(200, AttributeJson(call, *updated));
}

}  // namespace tollgate::mgmt
