#include "storage/sql/tables.h"

#include <fmt/format.h>

#include <span>
#include <unordered_map>
#include <utility>

#include "storage/sql/errors.h"
#include "storage/sql/query.h"
#include "storage/sql/try.h"

namespace tollgate::storage::sql {
namespace {

int64_t Millis(TimePoint t) { return ToUnixMillis(t); }

std::optional<int64_t> Millis(const std::optional<TimePoint>& t) {
  if (!t) return std::nullopt;
  return ToUnixMillis(*t);
}

TimePoint Time(int64_t ms) { return FromUnixMillis(ms); }

std::optional<TimePoint> Time(const std::optional<int64_t>& ms) {
  if (!ms) return std::nullopt;
  return FromUnixMillis(*ms);
}

// Associated data binding each sealed value to its row and column, so that a sealed value moved
// to another row (or from `previous` to `secret`) no longer opens.
std::string AppSecretAad(const AppId& id) { return "app_secret:" + id.str(); }
std::string AppPreviousSecretAad(const AppId& id) { return "app_secret_previous:" + id.str(); }
std::string ResourceSecretAad(const ResourceId& id) { return "resource_secret:" + id.str(); }
std::string SigningKeyAad(const KeyId& id) { return "signing_key:" + id.str(); }

// An enum column's value, or kInternal naming the column when the spelling is unknown.
template <class E>
StoreResult<E> Decode(std::optional<E> parsed, std::string_view column, const std::string& text) {
  if (!parsed) {
    return Fail(InternalError(fmt::format("corrupt row: unknown {} value '{}'", column, text)));
  }
  return *parsed;
}

// Collects one model struct per row of `sql` (bound to `env`), each filled in place by
// `read(row, value)`.
template <class T, class F>
StoreResult<std::vector<T>> LoadRows(Connection& db, std::string_view sql, const EnvId& env,
                                     F&& read) {
  TG_STORE_ASSIGN(auto stmt, Query(db, sql, env.str()));
  std::vector<T> out;
  TG_STORE_TRY(ForEachRow(*stmt, [&](const Row& r) { return read(r, out.emplace_back()); }));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// organization

namespace organization {

StoreResult<void> Insert(Connection& db, const model::Organization& v) {
  return Execute(db, "INSERT INTO organization (id, name, created_at) VALUES (?1, ?2, ?3)",
                 v.id.str(), v.name, Millis(v.created_at));
}

StoreResult<std::optional<model::Organization>> Load(Connection& db) {
  TG_STORE_ASSIGN(auto stmt, Query(db, "SELECT id, name, created_at FROM organization"));
  std::optional<model::Organization> org;
  TG_STORE_TRY(ForEachRow(*stmt, [&](const Row& r) -> StoreResult<void> {
    org = model::Organization{OrgId(r.Text(0)), r.Text(1), Time(r.Int(2))};
    return {};
  }));
  return org;
}

}  // namespace organization

// ---------------------------------------------------------------------------------------------
// environments

namespace environments {
namespace {

constexpr const char* kColumns =
    "SELECT id, organization_id, name, description, type, region, created_at, updated_at, "
    "dpop_nonce_required FROM environments";

StoreResult<model::Environment> Read(const Row& r) {
  model::Environment e;
  e.id = EnvId(r.Text(0));
  e.organization_id = OrgId(r.Text(1));
  e.name = r.Text(2);
  e.description = r.Text(3);
  const std::string type = r.Text(4);
  TG_STORE_ASSIGN(e.type, Decode(model::ParseEnvironmentType(type), "environment type", type));
  const std::string region = r.Text(5);
  TG_STORE_ASSIGN(e.region, Decode(model::ParseRegion(region), "region", region));
  e.created_at = Time(r.Int(6));
  e.updated_at = Time(r.Int(7));
  e.dpop_nonce_required = r.Bool(8);
  return e;
}

}  // namespace

StoreResult<void> Insert(Connection& db, const model::Environment& v) {
  return Execute(db,
                 "INSERT INTO environments (id, organization_id, name, description, type, "
                 "region, created_at, updated_at, dpop_nonce_required) VALUES (?1, ?2, ?3, ?4, "
                 "?5, ?6, ?7, ?8, ?9)",
                 v.id.str(), v.organization_id.str(), v.name, v.description,
                 model::ToString(v.type), model::ToString(v.region), Millis(v.created_at),
                 Millis(v.updated_at), v.dpop_nonce_required);
}

StoreResult<void> Update(Connection& db, const model::Environment& v) {
  return Execute(db,
                 "UPDATE environments SET name = ?2, description = ?3, type = ?4, "
                 "region = ?5, updated_at = ?6, dpop_nonce_required = ?7 WHERE id = ?1",
                 v.id.str(), v.name, v.description, model::ToString(v.type),
                 model::ToString(v.region), Millis(v.updated_at), v.dpop_nonce_required);
}

StoreResult<void> Delete(Connection& db, const EnvId& id) {
  return ChangeOneRow(db, "environment", "DELETE FROM environments WHERE id = ?1", id.str());
}

StoreResult<std::vector<model::Environment>> LoadAll(Connection& db) {
  TG_STORE_ASSIGN(auto stmt, Query(db, fmt::format("{} ORDER BY created_at, id", kColumns)));
  std::vector<model::Environment> out;
  TG_STORE_TRY(ForEachRow(*stmt, [&](const Row& r) -> StoreResult<void> {
    TG_STORE_ASSIGN(auto env, Read(r));
    out.push_back(std::move(env));
    return {};
  }));
  return out;
}

StoreResult<std::optional<model::Environment>> Load(Connection& db, const EnvId& id) {
  TG_STORE_ASSIGN(auto stmt, Query(db, fmt::format("{} WHERE id = ?1", kColumns), id.str()));
  std::optional<model::Environment> out;
  TG_STORE_TRY(ForEachRow(*stmt, [&](const Row& r) -> StoreResult<void> {
    TG_STORE_ASSIGN(out, Read(r));
    return {};
  }));
  return out;
}

}  // namespace environments

// ---------------------------------------------------------------------------------------------
// applications

namespace applications {
namespace {

// The three list columns of an application, each kept in its own child table in list order.
struct ListTable {
  const char* insert_sql;
  const char* delete_sql;
  const char* select_sql;  // (application_id, value) of one environment, by application, position
};

constexpr ListTable kGrantTypesTable{
    "INSERT INTO application_grant_types (application_id, position, value) VALUES (?1, ?2, ?3)",
    "DELETE FROM application_grant_types WHERE application_id = ?1",
    "SELECT l.application_id, l.value FROM application_grant_types l"
    " JOIN applications a ON a.id = l.application_id WHERE a.environment_id = ?1"
    " ORDER BY l.application_id, l.position"};
constexpr ListTable kResponseTypesTable{
    "INSERT INTO application_response_types (application_id, position, value) VALUES (?1, ?2, ?3)",
    "DELETE FROM application_response_types WHERE application_id = ?1",
    "SELECT l.application_id, l.value FROM application_response_types l"
    " JOIN applications a ON a.id = l.application_id WHERE a.environment_id = ?1"
    " ORDER BY l.application_id, l.position"};
constexpr ListTable kRedirectUrisTable{
    "INSERT INTO application_redirect_uris (application_id, position, value) VALUES (?1, ?2, ?3)",
    "DELETE FROM application_redirect_uris WHERE application_id = ?1",
    "SELECT l.application_id, l.value FROM application_redirect_uris l"
    " JOIN applications a ON a.id = l.application_id WHERE a.environment_id = ?1"
    " ORDER BY l.application_id, l.position"};

StoreResult<void> ReplaceList(Connection& db, const ListTable& table, const AppId& id,
                              const std::vector<std::string>& values) {
  TG_STORE_TRY(Execute(db, table.delete_sql, id.str()));
  int64_t position = 0;
  for (const std::string& value : values) {
    TG_STORE_TRY(Execute(db, table.insert_sql, id.str(), position++, value));
  }
  return {};
}

StoreResult<void> ReplaceLists(Connection& db, const model::Application& v) {
  std::vector<std::string> grant_types;
  grant_types.reserve(v.grant_types.size());
  for (model::GrantType g : v.grant_types) grant_types.emplace_back(model::ToString(g));
  TG_STORE_TRY(ReplaceList(db, kGrantTypesTable, v.id, grant_types));
  TG_STORE_TRY(ReplaceList(db, kResponseTypesTable, v.id, v.response_types));
  return ReplaceList(db, kRedirectUrisTable, v.id, v.redirect_uris);
}

StoreResult<void> Read(const Row& r, const EnvId& env, model::Application& a) {
  a.id = AppId(r.Text(0));
  a.environment_id = env;
  a.name = r.Text(1);
  a.description = r.Text(2);
  a.enabled = r.Bool(3);
  a.protocol = r.Text(4);
  const std::string type = r.Text(5);
  TG_STORE_ASSIGN(a.type, Decode(model::ParseAppType(type), "application type", type));
  const std::string method = r.Text(6);
  TG_STORE_ASSIGN(a.token_endpoint_auth_method,
                  Decode(model::ParseAuthMethod(method), "token endpoint auth method", method));
  a.jwks = r.Text(7);
  a.jwks_url = r.Text(8);
  a.request_scopes_for_multiple_resources_enabled = r.Bool(9);
  a.include_x5t = r.Bool(10);
  a.include_typ = r.Bool(11);
  a.created_at = Time(r.Int(12));
  a.updated_at = Time(r.Int(13));
  a.tokens_not_before = Time(r.OptionalInt(14));
  if (const std::string behavior = r.Text(15); !behavior.empty()) {
    model::CorsSettings cors;
    TG_STORE_ASSIGN(cors.behavior,
                    Decode(model::ParseCorsBehavior(behavior), "CORS behavior", behavior));
    const std::string stored = r.Text(16);
    std::string_view origins = stored;
    // Space-separated: an origin has no space.
    while (!origins.empty()) {
      const size_t end = std::min(origins.find(' '), origins.size());
      if (end > 0) cors.origins.emplace_back(origins.substr(0, end));
      origins.remove_prefix(std::min(end + 1, origins.size()));
    }
    a.cors_settings = std::move(cors);
  }
  a.dpop_bound_access_tokens = r.Bool(17);
  if (!r.IsNull(18)) {
    model::TlsClientAuth tls;
    const std::string name = r.Text(18);
    TG_STORE_ASSIGN(tls.name,
                    Decode(model::ParseTlsClientAuthName(name), "TLS client auth name", name));
    if (r.IsNull(19)) {
      return Fail(InternalError("corrupt row: tls_client_auth_name without tls_client_auth_value"));
    }
    tls.value = r.Text(19);
    a.tls_client_auth = std::move(tls);
  }
  a.tls_client_certificate_bound_access_tokens = r.Bool(20);
  return {};
}

// The stored form of tls_client_auth: (name, value), both NULL when absent.
std::pair<std::optional<std::string_view>, std::optional<std::string_view>> TlsClientAuthColumns(
    const model::Application& v) {
  if (!v.tls_client_auth) return {};
  return {model::ToString(v.tls_client_auth->name), v.tls_client_auth->value};
}

// The stored form of corsSettings: (behavior, space-separated origins); ("", "") when absent.
std::pair<std::string, std::string> CorsColumns(const model::Application& v) {
  if (!v.cors_settings) return {};
  std::string origins;
  for (const auto& o : v.cors_settings->origins) {
    if (!origins.empty()) origins += ' ';
    origins += o;
  }
  return {std::string(model::ToString(v.cors_settings->behavior)), std::move(origins)};
}

}  // namespace

StoreResult<void> Insert(Connection& db, const model::Application& v) {
  auto [cors_behavior, cors_origins] = CorsColumns(v);
  auto [tls_name, tls_value] = TlsClientAuthColumns(v);
  TG_STORE_TRY(Execute(
      db,
      "INSERT INTO applications (id, environment_id, name, description, enabled, protocol, "
      "type, token_endpoint_auth_method, jwks, jwks_url, "
      "request_scopes_for_multiple_resources_enabled, include_x5t, include_typ, created_at, "
      "updated_at, tokens_not_before, cors_behavior, cors_origins, dpop_bound_access_tokens, "
      "tls_client_auth_name, tls_client_auth_value, "
      "tls_client_certificate_bound_access_tokens) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
      "?19, ?20, ?21, ?22)",
      v.id.str(), v.environment_id.str(), v.name, v.description, v.enabled, v.protocol,
      model::ToString(v.type), model::ToString(v.token_endpoint_auth_method), v.jwks, v.jwks_url,
      v.request_scopes_for_multiple_resources_enabled, v.include_x5t, v.include_typ,
      Millis(v.created_at), Millis(v.updated_at), Millis(v.tokens_not_before), cors_behavior,
      cors_origins, v.dpop_bound_access_tokens, tls_name, tls_value,
      v.tls_client_certificate_bound_access_tokens));
  return ReplaceLists(db, v);
}

StoreResult<void> Update(Connection& db, const model::Application& v) {
  auto [cors_behavior, cors_origins] = CorsColumns(v);
  auto [tls_name, tls_value] = TlsClientAuthColumns(v);
  TG_STORE_TRY(Execute(
      db,
      "UPDATE applications SET name = ?3, description = ?4, enabled = ?5, protocol = ?6, "
      "type = ?7, token_endpoint_auth_method = ?8, jwks = ?9, jwks_url = ?10, "
      "request_scopes_for_multiple_resources_enabled = ?11, include_x5t = ?12, "
      "include_typ = ?13, updated_at = ?14, cors_behavior = ?15, cors_origins = ?16, "
      "dpop_bound_access_tokens = ?17, tls_client_auth_name = ?18, tls_client_auth_value = ?19, "
      "tls_client_certificate_bound_access_tokens = ?20 WHERE id = ?1 AND environment_id = ?2",
      v.id.str(), v.environment_id.str(), v.name, v.description, v.enabled, v.protocol,
      model::ToString(v.type), model::ToString(v.token_endpoint_auth_method), v.jwks, v.jwks_url,
      v.request_scopes_for_multiple_resources_enabled, v.include_x5t, v.include_typ,
      Millis(v.updated_at), cors_behavior, cors_origins, v.dpop_bound_access_tokens, tls_name,
      tls_value, v.tls_client_certificate_bound_access_tokens));
  return ReplaceLists(db, v);
}

StoreResult<void> RevokeTokensBefore(Connection& db, const AppId& id, TimePoint not_before) {
  // Never earlier than a revocation already recorded.
  return ChangeOneRow(db, "application",
                      "UPDATE applications SET tokens_not_before = CASE WHEN tokens_not_before "
                      "IS NULL OR tokens_not_before < ?2 THEN ?2 ELSE tokens_not_before END "
                      "WHERE id = ?1",
                      id.str(), Millis(not_before));
}

StoreResult<void> Delete(Connection& db, const AppId& id) {
  return ChangeOneRow(db, "application", "DELETE FROM applications WHERE id = ?1", id.str());
}

StoreResult<std::vector<model::Application>> Load(Connection& db, const EnvId& env) {
  TG_STORE_ASSIGN(
      auto out,
      LoadRows<model::Application>(
          db,
          "SELECT id, name, description, enabled, protocol, type, token_endpoint_auth_method, "
          "jwks, jwks_url, request_scopes_for_multiple_resources_enabled, include_x5t, "
          "include_typ, created_at, updated_at, tokens_not_before, cors_behavior, cors_origins, "
          "dpop_bound_access_tokens, tls_client_auth_name, tls_client_auth_value, "
          "tls_client_certificate_bound_access_tokens FROM applications "
          "WHERE environment_id = ?1 ORDER BY created_at, id",
          env, [&](const Row& r, model::Application& a) { return Read(r, env, a); }));
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < out.size(); ++i) index.emplace(out[i].id.str(), i);

  // Appends each (application_id, value) row of a list table through `add`.
  auto load_list = [&](const ListTable& table, auto add) -> StoreResult<void> {
    TG_STORE_ASSIGN(auto list, Query(db, table.select_sql, env.str()));
    return ForEachRow(*list, [&](const Row& r) -> StoreResult<void> {
      auto it = index.find(r.Text(0));
      if (it == index.end()) return Fail(InternalError("corrupt row: list of unknown application"));
      return add(out[it->second], r.Text(1));
    });
  };
  TG_STORE_TRY(load_list(
      kGrantTypesTable, [](model::Application& a, const std::string& v) -> StoreResult<void> {
        TG_STORE_ASSIGN(auto g, Decode(model::ParseGrantType(v), "grant type", v));
        a.grant_types.push_back(g);
        return {};
      }));
  TG_STORE_TRY(
      load_list(kResponseTypesTable, [](model::Application& a, std::string v) -> StoreResult<void> {
        a.response_types.push_back(std::move(v));
        return {};
      }));
  TG_STORE_TRY(
      load_list(kRedirectUrisTable, [](model::Application& a, std::string v) -> StoreResult<void> {
        a.redirect_uris.push_back(std::move(v));
        return {};
      }));
  return out;
}

}  // namespace applications

// ---------------------------------------------------------------------------------------------
// application_secrets

namespace application_secrets {

StoreResult<void> Put(Connection& db, const SecretCodec& codec, const model::ApplicationSecret& v) {
  const std::string sealed = codec.Seal(v.secret, AppSecretAad(v.application_id));
  std::optional<std::string> sealed_previous;
  if (v.previous) sealed_previous = codec.Seal(*v.previous, AppPreviousSecretAad(v.application_id));
  std::optional<Blob> previous_blob;
  if (sealed_previous) previous_blob = Blob{*sealed_previous};
  return Execute(db,
                 "INSERT INTO application_secrets (application_id, environment_id, secret, "
                 "previous, previous_expires_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                 "ON CONFLICT (application_id) DO UPDATE SET secret = excluded.secret, "
                 "previous = excluded.previous, "
                 "previous_expires_at = excluded.previous_expires_at",
                 v.application_id.str(), v.environment_id.str(), Blob{sealed}, previous_blob,
                 Millis(v.previous_expires_at));
}

StoreResult<std::vector<model::ApplicationSecret>> Load(Connection& db, const SecretCodec& codec,
                                                        const EnvId& env) {
  return LoadRows<model::ApplicationSecret>(
      db,
      "SELECT s.application_id, s.secret, s.previous, s.previous_expires_at "
      "FROM application_secrets s JOIN applications a "
      "ON a.id = s.application_id AND a.environment_id = s.environment_id "
      "WHERE s.environment_id = ?1 ORDER BY a.created_at, a.id",
      env, [&](const Row& r, model::ApplicationSecret& secret) -> StoreResult<void> {
        secret.application_id = AppId(r.Text(0));
        secret.environment_id = env;
        std::optional<std::string> opened =
            codec.Open(r.Bytes(1), AppSecretAad(secret.application_id));
        if (!opened) {
          return Fail(WrongMasterKey(
              fmt::format("the secret of application {}", secret.application_id.str())));
        }
        secret.secret = std::move(*opened);
        if (std::optional<std::string> sealed_previous = r.OptionalBytes(2)) {
          secret.previous =
              codec.Open(*sealed_previous, AppPreviousSecretAad(secret.application_id));
          if (!secret.previous) {
            return Fail(WrongMasterKey(
                fmt::format("the previous secret of application {}", secret.application_id.str())));
          }
        }
        secret.previous_expires_at = Time(r.OptionalInt(3));
        return {};
      });
}

}  // namespace application_secrets

// ---------------------------------------------------------------------------------------------
// resources

namespace resources {

StoreResult<void> Insert(Connection& db, const SecretCodec& codec, const model::Resource& v) {
  const std::string sealed = codec.Seal(v.secret, ResourceSecretAad(v.id));
  return Execute(db,
                 "INSERT INTO resources (id, environment_id, name, description, type, "
                 "audience, access_token_validity_seconds, introspect_endpoint_auth_method, "
                 "secret, created_at, updated_at) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                 v.id.str(), v.environment_id.str(), v.name, v.description, model::ToString(v.type),
                 v.audience, v.access_token_validity_seconds,
                 model::ToString(v.introspect_endpoint_auth_method), Blob{sealed},
                 Millis(v.created_at), Millis(v.updated_at));
}

StoreResult<void> Update(Connection& db, const model::Resource& v) {
  return Execute(db,
                 "UPDATE resources SET name = ?3, description = ?4, type = ?5, "
                 "audience = ?6, access_token_validity_seconds = ?7, "
                 "introspect_endpoint_auth_method = ?8, updated_at = ?9 "
                 "WHERE id = ?1 AND environment_id = ?2",
                 v.id.str(), v.environment_id.str(), v.name, v.description, model::ToString(v.type),
                 v.audience, v.access_token_validity_seconds,
                 model::ToString(v.introspect_endpoint_auth_method), Millis(v.updated_at));
}

StoreResult<void> SetSecret(Connection& db, const SecretCodec& codec, const ResourceId& id,
                            const std::string& secret) {
  const std::string sealed = codec.Seal(secret, ResourceSecretAad(id));
  return ChangeOneRow(db, "resource", "UPDATE resources SET secret = ?2 WHERE id = ?1", id.str(),
                      Blob{sealed});
}

StoreResult<void> Delete(Connection& db, const ResourceId& id) {
  return ChangeOneRow(db, "resource", "DELETE FROM resources WHERE id = ?1", id.str());
}

StoreResult<std::vector<model::Resource>> Load(Connection& db, const SecretCodec& codec,
                                               const EnvId& env) {
  return LoadRows<model::Resource>(
      db,
      "SELECT id, name, description, type, audience, access_token_validity_seconds, "
      "introspect_endpoint_auth_method, secret, created_at, updated_at FROM resources "
      "WHERE environment_id = ?1 ORDER BY created_at, id",
      env, [&](const Row& r, model::Resource& v) -> StoreResult<void> {
        v.id = ResourceId(r.Text(0));
        v.environment_id = env;
        v.name = r.Text(1);
        v.description = r.Text(2);
        const std::string type = r.Text(3);
        TG_STORE_ASSIGN(v.type, Decode(model::ParseResourceType(type), "resource type", type));
        v.audience = r.Text(4);
        v.access_token_validity_seconds = r.Int32(5);
        const std::string method = r.Text(6);
        TG_STORE_ASSIGN(v.introspect_endpoint_auth_method,
                        Decode(model::ParseIntrospectAuthMethod(method),
                               "introspect endpoint auth method", method));
        std::optional<std::string> opened = codec.Open(r.Bytes(7), ResourceSecretAad(v.id));
        if (!opened) {
          return Fail(WrongMasterKey(fmt::format("the secret of resource {}", v.id.str())));
        }
        v.secret = std::move(*opened);
        v.created_at = Time(r.Int(8));
        v.updated_at = Time(r.Int(9));
        return {};
      });
}

}  // namespace resources

// ---------------------------------------------------------------------------------------------
// scopes

namespace scopes {

StoreResult<void> Insert(Connection& db, const model::Scope& v) {
  return Execute(db,
                 "INSERT INTO scopes (id, resource_id, environment_id, name, description, "
                 "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                 v.id.str(), v.resource_id.str(), v.environment_id.str(), v.name, v.description,
                 Millis(v.created_at), Millis(v.updated_at));
}

StoreResult<void> Update(Connection& db, const model::Scope& v) {
  return Execute(db, "UPDATE scopes SET name = ?2, description = ?3, updated_at = ?4 WHERE id = ?1",
                 v.id.str(), v.name, v.description, Millis(v.updated_at));
}

StoreResult<void> Delete(Connection& db, const ScopeId& id) {
  return ChangeOneRow(db, "scope", "DELETE FROM scopes WHERE id = ?1", id.str());
}

StoreResult<std::vector<model::Scope>> Load(Connection& db, const EnvId& env) {
  return LoadRows<model::Scope>(db,
                                "SELECT id, resource_id, name, description, created_at, updated_at "
                                "FROM scopes WHERE environment_id = ?1 ORDER BY created_at, id",
                                env, [&](const Row& r, model::Scope& v) -> StoreResult<void> {
                                  v.id = ScopeId(r.Text(0));
                                  v.resource_id = ResourceId(r.Text(1));
                                  v.environment_id = env;
                                  v.name = r.Text(2);
                                  v.description = r.Text(3);
                                  v.created_at = Time(r.Int(4));
                                  v.updated_at = Time(r.Int(5));
                                  return {};
                                });
}

}  // namespace scopes

// ---------------------------------------------------------------------------------------------
// resource_attributes

namespace resource_attributes {

StoreResult<void> Insert(Connection& db, const model::ResourceAttribute& v) {
  return Execute(db,
                 "INSERT INTO resource_attributes (id, resource_id, environment_id, name, value, "
                 "type, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                 v.id.str(), v.resource_id.str(), v.environment_id.str(), v.name, v.value,
                 model::ToString(v.type), Millis(v.created_at), Millis(v.updated_at));
}

StoreResult<void> Update(Connection& db, const model::ResourceAttribute& v) {
  return Execute(db,
                 "UPDATE resource_attributes SET name = ?2, value = ?3, updated_at = ?4 "
                 "WHERE id = ?1",
                 v.id.str(), v.name, v.value, Millis(v.updated_at));
}

StoreResult<void> Delete(Connection& db, const AttributeId& id) {
  return ChangeOneRow(db, "resource attribute", "DELETE FROM resource_attributes WHERE id = ?1",
                      id.str());
}

StoreResult<std::vector<model::ResourceAttribute>> Load(Connection& db, const EnvId& env) {
  return LoadRows<model::ResourceAttribute>(
      db,
      "SELECT id, resource_id, name, value, type, created_at, updated_at "
      "FROM resource_attributes WHERE environment_id = ?1 ORDER BY created_at, id",
      env, [&](const Row& r, model::ResourceAttribute& v) -> StoreResult<void> {
        v.id = AttributeId(r.Text(0));
        v.resource_id = ResourceId(r.Text(1));
        v.environment_id = env;
        v.name = r.Text(2);
        v.value = r.Text(3);
        const std::string type = r.Text(4);
        TG_STORE_ASSIGN(v.type, Decode(model::ParseAttributeType(type), "attribute type", type));
        v.created_at = Time(r.Int(5));
        v.updated_at = Time(r.Int(6));
        return {};
      });
}

}  // namespace resource_attributes

// ---------------------------------------------------------------------------------------------
// trusted_issuers

namespace trusted_issuers {

StoreResult<void> Insert(Connection& db, const model::TrustedIssuer& v) {
  return Execute(db,
                 "INSERT INTO trusted_issuers (id, environment_id, name, issuer, jwks_url, "
                 "audience, enabled, created_at, updated_at) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                 v.id.str(), v.environment_id.str(), v.name, v.issuer, v.jwks_url, v.audience,
                 v.enabled, Millis(v.created_at), Millis(v.updated_at));
}

StoreResult<void> Update(Connection& db, const model::TrustedIssuer& v) {
  return Execute(db,
                 "UPDATE trusted_issuers SET name = ?3, issuer = ?4, jwks_url = ?5, "
                 "audience = ?6, enabled = ?7, updated_at = ?8 "
                 "WHERE id = ?1 AND environment_id = ?2",
                 v.id.str(), v.environment_id.str(), v.name, v.issuer, v.jwks_url, v.audience,
                 v.enabled, Millis(v.updated_at));
}

StoreResult<void> Delete(Connection& db, const TrustedIssuerId& id) {
  return ChangeOneRow(db, "trusted issuer", "DELETE FROM trusted_issuers WHERE id = ?1", id.str());
}

StoreResult<std::vector<model::TrustedIssuer>> Load(Connection& db, const EnvId& env) {
  return LoadRows<model::TrustedIssuer>(
      db,
      "SELECT id, name, issuer, jwks_url, audience, enabled, created_at, updated_at "
      "FROM trusted_issuers WHERE environment_id = ?1 ORDER BY created_at, id",
      env, [&](const Row& r, model::TrustedIssuer& v) -> StoreResult<void> {
        v.id = TrustedIssuerId(r.Text(0));
        v.environment_id = env;
        v.name = r.Text(1);
        v.issuer = r.Text(2);
        v.jwks_url = r.Text(3);
        v.audience = r.Text(4);
        v.enabled = r.Bool(5);
        v.created_at = Time(r.Int(6));
        v.updated_at = Time(r.Int(7));
        return {};
      });
}

}  // namespace trusted_issuers

// ---------------------------------------------------------------------------------------------
// trusted_cas

namespace trusted_cas {

StoreResult<void> Insert(Connection& db, const model::TrustedCa& v) {
  return Execute(db,
                 "INSERT INTO trusted_cas (id, environment_id, name, certificate, created_at, "
                 "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 v.id.str(), v.environment_id.str(), v.name, v.certificate, Millis(v.created_at),
                 Millis(v.updated_at));
}

StoreResult<void> Update(Connection& db, const model::TrustedCa& v) {
  return Execute(db,
                 "UPDATE trusted_cas SET name = ?3, certificate = ?4, updated_at = ?5 "
                 "WHERE id = ?1 AND environment_id = ?2",
                 v.id.str(), v.environment_id.str(), v.name, v.certificate, Millis(v.updated_at));
}

StoreResult<void> Delete(Connection& db, const TrustedCaId& id) {
  return ChangeOneRow(db, "trusted CA", "DELETE FROM trusted_cas WHERE id = ?1", id.str());
}

StoreResult<std::vector<model::TrustedCa>> Load(Connection& db, const EnvId& env) {
  return LoadRows<model::TrustedCa>(
      db,
      "SELECT id, name, certificate, created_at, updated_at "
      "FROM trusted_cas WHERE environment_id = ?1 ORDER BY created_at, id",
      env, [&](const Row& r, model::TrustedCa& v) -> StoreResult<void> {
        v.id = TrustedCaId(r.Text(0));
        v.environment_id = env;
        v.name = r.Text(1);
        v.certificate = r.Text(2);
        v.created_at = Time(r.Int(3));
        v.updated_at = Time(r.Int(4));
        return {};
      });
}

}  // namespace trusted_cas

// ---------------------------------------------------------------------------------------------
// grants

namespace grants {
namespace {

StoreResult<void> InsertScopes(Connection& db, const model::Grant& v) {
  int64_t position = 0;
  for (const ScopeId& scope : v.scopes) {
    TG_STORE_TRY(Execute(db,
                         "INSERT INTO grant_scopes (grant_id, resource_id, scope_id, position) "
                         "VALUES (?1, ?2, ?3, ?4)",
                         v.id.str(), v.resource_id.str(), scope.str(), position++));
  }
  return {};
}

}  // namespace

StoreResult<void> Insert(Connection& db, const model::Grant& v) {
  TG_STORE_TRY(Execute(db,
                       "INSERT INTO grants (id, environment_id, application_id, resource_id, "
                       "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                       v.id.str(), v.environment_id.str(), v.application_id.str(),
                       v.resource_id.str(), Millis(v.created_at), Millis(v.updated_at)));
  return InsertScopes(db, v);
}

StoreResult<void> Update(Connection& db, const model::Grant& v) {
  // The scope rows reference the grant's resource: drop them before the resource changes.
  TG_STORE_TRY(Execute(db, "DELETE FROM grant_scopes WHERE grant_id = ?1", v.id.str()));
  TG_STORE_TRY(Execute(db, "UPDATE grants SET resource_id = ?2, updated_at = ?3 WHERE id = ?1",
                       v.id.str(), v.resource_id.str(), Millis(v.updated_at)));
  return InsertScopes(db, v);
}

StoreResult<void> Delete(Connection& db, const GrantId& id) {
  return ChangeOneRow(db, "grant", "DELETE FROM grants WHERE id = ?1", id.str());
}

StoreResult<std::vector<model::Grant>> Load(Connection& db, const EnvId& env) {
  TG_STORE_ASSIGN(auto out, LoadRows<model::Grant>(
                                db,
                                "SELECT id, application_id, resource_id, created_at, updated_at "
                                "FROM grants WHERE environment_id = ?1 ORDER BY created_at, id",
                                env, [&](const Row& r, model::Grant& v) -> StoreResult<void> {
                                  v.id = GrantId(r.Text(0));
                                  v.environment_id = env;
                                  v.application_id = AppId(r.Text(1));
                                  v.resource_id = ResourceId(r.Text(2));
                                  v.created_at = Time(r.Int(3));
                                  v.updated_at = Time(r.Int(4));
                                  return {};
                                }));
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < out.size(); ++i) index.emplace(out[i].id.str(), i);
  TG_STORE_ASSIGN(auto scope_rows, Query(db,
                                         "SELECT gs.grant_id, gs.scope_id FROM grant_scopes gs "
                                         "JOIN grants g ON g.id = gs.grant_id "
                                         "WHERE g.environment_id = ?1 "
                                         "ORDER BY gs.grant_id, gs.position",
                                         env.str()));
  TG_STORE_TRY(ForEachRow(*scope_rows, [&](const Row& r) -> StoreResult<void> {
    auto it = index.find(r.Text(0));
    if (it == index.end()) return Fail(InternalError("corrupt row: scope of unknown grant"));
    out[it->second].scopes.emplace_back(r.Text(1));
    return {};
  }));
  return out;
}

}  // namespace grants

// ---------------------------------------------------------------------------------------------
// role_assignments

namespace role_assignments {

StoreResult<void> Insert(Connection& db, const model::RoleAssignment& v) {
  return Execute(db,
                 "INSERT INTO role_assignments (id, environment_id, application_id, role_id, "
                 "scope_id, scope_type, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                 v.id.str(), v.environment_id.str(), v.application_id.str(), v.role_id.str(),
                 v.scope_id, model::ToString(v.scope_type), Millis(v.created_at));
}

StoreResult<void> Delete(Connection& db, const RoleAssignmentId& id) {
  return ChangeOneRow(db, "role assignment", "DELETE FROM role_assignments WHERE id = ?1",
                      id.str());
}

StoreResult<void> DeleteScopedTo(Connection& db, model::RoleScopeType scope_type,
                                 const std::string& scope_id) {
  return Execute(db, "DELETE FROM role_assignments WHERE scope_type = ?1 AND scope_id = ?2",
                 model::ToString(scope_type), scope_id);
}

StoreResult<std::vector<model::RoleAssignment>> Load(Connection& db, const EnvId& env) {
  return LoadRows<model::RoleAssignment>(
      db,
      "SELECT id, application_id, role_id, scope_id, scope_type, created_at "
      "FROM role_assignments WHERE environment_id = ?1 ORDER BY created_at, id",
      env, [&](const Row& r, model::RoleAssignment& v) -> StoreResult<void> {
        v.id = RoleAssignmentId(r.Text(0));
        v.environment_id = env;
        v.application_id = AppId(r.Text(1));
        v.role_id = RoleId(r.Text(2));
        v.scope_id = r.Text(3);
        const std::string type = r.Text(4);
        TG_STORE_ASSIGN(v.scope_type,
                        Decode(model::ParseRoleScopeType(type), "role scope type", type));
        v.created_at = Time(r.Int(5));
        return {};
      });
}

}  // namespace role_assignments

// ---------------------------------------------------------------------------------------------
// signing_keys

namespace signing_keys {

StoreResult<void> Insert(Connection& db, const SecretCodec& codec, const model::SigningKey& v) {
  const std::string sealed = codec.Seal(v.private_key_pem, SigningKeyAad(v.id));
  return Execute(
      db,
      "INSERT INTO signing_keys (id, environment_id, name, algorithm, key_length, "
      "subject_dn, validity_period_days, is_default, revoked, private_key, certificate_der, "
      "created_at, starts_at, expires_at, retired_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
      v.id.str(), v.environment_id.str(), v.name, model::ToString(v.algorithm), v.key_length,
      v.subject_dn, v.validity_period_days, v.is_default, v.revoked, Blob{sealed},
      Blob{v.certificate_der}, Millis(v.created_at), Millis(v.starts_at), Millis(v.expires_at),
      Millis(v.retired_at));
}

StoreResult<void> Update(Connection& db, const model::SigningKey& v) {
  return Execute(db,
                 "UPDATE signing_keys SET name = ?3, algorithm = ?4, key_length = ?5, "
                 "subject_dn = ?6, validity_period_days = ?7, revoked = ?8, "
                 "starts_at = ?9, expires_at = ?10 WHERE id = ?1 AND environment_id = ?2",
                 v.id.str(), v.environment_id.str(), v.name, model::ToString(v.algorithm),
                 v.key_length, v.subject_dn, v.validity_period_days, v.revoked, Millis(v.starts_at),
                 Millis(v.expires_at));
}

StoreResult<void> MakeDefault(Connection& db, const KeyId& id, TimePoint now) {
  // TRUE and FALSE: BOOLEAN in PostgreSQL, INTEGER 1 and 0 in SQLite.
  TG_STORE_TRY(Execute(db,
                       "UPDATE signing_keys SET is_default = FALSE, retired_at = ?2 "
                       "WHERE is_default = TRUE AND id <> ?1 AND environment_id = "
                       "(SELECT environment_id FROM signing_keys WHERE id = ?1)",
                       id.str(), Millis(now)));
  return Execute(db, "UPDATE signing_keys SET is_default = TRUE, retired_at = NULL WHERE id = ?1",
                 id.str());
}

StoreResult<void> Delete(Connection& db, const KeyId& id) {
  return ChangeOneRow(db, "signing key", "DELETE FROM signing_keys WHERE id = ?1", id.str());
}

StoreResult<std::vector<model::SigningKey>> Load(Connection& db, const SecretCodec& codec,
                                                 const EnvId& env) {
  return LoadRows<model::SigningKey>(
      db,
      "SELECT id, name, algorithm, key_length, subject_dn, validity_period_days, "
      "is_default, revoked, private_key, certificate_der, created_at, starts_at, "
      "expires_at, retired_at FROM signing_keys WHERE environment_id = ?1 "
      "ORDER BY created_at, id",
      env, [&](const Row& r, model::SigningKey& k) -> StoreResult<void> {
        k.id = KeyId(r.Text(0));
        k.environment_id = env;
        k.name = r.Text(1);
        const std::string algorithm = r.Text(2);
        TG_STORE_ASSIGN(k.algorithm,
                        Decode(model::ParseKeyAlgorithm(algorithm), "key algorithm", algorithm));
        k.key_length = r.Int32(3);
        k.subject_dn = r.Text(4);
        k.validity_period_days = r.Int32(5);
        k.is_default = r.Bool(6);
        k.revoked = r.Bool(7);
        std::optional<std::string> opened = codec.Open(r.Bytes(8), SigningKeyAad(k.id));
        if (!opened) {
          return Fail(WrongMasterKey(fmt::format("the private key of signing key {}", k.id.str())));
        }
        k.private_key_pem = std::move(*opened);
        k.certificate_der = r.Bytes(9);
        k.created_at = Time(r.Int(10));
        k.starts_at = Time(r.Int(11));
        k.expires_at = Time(r.Int(12));
        k.retired_at = Time(r.OptionalInt(13));
        return {};
      });
}

}  // namespace signing_keys

// ---------------------------------------------------------------------------------------------
// key_rotation_policies

namespace key_rotation_policies {
namespace {

std::string KeyText(const std::optional<KeyId>& id) { return id ? id->str() : std::string(); }

std::optional<KeyId> KeyFromText(std::string text) {
  if (text.empty()) return std::nullopt;
  return KeyId(std::move(text));
}

}  // namespace

StoreResult<void> Insert(Connection& db, const model::KeyRotationPolicy& v) {
  return Execute(db,
                 "INSERT INTO key_rotation_policies (id, environment_id, name, subject_dn, "
                 "algorithm, key_length, validity_period_days, rotation_period_days, "
                 "overlap_days, enabled, current_key_id, next_key_id, rotated_at, created_at, "
                 "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                 "?14, ?15)",
                 v.id.str(), v.environment_id.str(), v.name, v.subject_dn,
                 model::ToString(v.algorithm), v.key_length, v.validity_period_days,
                 v.rotation_period_days, v.overlap_days, v.enabled, KeyText(v.state.current_key_id),
                 KeyText(v.state.next_key_id), Millis(v.state.rotated_at), Millis(v.created_at),
                 Millis(v.updated_at));
}

StoreResult<void> Update(Connection& db, const model::KeyRotationPolicy& v) {
  return ChangeOneRow(db, "key rotation policy",
                      "UPDATE key_rotation_policies SET name = ?3, subject_dn = ?4, "
                      "algorithm = ?5, key_length = ?6, validity_period_days = ?7, "
                      "rotation_period_days = ?8, overlap_days = ?9, "
                      "rotated_at = CASE WHEN enabled = FALSE AND ?10 = TRUE THEN NULL "
                      "ELSE rotated_at END, enabled = ?10, updated_at = ?11 "
                      "WHERE id = ?1 AND environment_id = ?2",
                      v.id.str(), v.environment_id.str(), v.name, v.subject_dn,
                      model::ToString(v.algorithm), v.key_length, v.validity_period_days,
                      v.rotation_period_days, v.overlap_days, v.enabled, Millis(v.updated_at));
}

StoreResult<void> SetState(Connection& db, const model::KeyRotationPolicy& expected,
                           const model::KeyRotationState& next) {
  const model::KeyRotationState& was = expected.state;
  TG_STORE_ASSIGN(
      int64_t changed,
      ExecuteCounting(db,
                      "UPDATE key_rotation_policies SET current_key_id = ?6, next_key_id = ?7, "
                      "rotated_at = ?8 WHERE id = ?1 AND enabled = TRUE AND current_key_id = ?2 "
                      "AND next_key_id = ?3 AND COALESCE(rotated_at, -1) = ?4 "
                      "AND updated_at = ?5",
                      expected.id.str(), KeyText(was.current_key_id), KeyText(was.next_key_id),
                      Millis(was.rotated_at).value_or(-1), Millis(expected.updated_at),
                      KeyText(next.current_key_id), KeyText(next.next_key_id),
                      Millis(next.rotated_at)));
  if (changed == 0) {
    return Fail(StoreError{StoreErrorCode::kConflict,
                           "the key rotation policy changed since it was read", "state"});
  }
  return {};
}

StoreResult<void> FollowDefaultKey(Connection& db, const KeyId& key, TimePoint now) {
  return Execute(db,
                 "UPDATE key_rotation_policies SET current_key_id = ?1, rotated_at = ?2, "
                 "next_key_id = '' "
                 "WHERE environment_id = (SELECT environment_id FROM signing_keys WHERE id = ?1)",
                 key.str(), Millis(now));
}

StoreResult<void> ForgetKey(Connection& db, const KeyId& key) {
  return Execute(db, "UPDATE key_rotation_policies SET next_key_id = '' WHERE next_key_id = ?1",
                 key.str());
}

StoreResult<std::optional<model::KeyRotationPolicy>> Load(Connection& db, const EnvId& env) {
  TG_STORE_ASSIGN(auto rows,
                  LoadRows<model::KeyRotationPolicy>(
                      db,
                      "SELECT id, name, subject_dn, algorithm, key_length, validity_period_days, "
                      "rotation_period_days, overlap_days, enabled, current_key_id, next_key_id, "
                      "rotated_at, created_at, updated_at FROM key_rotation_policies "
                      "WHERE environment_id = ?1",
                      env, [&](const Row& r, model::KeyRotationPolicy& v) -> StoreResult<void> {
                        v.id = KeyRotationPolicyId(r.Text(0));
                        v.environment_id = env;
                        v.name = r.Text(1);
                        v.subject_dn = r.Text(2);
                        const std::string algorithm = r.Text(3);
                        TG_STORE_ASSIGN(v.algorithm, Decode(model::ParseKeyAlgorithm(algorithm),
                                                            "key algorithm", algorithm));
                        v.key_length = r.Int32(4);
                        v.validity_period_days = r.Int32(5);
                        v.rotation_period_days = r.Int32(6);
                        v.overlap_days = r.Int32(7);
                        v.enabled = r.Bool(8);
                        v.state.current_key_id = KeyFromText(r.Text(9));
                        v.state.next_key_id = KeyFromText(r.Text(10));
                        v.state.rotated_at = Time(r.OptionalInt(11));
                        v.created_at = Time(r.Int(12));
                        v.updated_at = Time(r.Int(13));
                        return {};
                      }));
  if (rows.empty()) return std::optional<model::KeyRotationPolicy>();
  return std::optional<model::KeyRotationPolicy>(std::move(rows.front()));
}

}  // namespace key_rotation_policies

