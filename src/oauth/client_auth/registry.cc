// The tokenEndpointAuthMethods Tollgate serves. Discovery's *_auth_methods_supported and
// *_auth_signing_alg_values_supported, and the management API's list of valid methods, follow
// this order. Registering a method: declare its Authenticator and add it to kAuthenticators.
#include <algorithm>

#include "oauth/client_auth/client_auth.h"

namespace tollgate::oauth {

extern const Authenticator kNoClientAuth;             // client_secret.cc
extern const Authenticator kClientSecretBasic;        // client_secret.cc
extern const Authenticator kClientSecretPost;         // client_secret.cc
extern const Authenticator kClientSecretJwt;          // assertion.cc
extern const Authenticator kPrivateKeyJwt;            // assertion.cc
extern const Authenticator kTlsClientAuth;            // tls_client.cc
extern const Authenticator kSelfSignedTlsClientAuth;  // tls_client.cc

namespace {

constexpr const Authenticator* kAuthenticators[] = {
    &kNoClientAuth,  &kClientSecretBasic, &kClientSecretPost,        &kClientSecretJwt,
    &kPrivateKeyJwt, &kTlsClientAuth,     &kSelfSignedTlsClientAuth,
};

}  // namespace

std::span<const Authenticator* const> Authenticators() { return kAuthenticators; }

const Authenticator* FindAuthenticator(model::AuthMethod method) {
  auto it = std::find_if(std::begin(kAuthenticators), std::end(kAuthenticators),
                         [method](const Authenticator* a) { return a->method == method; });
  return it == std::end(kAuthenticators) ? nullptr : *it;
}

}  // namespace tollgate::oauth
