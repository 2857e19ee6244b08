// /v1/environments/{envID}/keys[/{keyID}] (SPEC §3, §6): signing keys in PingOne's certificate
// model. The private half never leaves the store and the snapshot: no response carries it.
#include <algorithm>
#include <array>
#include <chrono>
#include <limits>

#include "mgmt/body.h"
#include "mgmt/internal.h"
#include "mgmt/provisioning.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;
using model::KeyAlgorithm;

constexpr int64_t kMinValidityDays = 1;
constexpr int64_t kMaxValidityDays = kMaxKeyValidityDays;
constexpr int64_t kDefaultValidityDays = 365;
constexpr size_t kMaxNameLength = 256;
// PingOne: a certificate is EXPIRING within 30 days of its expiry.
constexpr auto kExpiringWindow = std::chrono::hours(24 * 30);

// PingOne's certificate status, in order of precedence.
std::string_view Status(const model::SigningKey& k, TimePoint now) {
  if (k.revoked) return "REVOKED";
  if (now < k.starts_at) return "NOT_YET_VALID";
  if (now >= k.expires_at) return "EXPIRED";
  if (now >= k.expires_at - kExpiringWindow) return "EXPIRING";
  return "VALID";
}

bool IsKnownStatus(std::string_view s) {
  return s == "VALID" || s == "EXPIRING" || s == "EXPIRED" || s == "NOT_YET_VALID" ||
         s == "REVOKED";
}

std::string KeysHref(const Call& call, const EnvId& env) {
  return call.Href("/environments/" + env.str() + "/keys");
}

json::object KeyJson(const Call& call, const model::SigningKey& k, TimePoint now) {
  json::object o;
  o["_links"] = Links(KeysHref(call, k.environment_id) + "/" + k.id.str());
  o["id"] = k.id.str();
  o["name"] = k.name;
  o["algorithm"] = model::ToString(k.algorithm);
  o["keyLength"] = k.key_length;
  o["signatureAlgorithm"] = SignatureAlgorithm(k.algorithm);
  o["usageType"] = "SIGNING";
  o["subjectDN"] = k.subject_dn;
  o["validityPeriod"] = k.validity_period_days;
  o["default"] = k.is_default;
  o["status"] = Status(k, now);
  o["environment"] = Ref(k.environment_id.str());
  o["createdAt"] = FormatRfc3339(k.created_at);
  o["startsAt"] = FormatRfc3339(k.starts_at);
  o["expiresAt"] = FormatRfc3339(k.expires_at);
  return o;
}

// UTF-8 code points (OpenSSL limits DN values in characters, not bytes).
size_t CodePoints(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// A subject DN the certificate builder accepts: "CN=a,O=b,..." with attributes OpenSSL knows and
// values within RFC 5280's upper bounds (Appendix A.1), so a bad DN is a 400, never a 500.
bool IsValidSubjectDn(std::string_view dn) {
  struct Attribute {
    std::string_view name;
    size_t max_chars;
    bool ascii_only;
  };
  static constexpr std::array<Attribute, 8> kAttributes{{{"CN", 64, false},
                                                         {"O", 64, false},
                                                         {"OU", 64, false},
                                                         {"L", 128, false},
                                                         {"ST", 128, false},
                                                         {"C", 2, true},
                                                         {"DC", 256, true},
                                                         {"emailAddress", 128, true}}};
  if (dn.empty() || dn.size() > 1024) return false;
  while (true) {
    const size_t comma = dn.find(',');
    const std::string_view part = Trim(dn.substr(0, comma));
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view key = Trim(part.substr(0, eq));
    const std::string_view value = Trim(part.substr(eq + 1));
    auto attr = std::find_if(kAttributes.begin(), kAttributes.end(),
                             [&](const Attribute& a) { return a.name == key; });
    if (attr == kAttributes.end() || value.empty() || CodePoints(value) > attr->max_chars) {
      return false;
    }
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7F || (attr->ascii_only && u >= 0x80)) return false;
    }
    if (key == "C" && value.size() != 2) return false;
    if (comma == std::string_view::npos) return true;
    dn.remove_prefix(comma + 1);
  }
}

}  // namespace

