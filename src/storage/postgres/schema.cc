#include "storage/postgres/schema.h"

#include <array>

namespace tollgate::storage::postgres {
namespace {

// Conventions (as in the SQLite schema): IDs are TEXT (lower-case UUIDs) with the "C" collation
// so that ordering by id is byte order on every server locale; timestamps BIGINT unix
// milliseconds; enums the PingOne wire spelling as TEXT; booleans BOOLEAN. Sealed secrets
// (SecretCodec output) are BYTEA. Child rows reference their parent together with the
// environment (composite foreign keys), so a row can never point into another environment.
//
// Change feed: every row change of a table that carries an environment id bumps that
// environment's row of config_versions once per transaction and notifies kConfigChannel; the
// notification is delivered at commit, and not at all on rollback. The functions pin their
// search_path, so triggers work whatever the session's search_path is.
constexpr const char* kMigration1 = R"sql(
CREATE TABLE meta (
  key   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  value BYTEA NOT NULL
);

CREATE TABLE organization (
  id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  singleton  BIGINT NOT NULL DEFAULT 1 UNIQUE CHECK (singleton = 1),
  name       TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE environments (
  id              TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  organization_id TEXT COLLATE "C" NOT NULL REFERENCES organization (id),
  name            TEXT NOT NULL UNIQUE,
  description     TEXT NOT NULL,
  type            TEXT NOT NULL,
  region          TEXT NOT NULL,
  created_at      BIGINT NOT NULL,
  updated_at      BIGINT NOT NULL
);

CREATE TABLE applications (
  id                         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  environment_id             TEXT COLLATE "C" NOT NULL
                               REFERENCES environments (id) ON DELETE CASCADE,
  name                       TEXT NOT NULL,
  description                TEXT NOT NULL,
  enabled                    BOOLEAN NOT NULL,
  protocol                   TEXT NOT NULL,
  type                       TEXT NOT NULL,
  token_endpoint_auth_method TEXT NOT NULL,
  jwks                       TEXT NOT NULL,
  jwks_url                   TEXT NOT NULL,
  request_scopes_for_multiple_resources_enabled BOOLEAN NOT NULL,
  include_x5t                BOOLEAN NOT NULL,
  include_typ                BOOLEAN NOT NULL,
  created_at                 BIGINT NOT NULL,
  updated_at                 BIGINT NOT NULL,
  UNIQUE (environment_id, name),
  UNIQUE (id, environment_id)
);

CREATE TABLE application_grant_types (
  application_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  position       BIGINT NOT NULL,
  value          TEXT NOT NULL,
  PRIMARY KEY (application_id, position)
);

CREATE TABLE application_response_types (
  application_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  position       BIGINT NOT NULL,
  value          TEXT NOT NULL,
  PRIMARY KEY (application_id, position)
);

CREATE TABLE application_redirect_uris (
  application_id TEXT COLLATE "C" NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
  position       BIGINT NOT NULL,
  value          TEXT NOT NULL,
  PRIMARY KEY (application_id, position)
);

CREATE TABLE application_secrets (
  application_id      TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  environment_id      TEXT COLLATE "C" NOT NULL,
  secret              BYTEA NOT NULL,
  previous            BYTEA,
  previous_expires_at BIGINT,
  FOREIGN KEY (application_id, environment_id)
    REFERENCES applications (id, environment_id) ON DELETE CASCADE
);

CREATE TABLE resources (
  id                              TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  environment_id                  TEXT COLLATE "C" NOT NULL
                                    REFERENCES environments (id) ON DELETE CASCADE,
  name                            TEXT NOT NULL,
  description                     TEXT NOT NULL,
  type                            TEXT NOT NULL,
  audience                        TEXT NOT NULL,
  access_token_validity_seconds   BIGINT NOT NULL,
  introspect_endpoint_auth_method TEXT NOT NULL,
  secret                          BYTEA NOT NULL,
  created_at                      BIGINT NOT NULL,
  updated_at                      BIGINT NOT NULL,
  UNIQUE (environment_id, name),
  UNIQUE (id, environment_id)
);

CREATE TABLE scopes (
  id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  resource_id    TEXT COLLATE "C" NOT NULL,
  environment_id TEXT COLLATE "C" NOT NULL,
  name           TEXT NOT NULL,
  description    TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  FOREIGN KEY (resource_id, environment_id)
    REFERENCES resources (id, environment_id) ON DELETE CASCADE,
  UNIQUE (resource_id, name),
  UNIQUE (id, resource_id)
);
CREATE INDEX scopes_by_environment ON scopes (environment_id, created_at);

CREATE TABLE grants (
  id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  environment_id TEXT COLLATE "C" NOT NULL,
  application_id TEXT COLLATE "C" NOT NULL,
  resource_id    TEXT COLLATE "C" NOT NULL,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
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
  grant_id    TEXT COLLATE "C" NOT NULL,
  resource_id TEXT COLLATE "C" NOT NULL,
  scope_id    TEXT COLLATE "C" NOT NULL,
  position    BIGINT NOT NULL,
  PRIMARY KEY (grant_id, scope_id),
  FOREIGN KEY (grant_id, resource_id) REFERENCES grants (id, resource_id) ON DELETE CASCADE,
  FOREIGN KEY (scope_id, resource_id) REFERENCES scopes (id, resource_id) ON DELETE CASCADE
);
CREATE INDEX grant_scopes_by_scope ON grant_scopes (scope_id, resource_id);

CREATE TABLE role_assignments (
  id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  environment_id TEXT COLLATE "C" NOT NULL,
  application_id TEXT COLLATE "C" NOT NULL,
  role_id        TEXT COLLATE "C" NOT NULL,
  scope_id       TEXT COLLATE "C" NOT NULL,
  scope_type     TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  FOREIGN KEY (application_id, environment_id)
    REFERENCES applications (id, environment_id) ON DELETE CASCADE
);
CREATE INDEX role_assignments_by_application ON role_assignments (application_id, environment_id);
CREATE INDEX role_assignments_by_scope ON role_assignments (scope_id);
CREATE INDEX role_assignments_by_environment ON role_assignments (environment_id, created_at);

CREATE TABLE signing_keys (
  id                   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  environment_id       TEXT COLLATE "C" NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  name                 TEXT NOT NULL,
  algorithm            TEXT NOT NULL,
  key_length           BIGINT NOT NULL,
  subject_dn           TEXT NOT NULL,
  validity_period_days BIGINT NOT NULL,
  is_default           BOOLEAN NOT NULL,
  revoked              BOOLEAN NOT NULL,
  private_key          BYTEA NOT NULL,
  certificate_der      BYTEA NOT NULL,
  created_at           BIGINT NOT NULL,
  starts_at            BIGINT NOT NULL,
  expires_at           BIGINT NOT NULL,
  retired_at           BIGINT
);
CREATE INDEX signing_keys_by_environment ON signing_keys (environment_id, created_at);

-- The change counter of each environment (kept after the environment is deleted, so that a
-- node that missed the deletion still sees a newer version).
CREATE TABLE config_versions (
  environment_id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  version        BIGINT NOT NULL,
  changed_by     xid8 NOT NULL
);

CREATE FUNCTION tollgate_touch_environment(env TEXT) RETURNS void
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  v BIGINT;
BEGIN
  INSERT INTO config_versions AS c (environment_id, version, changed_by)
    VALUES (env, 1, pg_current_xact_id())
    ON CONFLICT (environment_id) DO UPDATE
      SET version = c.version + 1, changed_by = excluded.changed_by
      WHERE c.changed_by <> excluded.changed_by
    RETURNING c.version INTO v;
  IF v IS NOT NULL THEN
    PERFORM pg_notify('tollgate_config', env || ' ' || v);
  END IF;
END $$;

CREATE FUNCTION tollgate_environment_row_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM tollgate_touch_environment(OLD.id);
  ELSE
    PERFORM tollgate_touch_environment(NEW.id);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION tollgate_child_row_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM tollgate_touch_environment(OLD.environment_id);
  ELSE
    PERFORM tollgate_touch_environment(NEW.environment_id);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER environments_changed AFTER INSERT OR UPDATE OR DELETE ON environments
  FOR EACH ROW EXECUTE FUNCTION tollgate_environment_row_changed();
-- The list tables and grant_scopes change only together with their parent row (applications,
-- grants, scopes), which notifies.
CREATE TRIGGER applications_changed AFTER INSERT OR UPDATE OR DELETE ON applications
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
CREATE TRIGGER application_secrets_changed AFTER INSERT OR UPDATE OR DELETE ON application_secrets
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
CREATE TRIGGER resources_changed AFTER INSERT OR UPDATE OR DELETE ON resources
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
CREATE TRIGGER scopes_changed AFTER INSERT OR UPDATE OR DELETE ON scopes
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
CREATE TRIGGER grants_changed AFTER INSERT OR UPDATE OR DELETE ON grants
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
CREATE TRIGGER role_assignments_changed AFTER INSERT OR UPDATE OR DELETE ON role_assignments
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
)sql";

// Revoked access tokens and used client assertions, kept until they expire (store.h). `seq`
// orders them for the change feed's periodic check; each new row is notified on kJtiChannel.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE remembered_jtis (
  kind           TEXT COLLATE "C" NOT NULL,
  environment_id TEXT COLLATE "C" NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  jti            TEXT COLLATE "C" NOT NULL,
  expires_at     BIGINT NOT NULL,
  seq            BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (kind, environment_id, jti)
);
CREATE INDEX remembered_jtis_by_expiry ON remembered_jtis (expires_at);
CREATE INDEX remembered_jtis_by_seq ON remembered_jtis (kind, seq);

CREATE FUNCTION tollgate_jti_remembered() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  payload TEXT;
BEGIN
  payload := NEW.kind || ' ' || NEW.seq || ' ' || NEW.expires_at || ' ' || NEW.environment_id ||
             ' ' || NEW.jti;
  -- NOTIFY payloads are limited to 8000 bytes: a longer one names the row instead.
  IF octet_length(payload) > 7900 THEN
    payload := NEW.kind || ' ' || NEW.seq || ' *';
  END IF;
  PERFORM pg_notify('tollgate_jtis', payload);
  RETURN NULL;
END $$;

CREATE TRIGGER remembered_jtis_notify AFTER INSERT ON remembered_jtis
  FOR EACH ROW EXECUTE FUNCTION tollgate_jti_remembered();
)sql";

