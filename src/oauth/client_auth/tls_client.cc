// RFC 8705 §2: TLS_CLIENT_AUTH (a certificate chained to one of the environment's trusted
// certificate authorities, naming the client as registered) and SELF_SIGNED_TLS_CLIENT_AUTH (a
// certificate whose key the client registered in its jwks or at its jwksUrl). The certificate
// is the one the TLS handshake proved, or the one a trusted proxy forwarded (docs/deploy.md);
// the request itself carries only client_id.
#include <algorithm>
#include <vector>

#include "crypto/x509.h"
#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {
namespace {

// The client sends its leaf and at most this many intermediates (TrustAnchors' depth is 10).
constexpr size_t kMaxIntermediates = 8;

OAuthError Denied(std::string debug) {
  return InvalidClient(InvalidClientReason::kCredentials, false,
                       "client certificate: " + std::move(debug));
}

// RFC 8705 §2.1.2: exactly the registered name, of the registered kind.
bool NameMatches(const crypto::Certificate& cert, const config::AppEntry& app) {
  const std::string& want = app.tls_client_name;
  if (!app.app.tls_client_auth || want.empty()) return false;
  auto any_of = [&want](const std::vector<std::string>& names, bool ignore_case) {
    return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return ignore_case ? std::equal(n.begin(), n.end(), want.begin(), want.end(),
                                      [](char a, char b) {
                                        return std::tolower(static_cast<unsigned char>(a)) ==
                                               std::tolower(static_cast<unsigned char>(b));
                                      })
                         : n == want;
    });
  };
  switch (app.app.tls_client_auth->name) {
    case model::TlsClientAuthName::kSubjectDn:
      return cert.SubjectIs(want);
    case model::TlsClientAuthName::kSanDns:  // RFC 4343: DNS names compare case-insensitively
      return any_of(cert.SanDns(), true);
    case model::TlsClientAuthName::kSanUri:
      return any_of(cert.SanUri(), false);
    case model::TlsClientAuthName::kSanIp:
      return any_of(cert.SanIp(), false);
    case model::TlsClientAuthName::kSanEmail:
      return any_of(cert.SanEmail(), false);
  }
  return false;
}

Result<void, ErrorOrPending> VerifyPkiCertificate(const PresentedCredentials& presented,
                                                  const config::AppEntry& app,
                                                  const config::EnvironmentSnapshot& env,
                                                  const ClientAuthServices& services) {
  if (presented.certificates.empty()) return Fail(Denied("none presented"));
  if (presented.certificates.size() > kMaxIntermediates + 1) {
    return Fail(Denied("too many intermediates"));
  }
  auto leaf = crypto::Certificate::FromDer(presented.certificates.front());
  if (!leaf) return Fail(Denied("not a certificate: " + leaf.error().message));
  std::vector<crypto::CertificatePtr> intermediates;
  for (size_t i = 1; i < presented.certificates.size(); ++i) {
    auto cert = crypto::Certificate::FromDer(presented.certificates[i]);
    if (!cert) return Fail(Denied("an intermediate is not a certificate"));
    intermediates.push_back(std::move(*cert));
  }
  if (env.trusted_cas == nullptr) return Fail(Denied("no trusted certificate authorities"));
  if (auto chained = env.trusted_cas->Verify(**leaf, intermediates, services.clock.Now());
      !chained) {
    return Fail(Denied("does not chain to a trusted CA: " + chained.error().message));
  }
  if (!NameMatches(**leaf, app)) return Fail(Denied("its name is not the registered one"));
  return {};
}

// RFC 8705 §2.2: no chain, no validity period; possession of a registered key is the proof.
Result<void, ErrorOrPending> VerifySelfSignedCertificate(const PresentedCredentials& presented,
                                                         const config::AppEntry& app,
                                                         const config::EnvironmentSnapshot& /*env*/,
                                                         const ClientAuthServices& services) {
  if (presented.certificates.empty()) return Fail(Denied("none presented"));
  auto leaf = crypto::Certificate::FromDer(presented.certificates.front());
  if (!leaf) return Fail(Denied("not a certificate: " + leaf.error().message));
  auto keys = ClientKeys(app, {}, services, Denied);
  if (!keys) return Fail(std::move(keys).error());
  const auto& set = (*keys)->keys;
  if (std::any_of(set.begin(), set.end(),
                  [&leaf](const jwt::Jwk& k) { return (*leaf)->HasPublicKey(*k.key); })) {
    return {};
  }
  return Fail(Denied("its key is not among the application's keys"));
}

}  // namespace

extern const Authenticator kTlsClientAuth;
constexpr Authenticator kTlsClientAuth{
    .method = model::AuthMethod::kTlsClientAuth,
    .mechanism = Mechanism::kNone,  // RFC 8705 §2: client_id in the request, the proof in TLS
    .discovery_name = "tls_client_auth",
    .verify = VerifyPkiCertificate,
};

extern const Authenticator kSelfSignedTlsClientAuth;
constexpr Authenticator kSelfSignedTlsClientAuth{
    .method = model::AuthMethod::kSelfSignedTlsClientAuth,
    .mechanism = Mechanism::kNone,
    .discovery_name = "self_signed_tls_client_auth",
    .needs_keys = true,
    .verify = VerifySelfSignedCertificate,
};

}  // namespace tollgate::oauth