void ReadKeyFields(BodyReader& r, bool algorithm_required, std::string_view dn_field,
                   KeySpec& spec) {
  auto algorithm = r.String("algorithm", algorithm_required);
  // Read only for the algorithms that have one (SPEC §6: ignored for Ed25519 keys).
  auto read_length = [&r] {
    return r.Int("keyLength", false, std::numeric_limits<int64_t>::min(),
                 std::numeric_limits<int64_t>::max());
  };
  auto dn = r.String(dn_field, false);
  auto usage = r.String("usageType", false);
  auto signature = r.String("signatureAlgorithm", false);

  bool known = !algorithm;
  if (algorithm) {
    if (auto parsed = model::ParseKeyAlgorithm(*algorithm)) {
      known = true;
      if (*parsed != spec.algorithm) spec.key_length = *parsed == KeyAlgorithm::kRsa ? 2048 : 256;
      spec.algorithm = *parsed;
    } else {
      r.Invalid("algorithm", "The algorithm must be one of RSA, EC, EdDSA, Ed25519.");
    }
  }
  if (known) {
    switch (spec.algorithm) {
      case KeyAlgorithm::kRsa:
        if (auto length = read_length()) {
          if (*length == 2048 || *length == 3072 || *length == 4096) {
            spec.key_length = static_cast<int32_t>(*length);
          } else {
            r.Invalid("keyLength", "An RSA key length must be 2048, 3072 or 4096.");
          }
        }
        break;
      case KeyAlgorithm::kEc:
        if (auto length = read_length(); length && *length != 256) {
          r.Invalid("keyLength", "An EC key length must be 256 (P-256).");
        }
        spec.key_length = 256;
        break;
      case KeyAlgorithm::kEdDsa:
      case KeyAlgorithm::kEd25519:
        spec.key_length = 256;  // SPEC §6: keyLength is ignored for Ed25519 keys.
        break;
    }
    // An Ed25519 key's signature algorithm goes by either name (RFC 9864 §2.2); the key's JWS
    // `alg` is the name given as `algorithm`.
    const bool ed =
        spec.algorithm == KeyAlgorithm::kEdDsa || spec.algorithm == KeyAlgorithm::kEd25519;
    const bool ed_name = ed && signature && (*signature == "EdDSA" || *signature == "Ed25519");
    if (signature && !ed_name && *signature != SignatureAlgorithm(spec.algorithm)) {
      r.Invalid("signatureAlgorithm",
                "The signature algorithm for " + std::string(model::ToString(spec.algorithm)) +
                    " keys is " + std::string(SignatureAlgorithm(spec.algorithm)) + ".");
    }
  }
  if (dn) {
    if (IsValidSubjectDn(*dn)) {
      spec.subject_dn = *dn;
    } else {
      r.Invalid(std::string(dn_field),
                "The subject DN must look like CN=name,O=org (attributes CN, O, OU, L, ST, C, "
                "DC, emailAddress; CN, O and OU at most 64 characters).");
    }
  }
  if (usage && *usage != "SIGNING") r.Invalid("usageType", "The usage type must be SIGNING.");
}

std::string_view SignatureAlgorithm(KeyAlgorithm a) {
  switch (a) {
    case KeyAlgorithm::kRsa:
      return "SHA256withRSA";
    case KeyAlgorithm::kEc:
      return "SHA256withECDSA";
    case KeyAlgorithm::kEdDsa:
    case KeyAlgorithm::kEd25519:
      return "Ed25519";
  }
  return "";
}

