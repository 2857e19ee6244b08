#pragma once
// Plain domain structs and enums, PingOne's object model for client_credentials setups.
// No I/O, no validation: mgmt/ validates, storage/ persists, config/ indexes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"

namespace tollgate::model {

struct Organization {
  OrgId id;
  std::string name;
  TimePoint created_at;
};

enum class EnvironmentType { kProduction, kSandbox };
enum class Region { kNA, kEU, kAP, kCA, kAU, kSG };

struct Environment {
  EnvId id;
  OrgId organization_id;
  std::string name;
  std::string description;
  EnvironmentType type = EnvironmentType::kSandbox;
  Region region = Region::kNA;
  // DPoP proofs must carry a nonce this server issued (RFC 9449 §8; docs/dpop.md). Ours.
  bool dpop_nonce_required = false;
  TimePoint created_at;
  TimePoint updated_at;
};

enum class AppType { kWorker, kService, kWebApp, kNativeApp, kSinglePageApp, kCustomApp };

// PingOne's grantTypes values.
enum class GrantType {
  kAuthorizationCode,
  kImplicit,
  kRefreshToken,
  kClientCredentials,
  kDeviceCode,
  kCiba,
  kTokenExchange,
};

enum class AuthMethod {
  kNone,
  kClientSecretBasic,
  kClientSecretPost,
  kClientSecretJwt,
  kPrivateKeyJwt,
  kTlsClientAuth,            // RFC 8705 §2.1: a certificate chained to a trusted CA
  kSelfSignedTlsClientAuth,  // RFC 8705 §2.2: a certificate registered in the app's jwks
};

// RFC 8705 §2.1.2: the one name of its certificate a TLS_CLIENT_AUTH client is known by.
enum class TlsClientAuthName { kSubjectDn, kSanDns, kSanUri, kSanIp, kSanEmail };

struct TlsClientAuth {
  TlsClientAuthName name = TlsClientAuthName::kSubjectDn;
  // kSubjectDn: an RFC 4514 string; kSanIp: an IPv4 or IPv6 address in text; else the exact
  // dNSName, uniformResourceIdentifier or rfc822Name.
  std::string value;

  bool operator==(const TlsClientAuth&) const = default;
};

// PingOne's corsSettings.behavior.
enum class CorsBehavior { kAllowNoOrigins, kAllowSpecificOrigins };

// Which web origins may call the token, introspection and revocation endpoints (docs/cors.md).
struct CorsSettings {
  CorsBehavior behavior = CorsBehavior::kAllowNoOrigins;
  // kAllowSpecificOrigins: serialized origins (RFC 6454 §6.2: "scheme://host[:port]", lower
  // case, no default port), as browsers send them in `Origin`.
  std::vector<std::string> origins;

  bool operator==(const CorsSettings&) const = default;
};

struct Application {
  AppId id;
  EnvId environment_id;
  std::string name;
  std::string description;
  bool enabled = true;
  std::string protocol = "OPENID_CONNECT";
  AppType type = AppType::kService;
  std::vector<GrantType> grant_types;
  AuthMethod token_endpoint_auth_method = AuthMethod::kClientSecretBasic;
  std::string jwks;      // a JWK Set as JSON text, or empty
  std::string jwks_url;  // or empty
  std::vector<std::string> response_types;
  std::vector<std::string> redirect_uris;
  bool request_scopes_for_multiple_resources_enabled = false;
  bool include_x5t = false;
  bool include_typ = true;
  std::optional<CorsSettings> cors_settings;  // absent: PingOne's default (no origin)
  bool dpop_bound_access_tokens = false;  // every token request must carry a DPoP proof (RFC 9449)
  // TLS_CLIENT_AUTH only: the certificate name that identifies the client (RFC 8705 §2.1.2).
  std::optional<TlsClientAuth> tls_client_auth;
  // Tokens carry cnf.x5t#S256 of the client's certificate, which is then required (RFC 8705 §3).
  bool tls_client_certificate_bound_access_tokens = false;
  // Tokens issued to the application before this instant are inactive (revokeTokens); set by
  // no field of the application's JSON. Whole seconds, as a token's `iat`.
  std::optional<TimePoint> tokens_not_before;
  TimePoint created_at;
  TimePoint updated_at;

