#include "storage/sqlite/schema.h"

#include <array>

namespace tollgate::storage::sqlite {
namespace {

// Conventions: IDs are TEXT (lower-case UUIDs), timestamps INTEGER unix milliseconds, enums the
// PingOne wire spelling as TEXT, booleans INTEGER 0/1. Sealed secrets (SecretCodec output) are
// BLOBs. Child rows reference their parent together with the environment (composite foreign
// keys), so a row can never point into another environment. Cascades follow store.h.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL
);

CREATE TABLE organization (
  id         TEXT PRIMARY KEY NOT NULL,
  singleton  INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1),
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE environments (
  id              TEXT PRIMARY KEY NOT NULL,
  organization_id TEXT NOT NULL REFERENCES organization (id),
  name            TEXT NOT NULL UNIQUE,
  description     TEXT NOT NULL,
  type            TEXT NOT NULL,
  region          TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

CREATE TABLE applications (
  id                         TEXT PRIMARY KEY NOT NULL,
  environment_id             TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  name                       TEXT NOT NULL,
  description                TEXT NOT NULL,
  enabled                    INTEGER NOT NULL,
  protocol                   TEXT NOT NULL,
  type                       TEXT NOT NULL,
  token_endpoint_auth_method TEXT NOT NULL,
  jwks                       TEXT NOT NULL,
  jwks_url                   TEXT NOT NULL,
  request_scopes_for_multiple_resources_enabled INTEGER NOT NULL,
  include_x5t                INTEGER NOT NULL,
  include_typ                INTEGER NOT NULL,
  created_at                 INTEGER NOT NULL,
  updated_at                 INTEGER NOT NULL,
  UNIQUE (environment_id, name),
  UNIQUE (id, environment_id)
);

CREATE TABLE application_grant_types (
  application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  position       INTEGER NOT NULL,
  value          TEXT NOT NULL,
  PRIMARY KEY (application_id, position)
);

CREATE TABLE application_response_types (
  application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  position       INTEGER NOT NULL,
  value          TEXT NOT NULL,
  PRIMARY KEY (application_id, position)
);

CREATE TABLE application_redirect_uris (
  application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  position       INTEGER NOT NULL,
  value          TEXT NOT NULL,
  PRIMARY KEY (application_id, position)
);

CREATE TABLE application_secrets (
  application_id      TEXT PRIMARY KEY NOT NULL,
  environment_id      TEXT NOT NULL,
  secret              BLOB NOT NULL,
  previous            BLOB,
  previous_expires_at INTEGER,
  FOREIGN KEY (application_id, environment_id)
    REFERENCES applications (id, environment_id) ON DELETE CASCADE
);

CREATE TABLE resources (
  id                              TEXT PRIMARY KEY NOT NULL,
  environment_id                  TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  name                            TEXT NOT NULL,
  description                     TEXT NOT NULL,
  type                            TEXT NOT NULL,
  audience                        TEXT NOT NULL,
  access_token_validity_seconds   INTEGER NOT NULL,
  introspect_endpoint_auth_method TEXT NOT NULL,
  secret                          BLOB NOT NULL,
  created_at                      INTEGER NOT NULL,
  updated_at                      INTEGER NOT NULL,
  UNIQUE (environment_id, name),
  UNIQUE (id, environment_id)
);

CREATE TABLE scopes (
  id             TEXT PRIMARY KEY NOT NULL,
  resource_id    TEXT NOT NULL,
  environment_id TEXT NOT NULL,
  name           TEXT NOT NULL,
  description    TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  FOREIGN KEY (resource_id, environment_id)
    REFERENCES resources (id, environment_id) ON DELETE CASCADE,
  UNIQUE (resource_id, name),
  UNIQUE (id, resource_id)
);
CREATE INDEX scopes_by_environment ON scopes (environment_id, created_at);

CREATE TABLE grants (
  id             TEXT PRIMARY KEY NOT NULL,
  environment_id TEXT NOT NULL,
  application_id TEXT NOT NULL,
  resource_id    TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  FOREIGN KEY (application_id, environment_id)
    REFERENCES applications (id, environment_id) ON DELETE CASCADE,
  FOREIGN KEY (resource_id, environment_id)
    REFERENCES resources (id, environment_id) ON DELETE CASCADE,
  UNIQUE (id, resource_id)
);
CREATE INDEX grants_by_application ON grants (application_id, environment_id);
CREATE INDEX grants_by_resource ON grants (resource_id, environment_id);
CREATE INDEX grants_by_environment ON grants (environment_id, created_at);

-- The scopes of a grant, in the grant's order; a scope's deletion removes it from every grant.
CREATE TABLE grant_scopes (
  grant_id    TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  scope_id    TEXT NOT NULL,
  position    INTEGER NOT NULL,
  PRIMARY KEY (grant_id, scope_id),
  FOREIGN KEY (grant_id, resource_id) REFERENCES grants (id, resource_id) ON DELETE CASCADE,
  FOREIGN KEY (scope_id, resource_id) REFERENCES scopes (id, resource_id) ON DELETE CASCADE
);
CREATE INDEX grant_scopes_by_scope ON grant_scopes (scope_id, resource_id);

CREATE TABLE role_assignments (
  id             TEXT PRIMARY KEY NOT NULL,
  environment_id TEXT NOT NULL,
  application_id TEXT NOT NULL,
  role_id        TEXT NOT NULL,
  scope_id       TEXT NOT NULL,
  scope_type     TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  FOREIGN KEY (application_id, environment_id)
    REFERENCES applications (id, environment_id) ON DELETE CASCADE
);
CREATE INDEX role_assignments_by_application ON role_assignments (application_id, environment_id);
CREATE INDEX role_assignments_by_scope ON role_assignments (scope_id);
CREATE INDEX role_assignments_by_environment ON role_assignments (environment_id, created_at);

CREATE TABLE signing_keys (
  id                   TEXT PRIMARY KEY NOT NULL,
  environment_id       TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  name                 TEXT NOT NULL,
  algorithm            TEXT NOT NULL,
  key_length           INTEGER NOT NULL,
  subject_dn           TEXT NOT NULL,
  validity_period_days INTEGER NOT NULL,
  is_default           INTEGER NOT NULL,
  revoked              INTEGER NOT NULL,
  private_key          BLOB NOT NULL,
  certificate_der      BLOB NOT NULL,
  created_at           INTEGER NOT NULL,
  starts_at            INTEGER NOT NULL,
  expires_at           INTEGER NOT NULL,
  retired_at           INTEGER
);
CREATE INDEX signing_keys_by_environment ON signing_keys (environment_id, created_at);
)sql";

// Revoked access tokens and used client assertions, kept until they expire (store.h).
constexpr const char* kMigration2 = R"sql(
CREATE TABLE remembered_jtis (
  kind           TEXT NOT NULL,
  environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  jti            TEXT NOT NULL,
  expires_at     INTEGER NOT NULL,
  PRIMARY KEY (kind, environment_id, jti)
);
CREATE INDEX remembered_jtis_by_expiry ON remembered_jtis (expires_at);
)sql";

