// /v1/environments/{envID}/trustedIssuers[/{trustedIssuerID}]: the issuers whose JWTs a token
// exchange of the environment accepts as subject or actor tokens (ours; PingOne takes only its
// own: docs/token-exchange.md). Reading takes the Read permission; writing is a trust decision,
// so it takes the environment's administrator (Environment Admin, Organization Admin).
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/form.h"
#include "common/uuid.h"
#include "mgmt/body.h"
#include "mgmt/internal.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;

constexpr size_t kMaxNameLength = 256;  // characters
constexpr size_t kMaxIssuerBytes = 2048;
constexpr size_t kMaxAudienceBytes = 2048;
// Ours: bounds what one snapshot holds and what one token exchange may look through.
constexpr size_t kMaxTrustedIssuersPerEnvironment = 20;

// Printable ASCII without spaces: an `iss` compared byte for byte (RFC 7519 §4.1.1: a
// case-sensitive StringOrURI), which reads the same in every client.
bool IsIssuer(std::string_view issuer) {
  return !issuer.empty() && std::all_of(issuer.begin(), issuer.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7E;
  });
}

std::string TrustedIssuersHref(const Call& call, const EnvId& env) {
  return call.Href("/environments/" + env.str() + "/trustedIssuers");
}

std::string TrustedIssuerHref(const Call& call, const model::TrustedIssuer& t) {
  return TrustedIssuersHref(call, t.environment_id) + "/" + t.id.str();
}

json::object TrustedIssuerJson(const Call& call, const model::TrustedIssuer& t) {
  json::object o;
  o["_links"] = Links(TrustedIssuerHref(call, t));
  o["id"] = t.id.str();
  o["name"] = t.name;
  o["issuer"] = t.issuer;
  o["jwksUrl"] = t.jwks_url;
  o["audience"] = t.audience;
  o["enabled"] = t.enabled;
  o["environment"] = Ref(t.environment_id.str());
  o["createdAt"] = FormatRfc3339(t.created_at);
  o["updatedAt"] = FormatRfc3339(t.updated_at);
  return o;
}

// Every writable field, replaced (POST and PUT alike): name, issuer and jwksUrl are required;
// audience defaults to the environment's own issuer (the tokens must be addressed to this
// environment) and enabled to true.
Result<model::TrustedIssuer, ApiError> ReadTrustedIssuer(const ApiRequest& request,
                                                         const config::EnvironmentSnapshot& env,
                                                         model::TrustedIssuer t) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader reader(*body);
  auto name = reader.String("name", true);
  auto issuer = reader.String("issuer", true);
  auto jwks_url = reader.String("jwksUrl", true);
  auto audience = reader.String("audience", false);
  auto enabled = reader.Bool("enabled", false);
  if (name && Utf8Length(*name) > kMaxNameLength) {
    reader.Invalid("name", "The name must be at most 256 characters.");
  }
  if (issuer) {
    if (issuer->size() > kMaxIssuerBytes || !IsIssuer(*issuer)) {
      reader.Invalid("issuer",
                     "The issuer must be 1 to 2048 printable ASCII characters without spaces.");
    } else if (*issuer == env.issuer) {
      // Its own tokens are the environment's to verify with its own keys, not a JWKS URL.
      reader.Invalid("issuer", "The issuer must not be the environment's own issuer.");
    }
  }
  if (jwks_url && !IsHttpUrl(*jwks_url)) {
    reader.Invalid("jwksUrl", "The value must be an absolute http(s) URL with a host.");
  }
  if (audience && (audience->empty() || audience->size() > kMaxAudienceBytes)) {
    reader.Invalid("audience", "The audience must be 1 to 2048 bytes when present.");
  }
  if (!reader.ok()) return Fail(reader.Error());

  t.name = std::move(*name);
  t.issuer = std::move(*issuer);
  t.jwks_url = std::move(*jwks_url);
  t.audience = audience.value_or(env.issuer);
  t.enabled = enabled.value_or(true);
  return t;
}

}  // namespace

ApiResult HandleTrustedIssuers(const Services& s, const Call& call,
                               const config::EnvironmentSnapshot& env) {
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  const auto& all = env.data->trusted_issuers;
  if (call.segments.size() == 3) {
    if (method == "GET") {
      std::vector<json::object> items;
      items.reserve(all.size());
      for (const auto& t : all) items.push_back(TrustedIssuerJson(call, t));
      return ListResponse(call, "trustedIssuers", std::move(items),
                          TrustedIssuersHref(call, env_id));
    }
    if (method != "POST") return Fail(MethodNotAllowed("GET, POST"));
    if (!call.caller.Can(Permission::kAdminEnvironment, env_id)) return Fail(Forbidden());
    model::TrustedIssuer t;
    t.id = TrustedIssuerId(NewUuid());
    t.environment_id = env_id;
    t.created_at = t.updated_at = s.clock.Now();
    auto read = ReadTrustedIssuer(call.request, env, std::move(t));
    if (!read) return Fail(std::move(read).error());
    if (all.size() >= kMaxTrustedIssuersPerEnvironment) {
      return Fail(InvalidValue("issuer", "An environment trusts at most 20 issuers."));
    }
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Insert(*read); });
    if (!written) return Fail(std::move(written).error());
    return Created(TrustedIssuerJson(call, *read), TrustedIssuerHref(call, *read));
  }
  if (call.segments.size() != 4) return Fail(NotFound());
  auto id = PathId(call.segments[3]);
  const auto found = std::find_if(all.begin(), all.end(), [&](const model::TrustedIssuer& t) {
    return id && t.id.str() == *id;
  });
  if (found == all.end()) return Fail(NotFound());
  if (method == "GET") return JsonResponse(200, TrustedIssuerJson(call, *found));
  if (method != "PUT" && method != "DELETE") return Fail(MethodNotAllowed("GET, PUT, DELETE"));
  if (!call.caller.Can(Permission::kAdminEnvironment, env_id)) return Fail(Forbidden());
  if (method == "DELETE") {
    const TrustedIssuerId tid = found->id;
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Delete(tid); });
    if (!written) return Fail(std::move(written).error());
    return NoContent();
  }
  auto updated = ReadTrustedIssuer(call.request, env, *found);
  if (!updated) return Fail(std::move(updated).error());
  updated->updated_at = s.clock.Now();
  auto written =
      WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Update(*updated); });
  if (!written) return Fail(std::move(written).error());
  return JsonResponse(200, TrustedIssuerJson(call, *updated));
}

}  // namespace tollgate::mgmt
