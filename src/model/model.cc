#include "model/model.h"

#include <algorithm>
#include <array>
#include <utility>

namespace tollgate::model {

bool Application::HasGrantType(GrantType g) const {
  return std::find(grant_types.begin(), grant_types.end(), g) != grant_types.end();
}

const RoleId kOrganizationAdminRoleId{"8c4b7a4e-2f0a-4f5e-9a51-0c0a6f1d0001"};
const RoleId kEnvironmentAdminRoleId{"8c4b7a4e-2f0a-4f5e-9a51-0c0a6f1d0002"};
const RoleId kClientApplicationDeveloperRoleId{"8c4b7a4e-2f0a-4f5e-9a51-0c0a6f1d0003"};
const RoleId kConfigurationReadOnlyRoleId{"8c4b7a4e-2f0a-4f5e-9a51-0c0a6f1d0004"};

const std::vector<Role>& BuiltinRoles() {
  static const std::vector<Role> kRoles = {
      {kOrganizationAdminRoleId, "Organization Admin",
       "Everything in the organization, including environments", RoleScopeType::kOrganization},
      {kEnvironmentAdminRoleId, "Environment Admin",
       "Everything inside one environment, including role assignments",
       RoleScopeType::kEnvironment},
      {kClientApplicationDeveloperRoleId, "Client Application Developer",
       "Applications, their secrets and grants; resources and scopes", RoleScopeType::kEnvironment},
      {kConfigurationReadOnlyRoleId, "Configuration Read Only",
       "Every read in one environment except secrets", RoleScopeType::kEnvironment},
  };
  return kRoles;
}

namespace {

template <class E, size_t N>
using Names = std::array<std::pair<E, std::string_view>, N>;

template <class E, size_t N>
std::string_view Lookup(const Names<E, N>& names, E v) {
  for (const auto& [e, s] : names) {
    if (e == v) return s;
  }
  return "";
}

template <class E, size_t N>
std::optional<E> Parse(const Names<E, N>& names, std::string_view s) {
  for (const auto& [e, name] : names) {
    if (name == s) return e;
  }
  return std::nullopt;
}

constexpr Names<EnvironmentType, 2> kEnvTypes{
    {{EnvironmentType::kProduction, "PRODUCTION"}, {EnvironmentType::kSandbox, "SANDBOX"}}};
constexpr Names<Region, 6> kRegions{{{Region::kNA, "NA"},
                                     {Region::kEU, "EU"},
                                     {Region::kAP, "AP"},
                                     {Region::kCA, "CA"},
                                     {Region::kAU, "AU"},
                                     {Region::kSG, "SG"}}};
constexpr Names<AppType, 6> kAppTypes{{{AppType::kWorker, "WORKER"},
                                       {AppType::kService, "SERVICE"},
                                       {AppType::kWebApp, "WEB_APP"},
                                       {AppType::kNativeApp, "NATIVE_APP"},
                                       {AppType::kSinglePageApp, "SINGLE_PAGE_APP"},
                                       {AppType::kCustomApp, "CUSTOM_APP"}}};
constexpr Names<GrantType, 7> kGrantTypes{{{GrantType::kAuthorizationCode, "AUTHORIZATION_CODE"},
                                           {GrantType::kImplicit, "IMPLICIT"},
                                           {GrantType::kRefreshToken, "REFRESH_TOKEN"},
                                           {GrantType::kClientCredentials, "CLIENT_CREDENTIALS"},
                                           {GrantType::kDeviceCode, "DEVICE_CODE"},
                                           {GrantType::kCiba, "CIBA"},
                                           {GrantType::kTokenExchange, "TOKEN_EXCHANGE"}}};
constexpr Names<AuthMethod, 7> kAuthMethods{
    {{AuthMethod::kNone, "NONE"},
     {AuthMethod::kClientSecretBasic, "CLIENT_SECRET_BASIC"},
     {AuthMethod::kClientSecretPost, "CLIENT_SECRET_POST"},
     {AuthMethod::kClientSecretJwt, "CLIENT_SECRET_JWT"},
     {AuthMethod::kPrivateKeyJwt, "PRIVATE_KEY_JWT"},
     {AuthMethod::kTlsClientAuth, "TLS_CLIENT_AUTH"},
     {AuthMethod::kSelfSignedTlsClientAuth, "SELF_SIGNED_TLS_CLIENT_AUTH"}}};
constexpr Names<ResourceType, 3> kResourceTypes{{{ResourceType::kCustom, "CUSTOM"},
                                                 {ResourceType::kOpenIdConnect, "OPENID_CONNECT"},
                                                 {ResourceType::kPingOneApi, "PINGONE_API"}}};
constexpr Names<AttributeType, 3> kAttributeTypes{{{AttributeType::kCore, "CORE"},
                                                   {AttributeType::kCustom, "CUSTOM"},
                                                   {AttributeType::kPredefined, "PREDEFINED"}}};
constexpr Names<IntrospectAuthMethod, 3> kIntrospectMethods{
    {{IntrospectAuthMethod::kNone, "NONE"},
     {IntrospectAuthMethod::kClientSecretBasic, "CLIENT_SECRET_BASIC"},
     {IntrospectAuthMethod::kClientSecretPost, "CLIENT_SECRET_POST"}}};
constexpr Names<RoleScopeType, 2> kRoleScopeTypes{
    {{RoleScopeType::kOrganization, "ORGANIZATION"}, {RoleScopeType::kEnvironment, "ENVIRONMENT"}}};
constexpr Names<KeyAlgorithm, 4> kKeyAlgorithms{{{KeyAlgorithm::kRsa, "RSA"},
                                                 {KeyAlgorithm::kEc, "EC"},
                                                 {KeyAlgorithm::kEdDsa, "EdDSA"},
                                                 {KeyAlgorithm::kEd25519, "Ed25519"}}};

constexpr Names<CorsBehavior, 2> kCorsBehaviors{
    {{CorsBehavior::kAllowNoOrigins, "ALLOW_NO_ORIGINS"},
     {CorsBehavior::kAllowSpecificOrigins, "ALLOW_SPECIFIC_ORIGINS"}}};

constexpr Names<TlsClientAuthName, 5> kTlsClientAuthNames{
    {{TlsClientAuthName::kSubjectDn, "tlsClientAuthSubjectDn"},
     {TlsClientAuthName::kSanDns, "tlsClientAuthSanDns"},
     {TlsClientAuthName::kSanUri, "tlsClientAuthSanUri"},
     {TlsClientAuthName::kSanIp, "tlsClientAuthSanIp"},
     {TlsClientAuthName::kSanEmail, "tlsClientAuthSanEmail"}}};

}  // namespace

std::string_view ToString(EnvironmentType v) { return Lookup(kEnvTypes, v); }
std::string_view ToString(Region v) { return Lookup(kRegions, v); }
std::string_view ToString(AppType v) { return Lookup(kAppTypes, v); }
std::string_view ToString(GrantType v) { return Lookup(kGrantTypes, v); }
std::string_view ToString(AuthMethod v) { return Lookup(kAuthMethods, v); }
std::string_view ToString(ResourceType v) { return Lookup(kResourceTypes, v); }
std::string_view ToString(AttributeType v) { return Lookup(kAttributeTypes, v); }
std::string_view ToString(IntrospectAuthMethod v) { return Lookup(kIntrospectMethods, v); }
std::string_view ToString(RoleScopeType v) { return Lookup(kRoleScopeTypes, v); }
std::string_view ToString(KeyAlgorithm v) { return Lookup(kKeyAlgorithms, v); }
std::string_view ToString(CorsBehavior v) { return Lookup(kCorsBehaviors, v); }
std::string_view ToString(TlsClientAuthName v) { return Lookup(kTlsClientAuthNames, v); }
std::optional<TlsClientAuthName> ParseTlsClientAuthName(std::string_view s) {
  return Parse(kTlsClientAuthNames, s);
}
std::optional<CorsBehavior> ParseCorsBehavior(std::string_view s) {
  return Parse(kCorsBehaviors, s);
}
std::optional<EnvironmentType> ParseEnvironmentType(std::string_view s) {
  return Parse(kEnvTypes, s);
}
std::optional<Region> ParseRegion(std::string_view s) { return Parse(kRegions, s); }
std::optional<AppType> ParseAppType(std::string_view s) { return Parse(kAppTypes, s); }
std::optional<GrantType> ParseGrantType(std::string_view s) { return Parse(kGrantTypes, s); }
std::optional<AuthMethod> ParseAuthMethod(std::string_view s) { return Parse(kAuthMethods, s); }
std::optional<ResourceType> ParseResourceType(std::string_view s) {
  return Parse(kResourceTypes, s);
}
std::optional<AttributeType> ParseAttributeType(std::string_view s) {
  return Parse(kAttributeTypes, s);
}
std::optional<IntrospectAuthMethod> ParseIntrospectAuthMethod(std::string_view s) {
  return Parse(kIntrospectMethods, s);
}
std::optional<RoleScopeType> ParseRoleScopeType(std::string_view s) {
  return Parse(kRoleScopeTypes, s);
}
std::optional<KeyAlgorithm> ParseKeyAlgorithm(std::string_view s) {
  return Parse(kKeyAlgorithms, s);
}

}  // namespace tollgate::model