// Revoke-all (management API revokeTokens): tokens of the application issued before this
// instant (unix milliseconds, whole seconds) are inactive; NULL: none revoked this way.
constexpr const char* kMigration3 = R"sql(
ALTER TABLE applications ADD COLUMN tokens_not_before BIGINT;
)sql";

// Key rotation policies (mgmt/key_rotation.h), one per environment. Key ids are '' for none;
// environments stored before this migration get a disabled policy at the next start.
constexpr const char* kMigration4 = R"sql(
CREATE TABLE key_rotation_policies (
  id                   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  environment_id       TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES environments (id) ON DELETE CASCADE,
  name                 TEXT NOT NULL,
  subject_dn           TEXT NOT NULL,
  algorithm            TEXT NOT NULL,
  key_length           BIGINT NOT NULL,
  validity_period_days BIGINT NOT NULL,
  rotation_period_days BIGINT NOT NULL,
  overlap_days         BIGINT NOT NULL,
  enabled              BOOLEAN NOT NULL,
  current_key_id       TEXT COLLATE "C" NOT NULL,
  next_key_id          TEXT COLLATE "C" NOT NULL,
  rotated_at           BIGINT,
  created_at           BIGINT NOT NULL,
  updated_at           BIGINT NOT NULL
);
CREATE TRIGGER key_rotation_policies_changed
  AFTER INSERT OR UPDATE OR DELETE ON key_rotation_policies
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
)sql";