// ---------------------------------------------------------------------------------------------
// activities

namespace activities {

StoreResult<void> Append(Connection& db, const std::vector<model::Activity>& batch) {
  // An activity stored again (a retry after a commit whose outcome was unknown) is skipped.
  const Dialect& dialect = db.dialect();
  const std::string sql = fmt::format(
      "{} INTO activities (id, environment_id, recorded_at, action_type, success, client_id, "
      "correlation_id, resource_ids, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9){}",
      dialect.insert_ignoring_conflicts, dialect.ignoring_conflicts_end);
  for (const model::Activity& a : batch) {
    std::string resources = " ";
    for (const std::string& id : a.resource_ids) resources += id + " ";
    TG_STORE_TRY(Execute(db, sql, a.id, a.environment_id.str(), Millis(a.recorded_at),
                         a.action_type, a.success, a.client_id, a.correlation_id, resources,
                         a.json));
  }
  return {};
}

StoreResult<std::vector<model::Activity>> Load(Connection& db, const model::ActivityQuery& q) {
  // The SQL is built from fixed fragments; every value is a bound parameter.
  std::vector<Value> values;
  std::string sql =
      "SELECT seq, id, recorded_at, action_type, success, client_id, correlation_id, body "
      "FROM activities WHERE environment_id = ?1 AND seq > ?2";
  const std::string env = q.environment_id.str();
  values.emplace_back(env);
  values.emplace_back(q.after_seq);
  auto param = [&](Value v) {
    values.push_back(v);
    return fmt::format("?{}", values.size());
  };
  const std::optional<int64_t> from = q.from ? std::optional(Millis(*q.from)) : std::nullopt;
  const std::optional<int64_t> to = q.to ? std::optional(Millis(*q.to)) : std::nullopt;
  if (from) sql += " AND recorded_at >= " + param(*from);
  if (to) sql += " AND recorded_at < " + param(*to);
  if (!q.action_types.empty()) {
    sql += " AND action_type IN (";
    for (size_t i = 0; i < q.action_types.size(); ++i) {
      sql += (i == 0 ? "" : ", ") + param(q.action_types[i]);
    }
    sql += ")";
  }
  if (q.success) sql += " AND success = " + param(*q.success);
  if (q.client_id) sql += " AND client_id = " + param(*q.client_id);
  if (q.correlation_id) sql += " AND correlation_id = " + param(*q.correlation_id);
  const std::string resource_pattern = q.resource_id ? "% " + *q.resource_id + " %" : "";
  if (q.resource_id) sql += " AND resource_ids LIKE " + param(resource_pattern);
  sql += " ORDER BY seq LIMIT " + param(static_cast<int64_t>(q.limit));

  TG_STORE_ASSIGN(auto stmt, db.Query(sql, values));
  std::vector<model::Activity> out;
  TG_STORE_TRY(ForEachRow(*stmt, [&](const Row& r) -> StoreResult<void> {
    model::Activity a;
    a.seq = r.Int(0);
    a.id = r.Text(1);
    a.environment_id = q.environment_id;
    a.recorded_at = Time(r.Int(2));
    a.action_type = r.Text(3);
    a.success = r.Bool(4);
    a.client_id = r.Text(5);
    a.correlation_id = r.Text(6);
    a.json = r.Text(7);
    if (auto read = r.ColumnError(); !read.ok()) return read;
    out.push_back(std::move(a));
    return {};
  }));
  return out;
}

StoreResult<int64_t> PurgeSome(Connection& db, TimePoint before, int64_t limit) {
  return ExecuteCounting(db,
                         "DELETE FROM activities WHERE seq IN (SELECT seq FROM activities WHERE "
                         "recorded_at < ?1 LIMIT ?2)",
                         Millis(before), limit);
}

}  // namespace activities

