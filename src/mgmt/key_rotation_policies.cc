// /v1/environments/{envID}/keyRotationPolicies[/{krpID}]: PingOne's key rotation policy (KRP), one
// per environment, which rotates the environment's default signing key (mgmt/key_rotation.h).
// Read as keys are; changed by those who may create keys. Tollgate adds `enabled` and
// `overlapPeriod`; there is no POST or DELETE (docs/management-api.md).
#include "mgmt/internal.h"
#include "mgmt/key_rotation.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;

constexpr size_t kMaxNameLength = 256;

std::string PoliciesHref(const Call& call, const EnvId& env) {
  return call.Href("/environments/" + env.str() + "/keyRotationPolicies");
}

json::object PolicyJson(const Call& call, const model::KeyRotationPolicy& p,
                        const config::EnvironmentSnapshot& env) {
  json::object o;
  o["_links"] = Links(PoliciesHref(call, p.environment_id) + "/" + p.id.str());
  o["id"] = p.id.str();
  o["name"] = p.name;
  o["dn"] = p.subject_dn;
  o["algorithm"] = model::ToString(p.algorithm);
  o["keyLength"] = p.key_length;
  o["signatureAlgorithm"] = SignatureAlgorithm(p.algorithm);
  o["usageType"] = "SIGNING";
  o["validityPeriod"] = p.validity_period_days;
  o["rotationPeriod"] = p.rotation_period_days;
  o["overlapPeriod"] = p.overlap_days;
  o["enabled"] = p.enabled;
  o["default"] = true;
  if (p.state.current_key_id) o["currentKeyId"] = p.state.current_key_id->str();
  if (p.state.next_key_id) o["nextKeyId"] = p.state.next_key_id->str();
  if (p.state.rotated_at) o["rotatedAt"] = FormatRfc3339(*p.state.rotated_at);
  if (auto at = NextRotationAt(p, env.data->signing_keys,
                               std::chrono::seconds(env.max_token_lifetime_seconds))) {
    o["nextRotationAt"] = FormatRfc3339(*at);
  }
  o["environment"] = Ref(p.environment_id.str());
  o["createdAt"] = FormatRfc3339(p.created_at);
  o["updatedAt"] = FormatRfc3339(p.updated_at);
  return o;
}

// PUT body: every field optional, an absent one unchanged; the read-only fields (id,
// currentKeyId, nextKeyId, rotatedAt, nextRotationAt, default, dates) are ignored.
Result<model::KeyRotationPolicy, ApiError> ReadPolicyChange(const ApiRequest& request,
                                                            model::KeyRotationPolicy p) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader r(*body);
  KeySpec spec = KeySpecOf(p);
  ReadKeyFields(r, /*algorithm_required=*/false, "dn", spec);
  auto name = r.String("name", false);
  auto validity = r.Int("validityPeriod", false, 1, kMaxKeyValidityDays);
  auto rotation = r.Int("rotationPeriod", false, 1, kMaxKeyValidityDays);
  auto overlap = r.Int("overlapPeriod", false, 1, kMaxKeyValidityDays);
  auto enabled = r.Bool("enabled", false);
  if (name && (name->empty() || Utf8Length(*name) > kMaxNameLength)) {
    r.Invalid("name", "The name must be 1 to 256 characters.");
  }
  if (!r.ok()) return Fail(r.Error());

  p.algorithm = spec.algorithm;
  p.key_length = spec.key_length;
  p.subject_dn = spec.subject_dn.value_or(p.subject_dn);
  if (name) p.name = *name;
  if (validity) p.validity_period_days = static_cast<int32_t>(*validity);
  if (rotation) p.rotation_period_days = static_cast<int32_t>(*rotation);
  if (overlap) p.overlap_days = static_cast<int32_t>(*overlap);
  if (enabled) p.enabled = *enabled;
  if (p.overlap_days > p.rotation_period_days) {
    r.Invalid("overlapPeriod", "The overlap period must be at most the rotation period (" +
                                   std::to_string(p.rotation_period_days) + " days).");
  } else if (p.validity_period_days <= p.rotation_period_days + p.overlap_days) {
    // A key is published `overlap` days ahead, then signs for `rotation` days.
    r.Invalid("validityPeriod",
              "The validity period must be longer than the rotation period plus the overlap "
              "period (" +
                  std::to_string(p.rotation_period_days + p.overlap_days) + " days).");
  }
  if (!r.ok()) return Fail(r.Error());
  return p;
}

}  // namespace

ApiResult HandleKeyRotationPolicies(const Services& s, const Call& call,
                                    const config::EnvironmentSnapshot& env) {
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  const auto& policy = env.data->key_rotation_policy;
  if (call.segments.size() == 3) {
    if (method != "GET") return Fail(MethodNotAllowed("GET"));
    std::vector<json::object> items;
    if (policy) items.push_back(PolicyJson(call, *policy, env));
    return ListResponse(call, "keyRotationPolicies", std::move(items), PoliciesHref(call, env_id));
  }
  if (call.segments.size() != 4) return Fail(NotFound());
  auto id = PathId(call.segments[3]);
  if (!id || !policy || policy->id.str() != *id) return Fail(NotFound());
  if (method == "GET") return JsonResponse(200, PolicyJson(call, *policy, env));
  if (method != "PUT") return Fail(MethodNotAllowed("GET, PUT"));
  if (!call.caller.Can(Permission::kAdminEnvironment, env_id)) return Fail(Forbidden());

  auto changed = ReadPolicyChange(call.request, *policy);
  if (!changed) return Fail(std::move(changed).error());
  changed->updated_at = s.clock.Now();
  auto written =
      WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Update(*changed); });
  if (!written) return Fail(std::move(written).error());
  // The state as stored now (a rotation may have moved it meanwhile).
  const auto fresh = s.config.Current()->GetEnvironment(env_id.str());
  if (fresh && fresh->data->key_rotation_policy) {
    return JsonResponse(200, PolicyJson(call, *fresh->data->key_rotation_policy, *fresh));
  }
  return JsonResponse(200, PolicyJson(call, *changed, env));
}

}  // namespace tollgate::mgmt