namespace {

// POST body: algorithm (required), keyLength, default, name, subjectDN, validityPeriod,
// usageType, signatureAlgorithm. Unknown fields are ignored (SPEC §6).
Result<KeySpec, ApiError> ReadKeySpec(const ApiRequest& request) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader r(*body);
  KeySpec spec;
  ReadKeyFields(r, /*algorithm_required=*/true, "subjectDN", spec);
  auto is_default = r.Bool("default", false);
  auto name = r.String("name", false);
  auto validity = r.Int("validityPeriod", false, kMinValidityDays, kMaxValidityDays);
  if (name) {
    if (name->empty() || Utf8Length(*name) > kMaxNameLength) {
      r.Invalid("name", "The name must be 1 to 256 characters.");
    } else {
      spec.name = *name;
    }
  }
  if (!r.ok()) return Fail(r.Error());
  spec.is_default = is_default.value_or(false);
  spec.validity_period_days = static_cast<int32_t>(validity.value_or(kDefaultValidityDays));
  return spec;
}

// What a PUT asks for. Only `name`, `default` and `status: REVOKED` are writable; the other
// fields of the key object are read-only and ignored. An absent field leaves the key unchanged.
struct KeyChange {
  std::optional<std::string> name;
  std::optional<bool> make_default;
  bool revoke = false;
};

Result<KeyChange, ApiError> ReadKeyChange(const ApiRequest& request) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader r(*body);
  KeyChange change;
  change.name = r.String("name", false);
  change.make_default = r.Bool("default", false);
  auto status = r.String("status", false);
  auto usage = r.String("usageType", false);
  if (change.name && (change.name->empty() || Utf8Length(*change.name) > kMaxNameLength)) {
    r.Invalid("name", "The name must be 1 to 256 characters.");
  }
  if (status) {
    if (*status == "REVOKED") {
      change.revoke = true;
    } else if (!IsKnownStatus(*status)) {
      r.Invalid("status",
                "The status must be REVOKED to revoke the key; the others are read-only.");
    }
  }
  if (usage && *usage != "SIGNING") r.Invalid("usageType", "The usage type must be SIGNING.");
  if (!r.ok()) return Fail(r.Error());
  return change;
}

// WriteAndRefresh for keys. The store re-checks what the checks here read from the snapshot
// (the default key cannot be revoked or deleted, a revoked or expired key cannot become the
// default); when the snapshot was behind (a rotation or another node's write), it says so.
Result<void, ApiError> WriteKeys(
    const Services& s, const EnvId& env,
    const std::function<storage::StoreResult<void>(storage::Transaction&)>& body) {
  std::optional<storage::StoreError> refused;
  auto written = WriteAndRefresh(s, env, [&](storage::Transaction& tx) {
    auto r = body(tx);
    if (!r && r.error().code == storage::StoreErrorCode::kConflict) refused = r.error();
    return r;
  });
  if (!written && refused) {
    return Fail(InvalidValue(refused->target,
                             "The environment's keys changed meanwhile (a key rotation or another "
                             "administrator); read them again."));
  }
  return written;
}

const model::SigningKey* FindKey(const config::EnvironmentSnapshot& env, const KeyId& id) {
  const auto& keys = env.data->signing_keys;
  auto it = std::find_if(keys.begin(), keys.end(),
                         [&](const model::SigningKey& k) { return k.id == id; });
  return it == keys.end() ? nullptr : &*it;
}

ApiResult CreateKey(const Services& s, const Call& call, const config::EnvironmentSnapshot& env) {
  const EnvId& env_id = env.environment.id;
  auto spec = ReadKeySpec(call.request);
  if (!spec) return Fail(std::move(spec).error());
  auto key = MakeSigningKey(env.environment, *spec, s.clock);
  if (!key) return Fail(Unexpected(key.error()));
  const TimePoint now = s.clock.Now();
  auto written = WriteKeys(s, env_id, [&](storage::Transaction& tx) {
    if (auto r = tx.Insert(*key); !r) return r;
    // Exactly one default: the store retires the previous one in the same transaction.
    return key->is_default ? tx.MakeDefaultKey(key->id, now) : storage::StoreResult<void>();
  });
  if (!written) return Fail(std::move(written).error());
  return Created(KeyJson(call, *key, now), KeysHref(call, env_id) + "/" + key->id.str());
}