// ---------------------------------------------------------------------------------------------
// remembered_jtis

namespace remembered_jtis {
namespace {

// `INSERT <rest>`, skipping a row that conflicts with a uniqueness constraint.
std::string InsertIgnoringConflicts(const Connection& db, std::string_view rest) {
  const Dialect& dialect = db.dialect();
  return fmt::format("{} {}{}", dialect.insert_ignoring_conflicts, rest,
                     dialect.ignoring_conflicts_end);
}

// An expired entry no longer blocks the same jti.
StoreResult<void> ForgetExpired(Connection& db, const model::RememberedJti& jti, TimePoint now) {
  return Execute(db,
                 "DELETE FROM remembered_jtis WHERE kind = ?1 AND environment_id = ?2 "
                 "AND jti = ?3 AND expires_at <= ?4",
                 KindName(jti.kind), jti.environment_id.str(), jti.jti, Millis(now));
}

}  // namespace

std::string_view KindName(model::JtiKind kind) {
  return kind == model::JtiKind::kRevokedToken ? "REVOKED_TOKEN" : "USED_ASSERTION";
}

std::optional<model::JtiKind> ParseKind(std::string_view name) {
  if (name == "REVOKED_TOKEN") return model::JtiKind::kRevokedToken;
  if (name == "USED_ASSERTION") return model::JtiKind::kUsedAssertion;
  return std::nullopt;
}

model::RememberedJti Read(model::JtiKind kind, const Row& row) {
  return {kind, EnvId(row.Text(0)), row.Text(1), Time(row.Int(2))};
}

StoreResult<bool> Insert(Connection& db, const model::RememberedJti& jti, TimePoint now) {
  TG_STORE_TRY(ForgetExpired(db, jti, now));
  // Concurrent inserts of one jti (on several nodes) wait for each other: one wins.
  TG_STORE_ASSIGN(int64_t inserted,
                  ExecuteCounting(db,
                                  InsertIgnoringConflicts(db,
                                                          "INTO remembered_jtis (kind, "
                                                          "environment_id, jti, expires_at) "
                                                          "VALUES (?1, ?2, ?3, ?4)"),
                                  KindName(jti.kind), jti.environment_id.str(), jti.jti,
                                  Millis(jti.expires_at)));
  return inserted == 1;
}

StoreResult<void> InsertEachIfEnvironmentExists(Connection& db,
                                                std::span<const model::RememberedJti> jtis,
                                                TimePoint now) {
  const std::string insert = InsertIgnoringConflicts(
      db,
      "INTO remembered_jtis (kind, environment_id, jti, expires_at) SELECT ?1, ?2, ?3, ?4 "
      "WHERE EXISTS (SELECT 1 FROM environments WHERE id = ?2)");
  for (const model::RememberedJti& jti : jtis) {
    TG_STORE_TRY(ForgetExpired(db, jti, now));
    TG_STORE_TRY(Execute(db, insert, KindName(jti.kind), jti.environment_id.str(), jti.jti,
                         Millis(jti.expires_at)));
  }
  return {};
}

StoreResult<std::vector<model::RememberedJti>> Load(Connection& db, model::JtiKind kind,
                                                    TimePoint now) {
  TG_STORE_ASSIGN(auto stmt, Query(db,
                                   "SELECT environment_id, jti, expires_at FROM remembered_jtis "
                                   "WHERE kind = ?1 AND expires_at > ?2 "
                                   "ORDER BY expires_at, environment_id, jti",
                                   KindName(kind), Millis(now)));
  std::vector<model::RememberedJti> out;
  TG_STORE_TRY(ForEachRow(*stmt, [&](const Row& r) -> StoreResult<void> {
    out.push_back(Read(kind, r));
    return {};
  }));
  return out;
}

StoreResult<void> Purge(Connection& db, TimePoint now) {
  return Execute(db, "DELETE FROM remembered_jtis WHERE expires_at <= ?1", Millis(now));
}

}  // namespace remembered_jtis

// ---------------------------------------------------------------------------------------------
// meta

namespace meta {

StoreResult<std::optional<std::string>> Get(Connection& db, std::string_view key) {
  TG_STORE_ASSIGN(auto stmt, Query(db, "SELECT value FROM meta WHERE key = ?1", key));
  std::optional<std::string> value;
  TG_STORE_TRY(ForEachRow(*stmt, [&](const Row& r) -> StoreResult<void> {
    value = r.Bytes(0);
    return {};
  }));
  return value;
}

StoreResult<void> Insert(Connection& db, std::string_view key, std::string_view value) {
  return Execute(db, "INSERT INTO meta (key, value) VALUES (?1, ?2)", key, Blob{value});
}

}  // namespace meta

}  // namespace tollgate::storage::sql