// Audit activities (audit/activity_log.h): appended, read by environment in seq order, purged by
// age. No foreign key: an environment's activities outlive it until the retention purge.
constexpr const char* kMigration5 = R"sql(
CREATE TABLE activities (
  seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id             TEXT COLLATE "C" NOT NULL,
  environment_id TEXT COLLATE "C" NOT NULL,
  recorded_at    BIGINT NOT NULL,
  action_type    TEXT COLLATE "C" NOT NULL,
  success        BOOLEAN NOT NULL,
  client_id      TEXT COLLATE "C" NOT NULL,
  correlation_id TEXT COLLATE "C" NOT NULL,
  resource_ids   TEXT COLLATE "C" NOT NULL,
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
// expression. Changes notify like scopes do.
constexpr const char* kMigration7 = R"sql(
CREATE TABLE resource_attributes (
  id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  resource_id    TEXT COLLATE "C" NOT NULL,
  environment_id TEXT COLLATE "C" NOT NULL,
  name           TEXT NOT NULL,
  value          TEXT NOT NULL,
  type           TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  FOREIGN KEY (resource_id, environment_id)
    REFERENCES resources (id, environment_id) ON DELETE CASCADE,
  UNIQUE (resource_id, name)
);
CREATE INDEX resource_attributes_by_environment ON resource_attributes (environment_id, created_at);
CREATE TRIGGER resource_attributes_changed AFTER INSERT OR UPDATE OR DELETE ON resource_attributes
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
)sql";