// Revoke-all (management API revokeTokens): tokens of the application issued before this
// instant (unix milliseconds, whole seconds) are inactive; NULL: none revoked this way.
constexpr const char* kMigration3 = R"sql(
ALTER TABLE applications ADD COLUMN tokens_not_before INTEGER;
)sql";

// Key rotation policies (mgmt/key_rotation.h), one per environment. Key ids are '' for none;
// environments stored before this migration get a disabled policy at the next start.
constexpr const char* kMigration4 = R"sql(
CREATE TABLE key_rotation_policies (
  id                   TEXT PRIMARY KEY NOT NULL,
  environment_id       TEXT NOT NULL UNIQUE REFERENCES environments (id) ON DELETE CASCADE,
  name                 TEXT NOT NULL,
  subject_dn           TEXT NOT NULL,
  algorithm            TEXT NOT NULL,
  key_length           INTEGER NOT NULL,
  validity_period_days INTEGER NOT NULL,
  rotation_period_days INTEGER NOT NULL,
  overlap_days         INTEGER NOT NULL,
  enabled              INTEGER NOT NULL,
  current_key_id       TEXT NOT NULL,
  next_key_id          TEXT NOT NULL,
  rotated_at           INTEGER,
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
);
)sql";

// Audit activities (audit/activity_log.h): appended, read by environment in seq order, purged by
// age. No foreign key: an environment's activities outlive it until the retention purge.
constexpr const char* kMigration5 = R"sql(
CREATE TABLE activities (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  id             TEXT NOT NULL,
  environment_id TEXT NOT NULL,
  recorded_at    INTEGER NOT NULL,
  action_type    TEXT NOT NULL,
  success        INTEGER NOT NULL,
  client_id      TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  resource_ids   TEXT NOT NULL,
  body           TEXT NOT NULL
);
CREATE UNIQUE INDEX activities_by_id ON activities (id);
CREATE INDEX activities_by_environment ON activities (environment_id, seq);
CREATE INDEX activities_by_time ON activities (recorded_at);
)sql";

