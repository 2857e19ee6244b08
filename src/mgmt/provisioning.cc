#include "mgmt/provisioning.h"

#include "common/random.h"
#include "common/uuid.h"
#include "crypto/keys.h"

namespace tollgate::mgmt {
namespace {

constexpr std::string_view kSecretAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

// SPEC §6 default "CN=<environment name>", made safe for the certificate: commas would split the
// name into attributes, control characters are refused, and CN holds at most 64 characters.
std::string DefaultSubjectDn(const model::Environment& env) {
  std::string name;
  size_t chars = 0;
  for (char c : env.name) {
    const auto u = static_cast<unsigned char>(c);
    const bool starts_char = (u & 0xC0) != 0x80;
    if (starts_char && ++chars > 64) break;
    name.push_back(c == ',' || c == '+' || c == '=' || u < 0x20 || u == 0x7F ? ' ' : c);
  }
  size_t first = name.find_first_not_of(' ');
  size_t last = name.find_last_not_of(' ');
  if (first == std::string::npos) return "CN=Tollgate";
  return "CN=" + name.substr(first, last - first + 1);
}

}  // namespace

std::string NewClientSecret() { return RandomString(64, kSecretAlphabet); }

Result<model::SigningKey, std::string> MakeSigningKey(const model::Environment& env,
                                                      const KeySpec& spec, const Clock& clock) {
  crypto::KeyKind kind = crypto::KeyKind::kRsa;
  int32_t length = spec.key_length;
  switch (spec.algorithm) {
    case model::KeyAlgorithm::kRsa:
      kind = crypto::KeyKind::kRsa;
      break;
    case model::KeyAlgorithm::kEc:
      kind = crypto::KeyKind::kEcP256;
      length = 256;
      break;
    case model::KeyAlgorithm::kEdDsa:
    case model::KeyAlgorithm::kEd25519:
      kind = crypto::KeyKind::kEd25519;
      length = 256;
      break;
  }
  auto key = crypto::PrivateKey::Generate(kind, length);
  if (!key) return Fail("cannot generate a signing key: " + key.error().message);
  const TimePoint now = clock.Now();
  model::SigningKey sk;
  sk.id = KeyId(NewUuid());
  sk.environment_id = env.id;
  sk.created_at = sk.starts_at = now;
  sk.validity_period_days = spec.validity_period_days;
  sk.expires_at = now + std::chrono::hours(24 * spec.validity_period_days);
  sk.name = spec.name.value_or("Signing key " + FormatRfc3339(now));
  sk.algorithm = spec.algorithm;
  sk.key_length = length;
  sk.subject_dn = spec.subject_dn.value_or(DefaultSubjectDn(env));
  sk.is_default = spec.is_default;
  sk.private_key_pem = (*key)->ToPem();
  auto cert = (*key)->SelfSignedCertificate(sk.subject_dn, spec.validity_period_days);
  if (!cert) return Fail("cannot create a certificate: " + cert.error().message);
  sk.certificate_der = std::move(cert).value();
  return sk;
}

model::KeyRotationPolicy MakeKeyRotationPolicy(const model::Environment& env, bool enabled,
                                               TimePoint now) {
  model::KeyRotationPolicy p;
  p.id = KeyRotationPolicyId(NewUuid());
  p.environment_id = env.id;
  p.name = "Default";
  p.subject_dn = DefaultSubjectDn(env);
  p.enabled = enabled;
  p.created_at = p.updated_at = now;
  return p;
}

KeySpec KeySpecOf(const model::KeyRotationPolicy& policy) {
  KeySpec spec;
  spec.algorithm = policy.algorithm;
  spec.key_length = policy.key_length;
  spec.subject_dn = policy.subject_dn;
  spec.validity_period_days = policy.validity_period_days;
  return spec;
}

Result<NewEnvironment, std::string> MakeEnvironment(model::Environment env,
                                                    const std::string& api_url,
                                                    const Clock& clock) {
  const TimePoint now = clock.Now();
  NewEnvironment out;
  if (env.id.empty()) env.id = EnvId(NewUuid());
  env.created_at = env.updated_at = now;

  model::Resource openid;
  openid.id = ResourceId(NewUuid());
  openid.environment_id = env.id;
  openid.name = "openid";
  openid.description = "OpenID Connect scopes";
  openid.type = model::ResourceType::kOpenIdConnect;
  openid.audience = "openid";
  openid.created_at = openid.updated_at = now;
  for (std::string_view s : {"openid", "profile", "email", "address", "phone"}) {
    model::Scope scope;
    scope.id = ScopeId(NewUuid());
    scope.resource_id = openid.id;
    scope.environment_id = env.id;
    scope.name = std::string(s);
    scope.created_at = scope.updated_at = now;
    out.scopes.push_back(std::move(scope));
  }
  model::Resource api;
  api.id = ResourceId(NewUuid());
  api.environment_id = env.id;
  api.name = "PingOne API";
  api.description = "The Tollgate management API (/v1)";
  api.type = model::ResourceType::kPingOneApi;
  api.audience = api_url;
  api.created_at = api.updated_at = now + std::chrono::milliseconds(1);
  out.resources = {std::move(openid), std::move(api)};

  KeySpec spec;
  spec.is_default = true;
  auto key = MakeSigningKey(env, spec, clock);
  if (!key) return Fail(std::move(key).error());
  out.signing_key = std::move(key).value();
  out.key_rotation_policy = MakeKeyRotationPolicy(env, /*enabled=*/true, now);
  out.key_rotation_policy.state.current_key_id = out.signing_key.id;
  out.key_rotation_policy.state.rotated_at = now;
  out.environment = std::move(env);
  return out;
}

storage::StoreResult<void> InsertEnvironment(storage::Transaction& tx, const NewEnvironment& env) {
  if (auto r = tx.Insert(env.environment); !r) return r;
  for (const auto& res : env.resources) {
    if (auto r = tx.Insert(res); !r) return r;
  }
  for (const auto& s : env.scopes) {
    if (auto r = tx.Insert(s); !r) return r;
  }
  if (auto r = tx.Insert(env.signing_key); !r) return r;
  return tx.Insert(env.key_rotation_policy);
}

}  // namespace tollgate::mgmt