  bool HasGrantType(GrantType g) const;
};

// The application's client secret; `previous` stays valid until `previous_expires_at`.
struct ApplicationSecret {
  AppId application_id;
  EnvId environment_id;
  std::string secret;
  std::optional<std::string> previous;
  std::optional<TimePoint> previous_expires_at;
};

enum class ResourceType { kCustom, kOpenIdConnect, kPingOneApi };
enum class IntrospectAuthMethod { kNone, kClientSecretBasic, kClientSecretPost };

struct Resource {
  ResourceId id;
  EnvId environment_id;
  std::string name;
  std::string description;
  ResourceType type = ResourceType::kCustom;
  std::string audience;
  int32_t access_token_validity_seconds = 3600;
  IntrospectAuthMethod introspect_endpoint_auth_method = IntrospectAuthMethod::kClientSecretBasic;
  std::string secret;  // for introspection callers; may be empty
  TimePoint created_at;
  TimePoint updated_at;
};

struct Scope {
  ScopeId id;
  ResourceId resource_id;
  EnvId environment_id;
  std::string name;
  std::string description;
  TimePoint created_at;
  TimePoint updated_at;
};

// PingOne's resource attribute: a claim that tokens for the resource's audience carry. Only
// kCustom attributes are stored and managed; kCore and kPredefined are PingOne's built-in
// claims (`sub`, ...), reported by type but never stored (mgmt/resource_attributes.cc).
enum class AttributeType { kCore, kCustom, kPredefined };

struct ResourceAttribute {
  AttributeId id;
  EnvId environment_id;
  ResourceId resource_id;
  std::string name;   // the claim name; unique within its resource
  std::string value;  // a static string, or an expression "${...}" (claims/expression.h)
  AttributeType type = AttributeType::kCustom;
  TimePoint created_at;
  TimePoint updated_at;
};

// An issuer whose JWTs a token exchange accepts as subject or actor tokens (ours; PingOne takes
// only its own: docs/token-exchange.md).
struct TrustedIssuer {
  TrustedIssuerId id;
  EnvId environment_id;
  std::string name;
  std::string issuer;    // the exact `iss` of its tokens; unique within the environment
  std::string jwks_url;  // http(s) URL of its JWK Set
  std::string audience;  // its tokens' `aud` must contain this
  bool enabled = true;
  TimePoint created_at;
  TimePoint updated_at;
};

// A certificate authority whose certificates TLS_CLIENT_AUTH clients of the environment may
// present (RFC 8705 §2.1; ours: docs/client-authentication.md).
struct TrustedCa {
  TrustedCaId id;
  EnvId environment_id;
  std::string name;
  std::string certificate;  // one X.509 certificate, PEM
  TimePoint created_at;
  TimePoint updated_at;
};

// Gives one application some scopes of one resource.
struct Grant {
  GrantId id;
  EnvId environment_id;
  AppId application_id;
  ResourceId resource_id;
  std::vector<ScopeId> scopes;
  TimePoint created_at;
  TimePoint updated_at;
};

enum class RoleScopeType { kOrganization, kEnvironment };

// The four built-in roles, with fixed IDs (SPEC §6).
struct Role {
  RoleId id;
  std::string_view name;
  std::string_view description;
  RoleScopeType applicable_to;
};
const std::vector<Role>& BuiltinRoles();
extern const RoleId kOrganizationAdminRoleId;
extern const RoleId kEnvironmentAdminRoleId;
extern const RoleId kClientApplicationDeveloperRoleId;
extern const RoleId kConfigurationReadOnlyRoleId;

struct RoleAssignment {
  RoleAssignmentId id;
  EnvId environment_id;  // the application's environment
  AppId application_id;
  RoleId role_id;
  std::string scope_id;  // an OrgId or EnvId, per scope_type
  RoleScopeType scope_type = RoleScopeType::kEnvironment;
  TimePoint created_at;
};

// kEdDsa and kEd25519 are both Ed25519 keys; they differ only in the JWS `alg` their tokens and
// JWK carry: the polymorphic "EdDSA" (RFC 8037) or the fully-specified "Ed25519" (RFC 9864).
enum class KeyAlgorithm { kRsa, kEc, kEdDsa, kEd25519 };

struct SigningKey {
  KeyId id;
  EnvId environment_id;
  std::string name;
  KeyAlgorithm algorithm = KeyAlgorithm::kRsa;
  int32_t key_length = 2048;  // RSA modulus bits; 256 for P-256 and Ed25519
  std::string subject_dn;
  int32_t validity_period_days = 365;
  bool is_default = false;
  bool revoked = false;
  std::string private_key_pem;  // PKCS#8 PEM; plaintext only in memory
  std::string certificate_der;  // self-signed X.509 for x5t; may be empty
  TimePoint created_at;
  TimePoint starts_at;
  TimePoint expires_at;
  // When the key stopped being the default: it stays published until every token it signed
  // has expired.
  std::optional<TimePoint> retired_at;
};

// What a key rotation policy has done so far; only the rotation (and a manual default change)
// moves it.
struct KeyRotationState {
  std::optional<KeyId> current_key_id;  // the default key the policy knows of
  std::optional<KeyId> next_key_id;     // created and published ahead, not yet default
  std::optional<TimePoint> rotated_at;  // when current_key_id became the default

