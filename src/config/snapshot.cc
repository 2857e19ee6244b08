#include "config/snapshot.h"

#include <algorithm>
#include <unordered_set>

#include "common/base64.h"
#include "common/form.h"
#include "jwt/jwk_set.h"

namespace tollgate::config {
namespace {

std::string TlsClientName(const model::TlsClientAuth& name) {
  switch (name.name) {
    case model::TlsClientAuthName::kSubjectDn:
      return crypto::NormalizeDn(name.value).value_or("");
    case model::TlsClientAuthName::kSanIp:
      return crypto::ParseIpAddress(name.value).value_or("");
    default:
      return name.value;
  }
}

}  // namespace

bool CustomGrant::HasScope(std::string_view name) const {
  return std::find(scope_names.begin(), scope_names.end(), name) != scope_names.end();
}

const AppEntry* EnvironmentSnapshot::FindApp(std::string_view client_id) const {
  auto it = apps.find(std::string(client_id));
  return it == apps.end() ? nullptr : &it->second;
}

std::string StaticClaimJson(std::string_view name, const claims::Expression& value) {
  std::string out;
  if (!value.IsStatic()) return out;
  out.push_back(',');
  AppendJsonString(out, name);
  out.push_back(':');
  if (!value.AppendJson(claims::Context{}, out)) out.clear();
  return out;
}

const model::TrustedIssuer* EnvironmentSnapshot::FindTrustedIssuer(std::string_view iss) const {
  for (const auto& t : trusted_issuers) {
    if (t.issuer == iss) return &t;
  }
  return nullptr;
}

bool EnvironmentSnapshot::AllowsOrigin(std::string_view origin) const {
  return std::binary_search(cors_origins.begin(), cors_origins.end(), origin, std::less<>());
}

const KeyEntry* EnvironmentSnapshot::FindKey(std::string_view kid) const {
  for (const auto& k : keys) {
    if (k.key.id.str() == kid) return &k;
  }
  return nullptr;
}

const EnvironmentSnapshot* Snapshot::FindEnvironment(std::string_view env_id) const {
  auto it = environments.find(std::string(env_id));
  return it == environments.end() ? nullptr : it->second.get();
}

std::shared_ptr<const EnvironmentSnapshot> Snapshot::GetEnvironment(std::string_view env_id) const {
  auto it = environments.find(std::string(env_id));
  return it == environments.end() ? nullptr : it->second;
}

Result<std::shared_ptr<const EnvironmentSnapshot>, BuildError> BuildEnvironmentSnapshot(
    model::EnvironmentData data, const Urls& urls) {
  auto env = std::make_shared<EnvironmentSnapshot>();
  env->environment = data.environment;
  env->organization_id = data.environment.organization_id;
  env->issuer = urls.auth_url + "/" + data.environment.id.str() + "/as";
  env->token_endpoint = env->issuer + "/token";
  if (!urls.mtls_url.empty()) {
    env->mtls_issuer = urls.mtls_url + "/" + data.environment.id.str() + "/as";
  }
  env->resources = data.resources;  // never resized after this point: pointers stay valid
  for (const auto& r : env->resources) {
    env->max_token_lifetime_seconds =
        std::max<int64_t>(env->max_token_lifetime_seconds, r.access_token_validity_seconds);
  }

  // Attributes were checked when written; one that no longer compiles is left out rather than
  // failing the environment.
  for (const auto& a : data.resource_attributes) {
    if (a.type != model::AttributeType::kCustom) continue;
    auto compiled = claims::Expression::Compile(a.value);
    if (!compiled) continue;
    ResourceClaims& rc = env->claims[a.resource_id.str()];
    ResourceClaim claim{a.name, std::move(compiled).value(), {}};
    claim.static_json = StaticClaimJson(claim.name, claim.value);
    if (claim.value.IsStatic() && claim.static_json.empty()) continue;
    rc.reads_client_assertion = rc.reads_client_assertion || claim.value.ReadsClientAssertion();
    rc.claims.push_back(std::move(claim));
  }

  for (const auto& t : data.trusted_issuers) {
    if (t.enabled) env->trusted_issuers.push_back(t);
  }
  // Checked when written; one that no longer parses is left out rather than failing the
  // environment.
  std::vector<crypto::CertificatePtr> anchors;
  for (const auto& ca : data.trusted_cas) {
    if (auto cert = crypto::Certificate::FromPem(ca.certificate); cert) {
      anchors.push_back(std::move(*cert));
    }
  }
  if (auto built = crypto::TrustAnchors::Create(anchors); built) {
    env->trusted_cas = std::move(*built);
  } else if (auto none = crypto::TrustAnchors::Create({}); none) {
    env->trusted_cas = std::move(*none);
  }

  std::unordered_map<std::string, const model::Resource*> resource_by_id;
  for (const auto& r : env->resources) resource_by_id[r.id.str()] = &r;
  std::unordered_map<std::string, const model::Scope*> scope_by_id;
  for (const auto& s : data.scopes) scope_by_id[s.id.str()] = &s;

  for (const auto& app : data.applications) {
    AppEntry entry;
    entry.app = app;
    const bool keyed =
        app.token_endpoint_auth_method == model::AuthMethod::kPrivateKeyJwt ||
        app.token_endpoint_auth_method == model::AuthMethod::kSelfSignedTlsClientAuth;
    if (keyed && !app.jwks.empty()) {
      // Validated strictly when it was written; a set that no longer parses leaves the client
      // without keys (its assertions are refused) rather than failing the environment.
      auto set = jwt::ParseJwkSet(app.jwks, jwt::JwkSetMode::kLenient);
      if (set) entry.jwks = std::make_shared<const jwt::JwkSet>(std::move(*set));
    }
    if (app.tls_client_auth) entry.tls_client_name = TlsClientName(*app.tls_client_auth);
    env->apps.emplace(app.id.str(), std::move(entry));
    if (app.enabled && app.cors_settings &&
        app.cors_settings->behavior == model::CorsBehavior::kAllowSpecificOrigins) {
      for (const auto& o : app.cors_settings->origins) env->cors_origins.push_back(o);
    }
  }
  std::sort(env->cors_origins.begin(), env->cors_origins.end());
  env->cors_origins.erase(std::unique(env->cors_origins.begin(), env->cors_origins.end()),
                          env->cors_origins.end());
  for (const auto& s : data.secrets) {
    auto it = env->apps.find(s.application_id.str());
    if (it == env->apps.end()) continue;
    it->second.secret = s.secret;
    if (s.previous && s.previous_expires_at) {
      it->second.previous_secret = s.previous;
      it->second.previous_expires_at = *s.previous_expires_at;
    }
  }
  for (const auto& ra : data.role_assignments) {
    auto it = env->apps.find(ra.application_id.str());
    if (it == env->apps.end()) continue;
    it->second.role_assignments.push_back(ra);
    it->second.has_role_assignments = true;
  }

  // Custom grants per app: group by resource, keep scope creation order, drop duplicates.
  // Grants by application and scopes by resource are indexed first (in stored order), so the
  // build costs in proportion to the environment, not to applications x grants.
  std::unordered_map<std::string, std::vector<const model::Grant*>> grants_by_app;
  for (const auto& g : data.grants) grants_by_app[g.application_id.str()].push_back(&g);
  std::unordered_map<std::string, std::vector<const model::Scope*>> scopes_by_resource;
  for (const auto& sc : data.scopes) scopes_by_resource[sc.resource_id.str()].push_back(&sc);
  const std::vector<const model::Grant*> no_grants;
  const std::vector<const model::Scope*> no_scopes;
  for (auto& [id, entry] : env->apps) {
    std::unordered_set<std::string> granted;  // scope ids
    std::vector<const model::Resource*> resources;
    auto app_grants = grants_by_app.find(id);
    for (const model::Grant* gp :
         app_grants == grants_by_app.end() ? no_grants : app_grants->second) {
      const model::Grant& g = *gp;
      auto rit = resource_by_id.find(g.resource_id.str());
      if (rit == resource_by_id.end() || rit->second->type != model::ResourceType::kCustom)
        continue;
      for (const auto& sid : g.scopes) granted.insert(sid.str());
      if (std::find(resources.begin(), resources.end(), rit->second) == resources.end()) {
        resources.push_back(rit->second);
      }
    }
    // Resources in creation order, as stored: they all point into env->resources.
    std::sort(resources.begin(), resources.end());
    for (const model::Resource* rp : resources) {
      const model::Resource& r = *rp;
      CustomGrant cg;
      cg.resource = &r;
      auto claims_it = env->claims.find(r.id.str());
      if (claims_it != env->claims.end()) cg.claims = &claims_it->second;
      auto res_scopes = scopes_by_resource.find(r.id.str());
      for (const model::Scope* sp :
           res_scopes == scopes_by_resource.end() ? no_scopes : res_scopes->second) {
        if (granted.count(sp->id.str()) > 0) cg.scope_names.push_back(sp->name);
      }
      if (!cg.scope_names.empty()) entry.custom_grants.push_back(std::move(cg));
    }
  }

  for (const auto& k : data.signing_keys) {
    // A key created as "Ed25519" signs and publishes under that name (RFC 9864); the others
    // under their type's own (RS256, ES256, EdDSA).
    auto parsed = crypto::PrivateKey::FromPem(
        k.private_key_pem, k.algorithm == model::KeyAlgorithm::kEd25519 ? "Ed25519" : "");
    if (!parsed) {
      return Fail(
          BuildError{"signing key " + k.id.str() + " does not parse: " + parsed.error().message});
    }
    KeyEntry ke;
    ke.key = k;
    ke.key.private_key_pem.clear();
    ke.signer = std::move(parsed).value();
    auto verifier = crypto::PublicKey::FromJwk(ke.signer->Public());
    if (!verifier) {
      return Fail(BuildError{"signing key " + k.id.str() + " has no usable public half"});
    }
    ke.verifier = std::move(verifier).value();
    if (!k.certificate_der.empty()) ke.x5t = Base64UrlEncode(crypto::Sha1(k.certificate_der));
    env->keys.push_back(std::move(ke));
  }
  for (const auto& ke : env->keys) {
    if (ke.key.is_default && !ke.key.revoked) env->default_key = &ke;
  }
  for (auto& k : data.signing_keys) k.private_key_pem.clear();
  env->data = std::make_shared<const model::EnvironmentData>(std::move(data));
  return std::shared_ptr<const EnvironmentSnapshot>(std::move(env));
}

}  // namespace tollgate::config