ApiResult UpdateKey(const Services& s, const Call& call, const config::EnvironmentSnapshot& env,
                    const KeyId& id) {
  auto change = ReadKeyChange(call.request);
  if (!change) return Fail(std::move(change).error());
  const model::SigningKey* key = FindKey(env, id);
  if (key == nullptr) return Fail(NotFound());
  const TimePoint now = s.clock.Now();

  std::vector<ApiErrorDetail> problems;
  if (key->is_default && change->revoke) {
    problems.push_back({"INVALID_VALUE", "status",
                        "The default key cannot be revoked; make another key the default first."});
  }
  if (key->is_default && change->make_default == false) {
    problems.push_back({"INVALID_VALUE", "default",
                        "The default key stays the default until another key is made the "
                        "default."});
  }
  if (change->make_default == true && !key->is_default) {
    if (key->revoked || change->revoke) {
      problems.push_back({"INVALID_VALUE", "default", "A revoked key cannot become the default."});
    } else if (now >= key->expires_at) {
      problems.push_back({"INVALID_VALUE", "default", "An expired key cannot become the default."});
    }
  }
  if (!problems.empty()) return Fail(InvalidData(std::move(problems)));

  model::SigningKey updated = *key;
  if (change->name) updated.name = *change->name;
  if (change->revoke) updated.revoked = true;  // permanent: no status un-revokes a key
  const bool promote = change->make_default == true && !key->is_default;
  if (promote) {
    updated.is_default = true;
    updated.retired_at.reset();
  }
  auto written = WriteKeys(s, env.environment.id, [&](storage::Transaction& tx) {
    if (auto r = tx.Update(updated); !r) return r;
    return promote ? tx.MakeDefaultKey(updated.id, now) : storage::StoreResult<void>();
  });
  if (!written) return Fail(std::move(written).error());
  return JsonResponse(200, KeyJson(call, updated, now));
}

ApiResult DeleteKey(const Services& s, const config::EnvironmentSnapshot& env, const KeyId& id) {
  const model::SigningKey* key = FindKey(env, id);
  if (key == nullptr) return Fail(NotFound());
  if (key->is_default) {
    return Fail(InvalidValue("default",
                             "The default key cannot be deleted; make another key the default "
                             "first."));
  }
  // Gone from the store, so gone from the JWKS with the refreshed snapshot.
  auto written =
      WriteKeys(s, env.environment.id, [&](storage::Transaction& tx) { return tx.Delete(id); });
  if (!written) return Fail(std::move(written).error());
  return NoContent();
}

}  // namespace

ApiResult HandleKeys(const Services& s, const Call& call, const config::EnvironmentSnapshot& env) {
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  if (call.segments.size() == 3) {
    if (method == "GET") {
      const TimePoint now = s.clock.Now();
      std::vector<json::object> items;
      for (const auto& k : env.data->signing_keys) items.push_back(KeyJson(call, k, now));
      return ListResponse(call, "keys", std::move(items), KeysHref(call, env_id));
    }
    if (method != "POST") return Fail(MethodNotAllowed("GET, POST"));
    if (!call.caller.Can(Permission::kAdminEnvironment, env_id)) return Fail(Forbidden());
    return CreateKey(s, call, env);
  }
  if (call.segments.size() != 4) return Fail(NotFound());

  auto id = PathId(call.segments[3]);
  if (!id) return Fail(NotFound());
  const model::SigningKey* found = FindKey(env, KeyId(*id));
  if (found == nullptr) return Fail(NotFound());
  if (method == "GET") return JsonResponse(200, KeyJson(call, *found, s.clock.Now()));
  if (method != "PUT" && method != "DELETE") return Fail(MethodNotAllowed("GET, PUT, DELETE"));
  if (!call.caller.Can(Permission::kAdminEnvironment, env_id)) return Fail(Forbidden());
  if (method == "DELETE") return DeleteKey(s, env, found->id);
  return UpdateKey(s, call, env, found->id);
}

}  // namespace tollgate::mgmt
