#pragma once
// The row mappers, one namespace per table (with its child tables): the one place that knows a
// table's columns, how a model struct becomes a row (Insert, Update) and rows become model
// structs (Load), and which columns are sealed with the SecretCodec, with the row's identity as
// associated data (so that a sealed value moved to another row no longer opens).
//
// Mappers check no rule: the Transaction (transaction.h) checks uniqueness and references
// before it calls them, and the schema's foreign keys cascade deletes. Errors: kUnavailable /
// kInternal from the database; kInternal for a row that does not decode (an unknown enum
// spelling); kWrongMasterKey for a sealed value that does not open. Lists are ordered by
// (created_at, id); list columns keep their stored order. TimePoints are stored as unix
// milliseconds.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "model/model.h"
#include "storage/sql/connection.h"
#include "storage/store.h"

namespace tollgate::storage::sql {

namespace organization {
StoreResult<void> Insert(Connection& db, const model::Organization& v);
StoreResult<std::optional<model::Organization>> Load(Connection& db);
}  // namespace organization

namespace environments {
StoreResult<void> Insert(Connection& db, const model::Environment& v);
StoreResult<void> Update(Connection& db, const model::Environment& v);
// kNotFound ("id") when there is no such row; the same for every Delete below.
StoreResult<void> Delete(Connection& db, const EnvId& id);
StoreResult<std::vector<model::Environment>> LoadAll(Connection& db);
StoreResult<std::optional<model::Environment>> Load(Connection& db, const EnvId& id);
}  // namespace environments

// applications, with application_grant_types, application_response_types and
// application_redirect_uris (one row per list entry, by position). tls_client_auth is stored as
// (tls_client_auth_name, tls_client_auth_value), both NULL when absent.
namespace applications {
StoreResult<void> Insert(Connection& db, const model::Application& v);
// Leaves tokens_not_before as it is.
StoreResult<void> Update(Connection& db, const model::Application& v);
// kNotFound ("id") for an unknown application.
StoreResult<void> RevokeTokensBefore(Connection& db, const AppId& id, TimePoint not_before);
StoreResult<void> Delete(Connection& db, const AppId& id);
StoreResult<std::vector<model::Application>> Load(Connection& db, const EnvId& env);
}  // namespace applications

namespace application_secrets {
// Inserts or replaces the application's secret row.
StoreResult<void> Put(Connection& db, const SecretCodec& codec, const model::ApplicationSecret& v);
StoreResult<std::vector<model::ApplicationSecret>> Load(Connection& db, const SecretCodec& codec,
                                                        const EnvId& env);
}  // namespace application_secrets

namespace resources {
StoreResult<void> Insert(Connection& db, const SecretCodec& codec, const model::Resource& v);
// Leaves the secret as it is.
StoreResult<void> Update(Connection& db, const model::Resource& v);
// kNotFound ("id") for an unknown resource.
StoreResult<void> SetSecret(Connection& db, const SecretCodec& codec, const ResourceId& id,
                            const std::string& secret);
StoreResult<void> Delete(Connection& db, const ResourceId& id);
StoreResult<std::vector<model::Resource>> Load(Connection& db, const SecretCodec& codec,
                                               const EnvId& env);
}  // namespace resources

namespace scopes {
StoreResult<void> Insert(Connection& db, const model::Scope& v);
StoreResult<void> Update(Connection& db, const model::Scope& v);
StoreResult<void> Delete(Connection& db, const ScopeId& id);
StoreResult<std::vector<model::Scope>> Load(Connection& db, const EnvId& env);
}  // namespace scopes

namespace resource_attributes {
StoreResult<void> Insert(Connection& db, const model::ResourceAttribute& v);
// Changes the name, value and updated_at.
StoreResult<void> Update(Connection& db, const model::ResourceAttribute& v);
StoreResult<void> Delete(Connection& db, const AttributeId& id);
StoreResult<std::vector<model::ResourceAttribute>> Load(Connection& db, const EnvId& env);
}  // namespace resource_attributes

namespace trusted_issuers {
StoreResult<void> Insert(Connection& db, const model::TrustedIssuer& v);
// Changes every column but id, environment_id and created_at.
StoreResult<void> Update(Connection& db, const model::TrustedIssuer& v);
StoreResult<void> Delete(Connection& db, const TrustedIssuerId& id);
StoreResult<std::vector<model::TrustedIssuer>> Load(Connection& db, const EnvId& env);
}  // namespace trusted_issuers

namespace trusted_cas {
StoreResult<void> Insert(Connection& db, const model::TrustedCa& v);
// Changes the name, certificate and updated_at.
StoreResult<void> Update(Connection& db, const model::TrustedCa& v);
StoreResult<void> Delete(Connection& db, const TrustedCaId& id);
StoreResult<std::vector<model::TrustedCa>> Load(Connection& db, const EnvId& env);
}  // namespace trusted_cas

// grants, with grant_scopes (the grant's scopes in its order).
namespace grants {
StoreResult<void> Insert(Connection& db, const model::Grant& v);
// Replaces the resource and the scope list.
StoreResult<void> Update(Connection& db, const model::Grant& v);
StoreResult<void> Delete(Connection& db, const GrantId& id);
StoreResult<std::vector<model::Grant>> Load(Connection& db, const EnvId& env);
}  // namespace grants

namespace role_assignments {
StoreResult<void> Insert(Connection& db, const model::RoleAssignment& v);
StoreResult<void> Delete(Connection& db, const RoleAssignmentId& id);
// Deletes the assignments (of any environment) scoped to `scope_id` of `scope_type`.
StoreResult<void> DeleteScopedTo(Connection& db, model::RoleScopeType scope_type,
                                 const std::string& scope_id);
StoreResult<std::vector<model::RoleAssignment>> Load(Connection& db, const EnvId& env);
}  // namespace role_assignments

namespace signing_keys {
StoreResult<void> Insert(Connection& db, const SecretCodec& codec, const model::SigningKey& v);
// Leaves the key material (private key, certificate), is_default and retired_at as they are.
StoreResult<void> Update(Connection& db, const model::SigningKey& v);
// Every other default key of `id`'s environment stops being default with retired_at = `now`;
// `id` becomes default without retired_at.
StoreResult<void> MakeDefault(Connection& db, const KeyId& id, TimePoint now);
StoreResult<void> Delete(Connection& db, const KeyId& id);
StoreResult<std::vector<model::SigningKey>> Load(Connection& db, const SecretCodec& codec,
                                                 const EnvId& env);
}  // namespace signing_keys

// A policy's key ids are stored as text, '' for none.
namespace key_rotation_policies {
StoreResult<void> Insert(Connection& db, const model::KeyRotationPolicy& v);
// Leaves the state as it is, except that enabling a disabled policy clears its rotated_at.
StoreResult<void> Update(Connection& db, const model::KeyRotationPolicy& v);
// kConflict ("state") unless the stored policy is enabled and has `expected`'s state and
// updated_at.
StoreResult<void> SetState(Connection& db, const model::KeyRotationPolicy& expected,
                           const model::KeyRotationState& next);
// The policy of `key`'s environment now rotates from `key`, made default at `now`, and has no
// next key.
StoreResult<void> FollowDefaultKey(Connection& db, const KeyId& key, TimePoint now);
// Clears `key` as a next key.
StoreResult<void> ForgetKey(Connection& db, const KeyId& key);
StoreResult<std::optional<model::KeyRotationPolicy>> Load(Connection& db, const EnvId& env);
}  // namespace key_rotation_policies

namespace activities {
// Each activity's resource ids are stored space-separated, between spaces (" a b "), so that
// one id matches with LIKE '% id %'.
StoreResult<void> Append(Connection& db, const std::vector<model::Activity>& batch);
StoreResult<std::vector<model::Activity>> Load(Connection& db, const model::ActivityQuery& q);
// Deletes at most `limit` of the activities recorded before `before`; returns how many.
StoreResult<int64_t> PurgeSome(Connection& db, TimePoint before, int64_t limit);
}  // namespace activities

namespace remembered_jtis {
// The stored spelling of a kind ("REVOKED_TOKEN", "USED_ASSERTION"), and back.
std::string_view KindName(model::JtiKind kind);
std::optional<model::JtiKind> ParseKind(std::string_view name);
// A jti of `kind` from a row whose columns 0..2 are (environment_id, jti, expires_at).
model::RememberedJti Read(model::JtiKind kind, const Row& row);
// Remembers `jti` unless the same (kind, environment, jti) is remembered and unexpired at
// `now`; true when it was inserted. Concurrent inserts of one jti wait for each other: one wins.
StoreResult<bool> Insert(Connection& db, const model::RememberedJti& jti, TimePoint now);
// Insert for each of `jtis`, skipping those whose environment does not exist.
StoreResult<void> InsertEachIfEnvironmentExists(Connection& db,
                                                std::span<const model::RememberedJti> jtis,
                                                TimePoint now);
// The jtis of `kind` unexpired at `now`, by (expires_at, environment_id, jti).
StoreResult<std::vector<model::RememberedJti>> Load(Connection& db, model::JtiKind kind,
                                                    TimePoint now);
// Forgets every jti that expired at or before `now`.
StoreResult<void> Purge(Connection& db, TimePoint now);
}  // namespace remembered_jtis

// meta: (key, binary value) pairs of the store itself.
namespace meta {
StoreResult<std::optional<std::string>> Get(Connection& db, std::string_view key);
StoreResult<void> Insert(Connection& db, std::string_view key, std::string_view value);
}  // namespace meta

}  // namespace tollgate::storage::sql