// Issuers whose JWTs a token exchange accepts (docs/token-exchange.md), unique by `issuer` within
// their environment. Changes notify like signing keys do.
constexpr const char* kMigration8 = R"sql(
CREATE TABLE trusted_issuers (
  id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  environment_id TEXT COLLATE "C" NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  issuer         TEXT NOT NULL,
  jwks_url       TEXT NOT NULL,
  audience       TEXT NOT NULL,
  enabled        BOOLEAN NOT NULL,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  UNIQUE (environment_id, issuer)
);
CREATE INDEX trusted_issuers_by_environment ON trusted_issuers (environment_id, created_at);
CREATE TRIGGER trusted_issuers_changed AFTER INSERT OR UPDATE OR DELETE ON trusted_issuers
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
)sql";

// DPoP (docs/dpop.md): RFC 9449 §5.2 dpop_bound_access_tokens of an application, and whether an
// environment's proofs must carry a server nonce (§8).
constexpr const char* kMigration9 = R"sql(
ALTER TABLE applications ADD COLUMN dpop_bound_access_tokens BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE environments ADD COLUMN dpop_nonce_required BOOLEAN NOT NULL DEFAULT FALSE;
)sql";

// RFC 8705 mTLS (docs/client-authentication.md): the certificate name a TLS_CLIENT_AUTH
// application is known by (§2.1.2; both NULL when it has none), whether its tokens are bound to
// its certificate (§3), and the certificate authorities an environment trusts for TLS_CLIENT_AUTH
// (§2.1). Changes to trusted CAs notify like trusted issuers do.
constexpr const char* kMigration10 = R"sql(
ALTER TABLE applications ADD COLUMN tls_client_auth_name TEXT;
ALTER TABLE applications ADD COLUMN tls_client_auth_value TEXT;
ALTER TABLE applications ADD COLUMN tls_client_certificate_bound_access_tokens BOOLEAN NOT NULL
  DEFAULT FALSE;
CREATE TABLE trusted_cas (
  id             TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  environment_id TEXT COLLATE "C" NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  certificate    TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL
);
CREATE INDEX trusted_cas_by_environment ON trusted_cas (environment_id, created_at);
CREATE TRIGGER trusted_cas_changed AFTER INSERT OR UPDATE OR DELETE ON trusted_cas
  FOR EACH ROW EXECUTE FUNCTION tollgate_child_row_changed();
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
    " version BIGINT PRIMARY KEY NOT NULL,"
    " applied_at BIGINT NOT NULL)",
    kMigrations};

}  // namespace

const sql::Schema& Schema() { return kSchema; }

int64_t LatestSchemaVersion() { return kSchema.LatestVersion(); }

}  // namespace tollgate::storage::postgres
