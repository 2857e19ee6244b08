// /v1/environments/{envID}/trustedCertificateAuthorities[/{caID}]: the certificate authorities
// whose certificates the environment's TLS_CLIENT_AUTH clients may present (RFC 8705 §2.1; ours:
// docs/client-authentication.md). Reading takes the Read permission; writing is a trust
// decision, so it takes the environment's administrator (Environment Admin, Organization Admin).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "common/form.h"
#include "common/uuid.h"
#include "crypto/x509.h"
#include "mgmt/body.h"
#include "mgmt/internal.h"

namespace tollgate::mgmt {
namespace {

namespace json = boost::json;

constexpr size_t kMaxNameLength = 256;  // characters
// Ours: bounds what one snapshot holds (each anchor is parsed into every snapshot).
constexpr size_t kMaxTrustedCasPerEnvironment = 50;

std::string TrustedCasHref(const Call& call, const EnvId& env) {
  return call.Href("/environments/" + env.str() + "/trustedCertificateAuthorities");
}

std::string TrustedCaHref(const Call& call, const model::TrustedCa& ca) {
  return TrustedCasHref(call, ca.environment_id) + "/" + ca.id.str();
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    out += kDigits[u >> 4];
    out += kDigits[u & 0xF];
  }
  return out;
}

json::object TrustedCaJson(const Call& call, const model::TrustedCa& ca) {
  json::object o;
  o["_links"] = Links(TrustedCaHref(call, ca));
  o["id"] = ca.id.str();
  o["name"] = ca.name;
  o["certificate"] = ca.certificate;
  // What the certificate says, read from it (a stored certificate was parsed when written).
  if (auto cert = crypto::Certificate::FromPem(ca.certificate); cert) {
    const crypto::Certificate& c = **cert;
    o["subjectDn"] = c.SubjectDn();
    o["issuerDn"] = c.IssuerDn();
    o["serialNumber"] = c.SerialNumberHex();
    o["validStart"] = FormatRfc3339(c.NotBefore());
    o["validUntil"] = FormatRfc3339(c.NotAfter());
    o["sha256Fingerprint"] = Hex(c.Sha256Thumbprint());
  }
  o["environment"] = Ref(ca.environment_id.str());
  o["createdAt"] = FormatRfc3339(ca.created_at);
  o["updatedAt"] = FormatRfc3339(ca.updated_at);
  return o;
}

// Every writable field, replaced (POST and PUT alike): name and certificate are required; the
// certificate must be one PEM certificate of a CA (basicConstraints cA), stored as re-encoded.
Result<model::TrustedCa, ApiError> ReadTrustedCa(const ApiRequest& request, model::TrustedCa ca) {
  auto body = ParseJsonBody(request);
  if (!body) return Fail(std::move(body).error());
  BodyReader reader(*body);
  auto name = reader.String("name", true);
  auto pem = reader.String("certificate", true);
  if (name && (name->empty() || Utf8Length(*name) > kMaxNameLength)) {
    reader.Invalid("name", "The name must be 1 to 256 characters.");
  }
  crypto::CertificatePtr cert;
  if (pem) {
    if (auto parsed = crypto::Certificate::FromPem(*pem); !parsed) {
      reader.Invalid("certificate",
                     "The certificate must be one PEM certificate (BEGIN CERTIFICATE) of at most "
                     "16 KiB.");
    } else if (!(*parsed)->IsCa()) {
      reader.Invalid("certificate",
                     "The certificate must be a certificate authority's (basicConstraints CA).");
    } else {
      cert = std::move(*parsed);
    }
  }
  if (!reader.ok()) return Fail(reader.Error());
  ca.name = std::move(*name);
  ca.certificate = cert->Pem();
  return ca;
}

}  // namespace

ApiResult HandleTrustedCas(const Services& s, const Call& call,
                           const config::EnvironmentSnapshot& env) {
  const EnvId& env_id = env.environment.id;
  const auto& method = call.request.method;
  const auto& all = env.data->trusted_cas;
  if (call.segments.size() == 3) {
    if (method == "GET") {
      std::vector<json::object> items;
      items.reserve(all.size());
      for (const auto& ca : all) items.push_back(TrustedCaJson(call, ca));
      return ListResponse(call, "trustedCertificateAuthorities", std::move(items),
                          TrustedCasHref(call, env_id));
    }
    if (method != "POST") return Fail(MethodNotAllowed("GET, POST"));
    if (!call.caller.Can(Permission::kAdminEnvironment, env_id)) return Fail(Forbidden());
    model::TrustedCa ca;
    ca.id = TrustedCaId(NewUuid());
    ca.environment_id = env_id;
    ca.created_at = ca.updated_at = s.clock.Now();
    auto read = ReadTrustedCa(call.request, std::move(ca));
    if (!read) return Fail(std::move(read).error());
    if (all.size() >= kMaxTrustedCasPerEnvironment) {
      return Fail(
          InvalidValue("certificate", "An environment trusts at most 50 certificate authorities."));
    }
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Insert(*read); });
    if (!written) return Fail(std::move(written).error());
    return Created(TrustedCaJson(call, *read), TrustedCaHref(call, *read));
  }
  if (call.segments.size() != 4) return Fail(NotFound());
  auto id = PathId(call.segments[3]);
  const auto found = std::find_if(
      all.begin(), all.end(), [&](const model::TrustedCa& ca) { return id && ca.id.str() == *id; });
  if (found == all.end()) return Fail(NotFound());
  if (method == "GET") return JsonResponse(200, TrustedCaJson(call, *found));
  if (method != "PUT" && method != "DELETE") return Fail(MethodNotAllowed("GET, PUT, DELETE"));
  if (!call.caller.Can(Permission::kAdminEnvironment, env_id)) return Fail(Forbidden());
  if (method == "DELETE") {
    const TrustedCaId ca_id = found->id;
    auto written =
        WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Delete(ca_id); });
    if (!written) return Fail(std::move(written).error());
    return NoContent();
  }
  auto updated = ReadTrustedCa(call.request, *found);
  if (!updated) return Fail(std::move(updated).error());
  updated->updated_at = s.clock.Now();
  auto written =
      WriteAndRefresh(s, env_id, [&](storage::Transaction& tx) { return tx.Update(*updated); });
  if (!written) return Fail(std::move(written).error());
  return JsonResponse(200, TrustedCaJson(call, *updated));
}

}  // namespace tollgate::mgmt