  bool operator==(const KeyRotationState&) const = default;
};

// PingOne's key rotation policy (KRP), one per environment: the spec of the keys it creates and
// when it rotates the environment's default key (mgmt/key_rotation.h).
struct KeyRotationPolicy {
  KeyRotationPolicyId id;
  EnvId environment_id;
  std::string name;
  std::string subject_dn;
  KeyAlgorithm algorithm = KeyAlgorithm::kRsa;
  int32_t key_length = 2048;
  int32_t validity_period_days = 365;
  int32_t rotation_period_days = 90;
  int32_t overlap_days = 7;  // the next key is published this long before it becomes default
  bool enabled = true;
  KeyRotationState state;
  TimePoint created_at;
  TimePoint updated_at;
};

// Everything stored for one environment: what the store loads and a configuration snapshot is
// built from.
struct EnvironmentData {
  Environment environment;
  std::vector<Application> applications;
  std::vector<ApplicationSecret> secrets;
  std::vector<Resource> resources;
  std::vector<Scope> scopes;
  std::vector<ResourceAttribute> resource_attributes;
  std::vector<TrustedIssuer> trusted_issuers;
  std::vector<TrustedCa> trusted_cas;
  std::vector<Grant> grants;
  std::vector<RoleAssignment> role_assignments;
  std::vector<SigningKey> signing_keys;
  // Absent only for an environment stored before key rotation policies existed, until the next
  // start gives it one (mgmt::EnsureKeyRotationPolicies).
  std::optional<KeyRotationPolicy> key_rotation_policy;
};

// Token IDs remembered until they expire (SPEC §7): revoked access tokens (§5) and client
// assertions already used (§2.2 rule 6). They survive restarts and, with a shared database,
// are seen by every node.
enum class JtiKind { kRevokedToken, kUsedAssertion };

struct RememberedJti {
  JtiKind kind = JtiKind::kRevokedToken;
  EnvId environment_id;
  std::string jti;
  TimePoint expires_at;
};

// One audit activity (PingOne's audit reporting model) as stored: the fields the activities API
// filters on, and the whole activity as PingOne-shaped JSON, rendered once when it is recorded.
struct Activity {
  std::string id;
  EnvId environment_id;
  TimePoint recorded_at;
  std::string action_type;  // "APPLICATION.CREATED", ...
  bool success = true;      // result.status SUCCESS or FAILED
  std::string client_id;    // actors.client.id; empty when the caller is unknown
  std::string correlation_id;
  std::vector<std::string> resource_ids;
  std::string json;  // the activity object, without _links
  int64_t seq = 0;   // set by the store: the order activities were stored in
};

// Which activities of one environment to read: recorded in [from, to), oldest first, after the
// `after_seq` cursor, at most `limit`. Empty or absent criteria match everything.
struct ActivityQuery {
  EnvId environment_id;
  std::optional<TimePoint> from;
  std::optional<TimePoint> to;
  std::vector<std::string> action_types;  // any of them
  std::optional<bool> success;
  std::optional<std::string> client_id;
  std::optional<std::string> correlation_id;
  std::optional<std::string> resource_id;
  int64_t after_seq = 0;
  size_t limit = 100;
};

// Wire spellings (PingOne's exact upper-case enums). Parse functions return std::nullopt for
// unknown text.
std::string_view ToString(EnvironmentType v);
std::string_view ToString(Region v);
std::string_view ToString(AppType v);
std::string_view ToString(GrantType v);
std::string_view ToString(AuthMethod v);
std::string_view ToString(ResourceType v);
std::string_view ToString(AttributeType v);
std::string_view ToString(IntrospectAuthMethod v);
std::string_view ToString(RoleScopeType v);
std::string_view ToString(KeyAlgorithm v);
std::string_view ToString(CorsBehavior v);
std::string_view ToString(TlsClientAuthName v);  // the /v1 field name, e.g. tlsClientAuthSanDns
std::optional<EnvironmentType> ParseEnvironmentType(std::string_view s);
std::optional<Region> ParseRegion(std::string_view s);
std::optional<AppType> ParseAppType(std::string_view s);
std::optional<GrantType> ParseGrantType(std::string_view s);
std::optional<AuthMethod> ParseAuthMethod(std::string_view s);
std::optional<ResourceType> ParseResourceType(std::string_view s);
std::optional<AttributeType> ParseAttributeType(std::string_view s);
std::optional<IntrospectAuthMethod> ParseIntrospectAuthMethod(std::string_view s);
std::optional<RoleScopeType> ParseRoleScopeType(std::string_view s);
std::optional<KeyAlgorithm> ParseKeyAlgorithm(std::string_view s);
std::optional<CorsBehavior> ParseCorsBehavior(std::string_view s);
std::optional<TlsClientAuthName> ParseTlsClientAuthName(std::string_view s);

}  // namespace tollgate::model