// PingOne's corsSettings of an application (docs/cors.md): '' and '' when absent; the origins
// space-separated.
constexpr const char* kMigration6 = R"sql(
ALTER TABLE applications ADD COLUMN cors_behavior TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN cors_origins TEXT NOT NULL DEFAULT '';
)sql";

// PingOne's resource attributes (custom claims of a resource's tokens), unique by name within
// their resource. Only CUSTOM attributes are stored; `value` is a static string or a "${...}"
// expression.
constexpr const char* kMigration7 = R"sql(
CREATE TABLE resource_attributes (
  id             TEXT PRIMARY KEY NOT NULL,
  resource_id    TEXT NOT NULL,
  environment_id TEXT NOT NULL,
  name           TEXT NOT NULL,
  value          TEXT NOT NULL,
  type           TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  FOREIGN KEY (resource_id, environment_id)
    REFERENCES resources (id, environment_id) ON DELETE CASCADE,
  UNIQUE (resource_id, name)
);
CREATE INDEX resource_attributes_by_environment ON resource_attributes (environment_id, created_at);
)sql";

// Issuers whose JWTs a token exchange accepts (docs/token-exchange.md), unique by `issuer` within
// their environment.
constexpr const char* kMigration8 = R"sql(
CREATE TABLE trusted_issuers (
  id             TEXT PRIMARY KEY NOT NULL,
  environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  issuer         TEXT NOT NULL,
  jwks_url       TEXT NOT NULL,
  audience       TEXT NOT NULL,
  enabled        INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  UNIQUE (environment_id, issuer)
);
CREATE INDEX trusted_issuers_by_environment ON trusted_issuers (environment_id, created_at);
)sql";

// DPoP (docs/dpop.md): RFC 9449 §5.2 dpop_bound_access_tokens of an application, and whether an
// environment's proofs must carry a server nonce (§8).
constexpr const char* kMigration9 = R"sql(
ALTER TABLE applications ADD COLUMN dpop_bound_access_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE environments ADD COLUMN dpop_nonce_required INTEGER NOT NULL DEFAULT 0;
)sql";

// RFC 8705 mTLS (docs/client-authentication.md): the certificate name a TLS_CLIENT_AUTH
// application is known by (§2.1.2; both NULL when it has none), whether its tokens are bound to
// its certificate (§3), and the certificate authorities an environment trusts for TLS_CLIENT_AUTH
// (§2.1).
constexpr const char* kMigration10 = R"sql(
ALTER TABLE applications ADD COLUMN tls_client_auth_name TEXT;
ALTER TABLE applications ADD COLUMN tls_client_auth_value TEXT;
ALTER TABLE applications ADD COLUMN tls_client_certificate_bound_access_tokens INTEGER NOT NULL
  DEFAULT 0;
CREATE TABLE trusted_cas (
  id             TEXT PRIMARY KEY NOT NULL,
  environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  certificate    TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX trusted_cas_by_environment ON trusted_cas (environment_id, created_at);
)sql";

constexpr std::array<sql::Migration, 10> kMigrations{{
    {1, kMigration1},
    {2, kMigration2},
    {3, kMigration3},
    {4, kMigration4},
    {5, kMigration5},
    {6, kMigration6},
    {7, kMigration7},
    {8, kMigration8},
    {9, kMigration9},
    {10, kMigration10},
}};

constexpr sql::Schema kSchema{
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY NOT NULL,"
    " applied_at INTEGER NOT NULL)",
    kMigrations};

}  // namespace

const sql::Schema& Schema() { return kSchema; }

int64_t LatestSchemaVersion() { return kSchema.LatestVersion(); }

}  // namespace tollgate::storage::sqlite
