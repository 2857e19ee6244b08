// config::BuildEnvironmentSnapshot: what the token path reads from a snapshot (issuer, custom
// grants grouped per resource, secrets, roles, client keys, signing keys). How the holder loads,
// swaps and drops environments: config/store/holder_test.cc.
#include "config/snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

#include "common/base64.h"
#include "common/uuid.h"
#include "testutil/fixtures.h"

namespace tollgate::config {
namespace {

using testutil::EnvBuilder;
using ResourceScopes = std::vector<std::pair<std::string, std::vector<std::string>>>;

const Urls kUrls{testutil::kAuthUrl, testutil::kApiUrl};

std::shared_ptr<const EnvironmentSnapshot> BuildOk(model::EnvironmentData data,
                                                   const Urls& urls = kUrls) {
  auto built = BuildEnvironmentSnapshot(std::move(data), urls);
  if (!built) {
    ADD_FAILURE() << "build failed: " << built.error().message;
    return nullptr;
  }
  return std::move(built).value();
}

// (resource name, scope names) per custom grant, in the snapshot's order.
ResourceScopes CustomGrants(const EnvironmentSnapshot& env, const std::string& client_id) {
  const AppEntry* app = env.FindApp(client_id);
  if (app == nullptr) {
    ADD_FAILURE() << "no app " << client_id;
    return {};
  }
  ResourceScopes out;
  for (const auto& g : app->custom_grants) out.emplace_back(g.resource->name, g.scope_names);
  return out;
}

const model::Resource& ResourceNamed(const model::EnvironmentData& d, const std::string& name) {
  auto it = std::find_if(d.resources.begin(), d.resources.end(),
                         [&](const model::Resource& r) { return r.name == name; });
  if (it == d.resources.end()) throw std::runtime_error("no resource " + name);
  return *it;
}

ScopeId ScopeNamed(const model::EnvironmentData& d, const std::string& resource,
                   const std::string& name) {
  const ResourceId rid = ResourceNamed(d, resource).id;
  for (const auto& s : d.scopes) {
    if (s.resource_id == rid && s.name == name) return s.id;
  }
  throw std::runtime_error("no scope " + resource + "/" + name);
}

// A grant of `scopes` (in the order given) of `resource` to `app`.
void AddGrant(model::EnvironmentData& d, const std::string& app, const std::string& resource,
              const std::vector<std::string>& scopes) {
  model::Grant g;
  g.id = GrantId(NewUuid());
  g.environment_id = d.environment.id;
  g.application_id = AppId(app);
  g.resource_id = ResourceNamed(d, resource).id;
  for (const auto& s : scopes) g.scopes.push_back(ScopeNamed(d, resource, s));
  d.grants.push_back(std::move(g));
}

model::Resource& AddBuiltin(model::EnvironmentData& d, const std::string& name,
                            model::ResourceType type, const std::vector<std::string>& scopes) {
  model::Resource r;
  r.id = ResourceId(NewUuid());
  r.environment_id = d.environment.id;
  r.name = name;
  r.audience = name;
  r.type = type;
  for (const auto& s : scopes) {
    model::Scope sc;
    sc.id = ScopeId(NewUuid());
    sc.resource_id = r.id;
    sc.environment_id = d.environment.id;
    sc.name = s;
    d.scopes.push_back(sc);
  }
  d.resources.push_back(r);
  return d.resources.back();
}

TEST(BuildEnvironmentSnapshotTest, IssuerAndTokenEndpointComeFromTheAuthUrl) {
  EnvBuilder b;
  const std::string id = b.data().environment.id.str();
  auto env = BuildOk(b.data());
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->issuer, std::string(testutil::kAuthUrl) + "/" + id + "/as");
  EXPECT_EQ(env->token_endpoint, std::string(testutil::kAuthUrl) + "/" + id + "/as/token");
  EXPECT_EQ(env->environment.id.str(), id);
  EXPECT_EQ(env->organization_id, b.data().environment.organization_id);

  auto local = BuildOk(b.data(), Urls{"http://127.0.0.1:8080", "http://127.0.0.1:8080"});
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->issuer, "http://127.0.0.1:8080/" + id + "/as");
  EXPECT_EQ(local->token_endpoint, "http://127.0.0.1:8080/" + id + "/as/token");
}

TEST(BuildEnvironmentSnapshotTest, CustomGrantsAreGroupedPerResourceInCreationOrder) {
  EnvBuilder b;
  b.Resource("first", "https://first", 600, {"a1", "a2", "a3", "shared"})
      .Resource("second", "https://second", 900, {"b1", "b2", "shared"})
      .Resource("third", "https://third", 1200, {"c1"})
      .App("svc")
      .App("other");
  model::EnvironmentData d = b.data();
  // Grants listed unlike creation order: the later resource first, scopes reversed, and one
  // scope granted twice by two grants of the same resource.
  AddGrant(d, "svc", "second", {"shared", "b2"});
  AddGrant(d, "svc", "first", {"a3", "a1"});
  AddGrant(d, "svc", "first", {"a1", "shared"});
  AddGrant(d, "other", "third", {"c1"});

  auto env = BuildOk(std::move(d));
  ASSERT_NE(env, nullptr);
  // A scope name in two resources counts in each (its ids differ); the same scope id is listed
  // once. Scopes follow creation order, not grant order.
  EXPECT_EQ(CustomGrants(*env, "svc"),
            (ResourceScopes{{"first", {"a1", "a3", "shared"}}, {"second", {"b2", "shared"}}}));
  EXPECT_EQ(CustomGrants(*env, "other"), (ResourceScopes{{"third", {"c1"}}}));
  const AppEntry* svc = env->FindApp("svc");
  ASSERT_NE(svc, nullptr);
  ASSERT_EQ(svc->custom_grants.size(), 2u);
  EXPECT_TRUE(svc->custom_grants[0].HasScope("a3"));
  EXPECT_FALSE(svc->custom_grants[0].HasScope("a2"));
  EXPECT_FALSE(svc->custom_grants[0].HasScope("b2"));
  // The grant's resource points into the snapshot's own resources.
  EXPECT_EQ(svc->custom_grants[0].resource->audience, "https://first");
  EXPECT_EQ(svc->custom_grants[1].resource->access_token_validity_seconds, 900);
  const auto& res = env->resources;
  EXPECT_TRUE(std::any_of(res.begin(), res.end(), [&](const model::Resource& r) {
    return &r == svc->custom_grants[1].resource;
  }));
}

TEST(BuildEnvironmentSnapshotTest, BuiltinResourcesNeverAppearAsCustomGrants) {
  EnvBuilder b;
  b.Resource("custom", "https://custom", 600, {"read"}).App("svc").App("oidc-only");
  model::EnvironmentData d = b.data();
  AddBuiltin(d, "openid", model::ResourceType::kOpenIdConnect, {"openid", "profile"});
  AddBuiltin(d, "PingOne API", model::ResourceType::kPingOneApi, {"p1:read:user"});
  AddGrant(d, "svc", "openid", {"openid", "profile"});
  AddGrant(d, "svc", "PingOne API", {"p1:read:user"});
  AddGrant(d, "svc", "custom", {"read"});
  AddGrant(d, "oidc-only", "openid", {"profile"});

  auto env = BuildOk(std::move(d));
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(CustomGrants(*env, "svc"), (ResourceScopes{{"custom", {"read"}}}));
  EXPECT_EQ(CustomGrants(*env, "oidc-only"), ResourceScopes{});
}

TEST(BuildEnvironmentSnapshotTest, GrantsThatNameNoKnownResourceOrNoScopeAreSkipped) {
  EnvBuilder b;
  b.Resource("kept", "https://kept", 600, {"read"})
      .Resource("emptied", "https://emptied", 600, {"gone"})
      .App("svc");
  model::EnvironmentData d = b.data();
  AddGrant(d, "svc", "kept", {"read"});
  AddGrant(d, "svc", "emptied", {});  // every scope of the grant was deleted
  model::Grant dangling;
  dangling.id = GrantId(NewUuid());
  dangling.environment_id = d.environment.id;
  dangling.application_id = AppId("svc");
  dangling.resource_id = ResourceId(NewUuid());          // no such resource
  dangling.scopes = {ScopeNamed(d, "emptied", "gone")};  // and it names a real scope
  d.grants.push_back(dangling);
  model::Grant orphan = d.grants.front();  // a grant of an application that does not exist
  orphan.id = GrantId(NewUuid());
  orphan.application_id = AppId("nobody");
  d.grants.push_back(orphan);

  auto env = BuildOk(std::move(d));
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(CustomGrants(*env, "svc"), (ResourceScopes{{"kept", {"read"}}}));
  EXPECT_EQ(env->FindApp("nobody"), nullptr);
}

TEST(BuildEnvironmentSnapshotTest, SecretsAndAPreviousSecretWithItsExpiry) {
  EnvBuilder b;
  b.App("plain", model::AppType::kService, model::AuthMethod::kClientSecretBasic, "current-1")
      .App("rotating", model::AppType::kService, model::AuthMethod::kClientSecretPost, "current-2");
  const TimePoint expires = FromUnixMillis(1'800'000'600'000);
  b.LastSecret().previous = "old-2";
  b.LastSecret().previous_expires_at = expires;
  b.App("no-expiry", model::AppType::kService, model::AuthMethod::kClientSecretBasic, "current-3");
  b.LastSecret().previous = "old-3";  // a previous secret without an expiry is not usable
  model::EnvironmentData d = b.data();
  d.secrets.push_back({AppId("nobody"), d.environment.id, "orphan", std::nullopt, std::nullopt});

  auto env = BuildOk(std::move(d));
  ASSERT_NE(env, nullptr);
  const AppEntry* plain = env->FindApp("plain");
  const AppEntry* rotating = env->FindApp("rotating");
  const AppEntry* no_expiry = env->FindApp("no-expiry");
  ASSERT_TRUE(plain && rotating && no_expiry);
  EXPECT_EQ(plain->secret, "current-1");
  EXPECT_FALSE(plain->previous_secret.has_value());
  EXPECT_EQ(rotating->secret, "current-2");
  EXPECT_EQ(rotating->previous_secret, std::optional<std::string>("old-2"));
  EXPECT_EQ(rotating->previous_expires_at, expires);
  EXPECT_EQ(no_expiry->secret, "current-3");
  EXPECT_FALSE(no_expiry->previous_secret.has_value());
  EXPECT_EQ(env->FindApp("nobody"), nullptr);
  EXPECT_EQ(env->apps.size(), 3u);
}

TEST(BuildEnvironmentSnapshotTest, RoleAssignmentsBelongToTheirApplication) {
  EnvBuilder b;
  b.App("admin", model::AppType::kWorker).Role("admin").App("worker", model::AppType::kWorker);
  b.App("svc");
  model::EnvironmentData d = b.data();
  model::RoleAssignment env_role;
  env_role.id = RoleAssignmentId(NewUuid());
  env_role.environment_id = d.environment.id;
  env_role.application_id = AppId("admin");
  env_role.role_id = model::kConfigurationReadOnlyRoleId;
  env_role.scope_type = model::RoleScopeType::kEnvironment;
  env_role.scope_id = d.environment.id.str();
  d.role_assignments.push_back(env_role);
  model::RoleAssignment orphan = env_role;
  orphan.id = RoleAssignmentId(NewUuid());
  orphan.application_id = AppId("nobody");
  d.role_assignments.push_back(orphan);

  auto env = BuildOk(std::move(d));
  ASSERT_NE(env, nullptr);
  const AppEntry* admin = env->FindApp("admin");
  ASSERT_NE(admin, nullptr);
  EXPECT_TRUE(admin->has_role_assignments);
  ASSERT_EQ(admin->role_assignments.size(), 2u);
  EXPECT_EQ(admin->role_assignments[0].role_id, model::kOrganizationAdminRoleId);
  EXPECT_EQ(admin->role_assignments[1].role_id, model::kConfigurationReadOnlyRoleId);
  EXPECT_EQ(admin->role_assignments[1].scope_id, env->environment.id.str());
  for (const char* id : {"worker", "svc"}) {
    const AppEntry* app = env->FindApp(id);
    ASSERT_NE(app, nullptr) << id;
    EXPECT_FALSE(app->has_role_assignments) << id;
    EXPECT_TRUE(app->role_assignments.empty()) << id;
  }
}

TEST(BuildEnvironmentSnapshotTest, InlineJwksIsParsedOnceForPrivateKeyJwtApps) {
  auto key = crypto::PrivateKey::Generate(crypto::KeyKind::kEcP256);
  ASSERT_TRUE(key.ok());
  const std::string jwks = testutil::JwkSetJson({key->get()}, {"k1"});
  EnvBuilder b;
  b.App("pkj", model::AppType::kService, model::AuthMethod::kPrivateKeyJwt);
  b.LastApp().jwks = jwks;
  b.App("basic-with-jwks");
  b.LastApp().jwks = jwks;  // stored, but the method never uses it
  b.App("pkj-url", model::AppType::kService, model::AuthMethod::kPrivateKeyJwt);
  b.LastApp().jwks_url = "https://keys.example/jwks.json";

  auto env = BuildOk(b.data());
  ASSERT_NE(env, nullptr);
  const AppEntry* pkj = env->FindApp("pkj");
  ASSERT_NE(pkj, nullptr);
  ASSERT_NE(pkj->jwks, nullptr);
  ASSERT_EQ(pkj->jwks->keys.size(), 1u);
  EXPECT_TRUE(pkj->jwks->HasKid("k1"));
  // The parsed key is the client's: it verifies what the client's private key signed.
  auto sig = (*key)->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(pkj->jwks->keys[0].key->Verify("ES256", "payload", *sig));
  EXPECT_FALSE(pkj->jwks->keys[0].key->Verify("ES256", "other payload", *sig));
  EXPECT_EQ(env->FindApp("basic-with-jwks")->jwks, nullptr);
  EXPECT_EQ(env->FindApp("pkj-url")->jwks, nullptr);
}

TEST(BuildEnvironmentSnapshotTest, JwksThatNoLongerParsesLeavesOnlyThatAppWithoutKeys) {
  auto key = crypto::PrivateKey::Generate(crypto::KeyKind::kEcP256);
  ASSERT_TRUE(key.ok());
  const crypto::PublicJwk pub = (*key)->Public();
  EnvBuilder b;
  b.App("broken", model::AppType::kService, model::AuthMethod::kPrivateKeyJwt);
  b.LastApp().jwks = "{\"keys\":[{\"kty\":";
  b.App("not-a-set", model::AppType::kService, model::AuthMethod::kPrivateKeyJwt);
  b.LastApp().jwks = "{\"keys\":[]}";
  // One usable key next to one that is not (a symmetric key): the usable one is kept.
  b.App("partly", model::AppType::kService, model::AuthMethod::kPrivateKeyJwt);
  b.LastApp().jwks =
      "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},{\"kty\":\"EC\",\"kid\":"
      "\"good\",\"crv\":\"P-256\",\"x\":\"" +
      pub.x + "\",\"y\":\"" + pub.y + "\"}]}";
  b.App("svc");

  auto env = BuildOk(b.data());
  ASSERT_NE(env, nullptr) << "a bad client key set must not fail the environment";
  ASSERT_NE(env->FindApp("broken"), nullptr);
  EXPECT_EQ(env->FindApp("broken")->jwks, nullptr);
  EXPECT_EQ(env->FindApp("not-a-set")->jwks, nullptr);
  ASSERT_NE(env->FindApp("partly")->jwks, nullptr);
  EXPECT_EQ(env->FindApp("partly")->jwks->keys.size(), 1u);
  EXPECT_TRUE(env->FindApp("partly")->jwks->HasKid("good"));
  EXPECT_NE(env->FindApp("svc"), nullptr);
  EXPECT_NE(env->default_key, nullptr);
}

TEST(BuildEnvironmentSnapshotTest, DefaultSigningKeyIsParsedAndItsPrivatePemCleared) {
  EnvBuilder b;
  const std::string pem = b.data().signing_keys[0].private_key_pem;
  ASSERT_FALSE(pem.empty());
  auto env = BuildOk(b.data());
  ASSERT_NE(env, nullptr);
  ASSERT_EQ(env->keys.size(), 1u);
  ASSERT_NE(env->default_key, nullptr);
  EXPECT_EQ(env->default_key, &env->keys[0]);
  EXPECT_EQ(env->default_key, env->FindKey(b.data().signing_keys[0].id.str()));
  EXPECT_EQ(env->FindKey("no-such-key"), nullptr);
  // No private material in what the snapshot keeps, for the key entries or for the management
  // API's copy of the stored data.
  EXPECT_TRUE(env->keys[0].key.private_key_pem.empty());
  ASSERT_EQ(env->data->signing_keys.size(), 1u);
  EXPECT_TRUE(env->data->signing_keys[0].private_key_pem.empty());
  EXPECT_EQ(env->data->environment.id, env->environment.id);
  // The parsed signer is the stored key, and the verifier is its public half.
  ASSERT_NE(env->default_key->signer, nullptr);
  ASSERT_NE(env->default_key->verifier, nullptr);
  auto stored = crypto::PrivateKey::FromPem(pem);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(env->default_key->signer->Public().n, (*stored)->Public().n);
  auto sig = env->default_key->signer->Sign("input");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(env->default_key->verifier->Verify("RS256", "input", *sig));
  EXPECT_EQ(env->default_key->x5t, "") << "no certificate, no x5t";
}

TEST(BuildEnvironmentSnapshotTest, DefaultIsTheDefaultKeyThatIsNotRevoked) {
  auto ec = crypto::PrivateKey::Generate(crypto::KeyKind::kEcP256);
  ASSERT_TRUE(ec.ok());
  auto cert = (*ec)->SelfSignedCertificate("CN=Test", 30);
  ASSERT_TRUE(cert.ok());
  EnvBuilder b;
  model::EnvironmentData d = b.data();
  model::SigningKey second = d.signing_keys[0];
  second.id = KeyId("bbbbbbbb-2222-4333-8444-555555555555");
  second.algorithm = model::KeyAlgorithm::kEc;
  second.key_length = 256;
  second.is_default = false;
  second.private_key_pem = (*ec)->ToPem();
  second.certificate_der = *cert;
  d.signing_keys.push_back(second);

  struct Case {
    const char* name;
    bool first_default, first_revoked, second_default;
    const char* expected;  // kid of the default key, or "" for none
  };
  const Case cases[] = {
      {"first is the default", true, false, false, "aaaaaaaa-2222-4333-8444-555555555555"},
      {"second is the default", false, false, true, "bbbbbbbb-2222-4333-8444-555555555555"},
      {"a revoked default is not used", true, true, false, ""},
      {"the other default is used", true, true, true, "bbbbbbbb-2222-4333-8444-555555555555"},
      {"no default at all", false, false, false, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    model::EnvironmentData data = d;
    data.signing_keys[0].is_default = c.first_default;
    data.signing_keys[0].revoked = c.first_revoked;
    data.signing_keys[1].is_default = c.second_default;
    auto env = BuildOk(std::move(data));
    ASSERT_NE(env, nullptr);
    EXPECT_EQ(env->keys.size(), 2u) << "every key stays in the snapshot (and its JWKS)";
    if (std::string(c.expected).empty()) {
      EXPECT_EQ(env->default_key, nullptr);
    } else {
      ASSERT_NE(env->default_key, nullptr);
      EXPECT_EQ(env->default_key->key.id.str(), c.expected);
    }
    const KeyEntry* ec_entry = env->FindKey("bbbbbbbb-2222-4333-8444-555555555555");
    ASSERT_NE(ec_entry, nullptr);
    EXPECT_EQ(ec_entry->signer->JwsAlg(), "ES256");
    EXPECT_EQ(ec_entry->x5t, Base64UrlEncode(crypto::Sha1(*cert)));
    EXPECT_TRUE(ec_entry->key.private_key_pem.empty());
  }
}

// RFC 9864: a key stored as "Ed25519" signs, publishes and verifies under that name, one stored
// as "EdDSA" under the old one, from the same kind of PEM; an "Ed25519" key whose PEM is not an
// Ed25519 key fails the build.
TEST(BuildEnvironmentSnapshotTest, Ed25519KeysKeepTheAlgNameTheyWereCreatedWith) {
  auto ed = crypto::PrivateKey::Generate(crypto::KeyKind::kEd25519);
  ASSERT_TRUE(ed.ok());
  for (auto [algorithm, name] : {std::pair{model::KeyAlgorithm::kEdDsa, "EdDSA"},
                                 std::pair{model::KeyAlgorithm::kEd25519, "Ed25519"}}) {
    SCOPED_TRACE(name);
    EnvBuilder b;
    model::EnvironmentData d = b.data();
    d.signing_keys[0].algorithm = algorithm;
    d.signing_keys[0].key_length = 256;
    d.signing_keys[0].private_key_pem = (*ed)->ToPem();
    auto env = BuildOk(std::move(d));
    ASSERT_NE(env, nullptr);
    ASSERT_NE(env->default_key, nullptr);
    EXPECT_EQ(env->default_key->signer->JwsAlg(), name);
    EXPECT_EQ(env->default_key->signer->Public().alg, name);
    auto sig = env->default_key->signer->Sign("input");
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(env->default_key->verifier->Verify(name, "input", *sig));
  }
  EnvBuilder b;
  model::EnvironmentData d = b.data();
  d.signing_keys[0].algorithm = model::KeyAlgorithm::kEd25519;  // but the PEM is RSA
  EXPECT_FALSE(BuildEnvironmentSnapshot(std::move(d), kUrls).ok());
}

TEST(BuildEnvironmentSnapshotTest, UnparsableSigningKeyFailsTheBuildNamingTheKey) {
  const std::string garbage =
      "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
  for (const std::string& pem : {garbage, std::string(), std::string("not a pem")}) {
    EnvBuilder b;
    model::EnvironmentData d = b.data();
    model::SigningKey bad = d.signing_keys[0];
    bad.id = KeyId("cccccccc-2222-4333-8444-555555555555");
    bad.is_default = false;
    bad.private_key_pem = pem;
    d.signing_keys.push_back(bad);
    auto built = BuildEnvironmentSnapshot(std::move(d), kUrls);
    ASSERT_FALSE(built.ok()) << "pem: " << pem;
    EXPECT_NE(built.error().message.find(bad.id.str()), std::string::npos)
        << "the message names the key: " << built.error().message;
    if (!pem.empty()) {
      EXPECT_EQ(built.error().message.find(pem), std::string::npos);
    }
  }
}

TEST(BuildEnvironmentSnapshotTest, MaxTokenLifetimeIsTheLongestResourceLifetimeAtLeastAnHour) {
  struct Case {
    std::vector<int> validities;
    int64_t expected;
  };
  const Case cases[] = {
      {{}, 3600},  // management-API tokens live an hour
      {{300, 600}, 3600},
      {{600, 7200, 900}, 7200},
      {{2592000}, 2592000},
  };
  for (const auto& c : cases) {
    EnvBuilder b;
    int i = 0;
    for (int v : c.validities) b.Resource("r" + std::to_string(i++), "https://r", v, {"s"});
    auto env = BuildOk(b.data());
    ASSERT_NE(env, nullptr);
    EXPECT_EQ(env->max_token_lifetime_seconds, c.expected) << c.validities.size();
  }
}

}  // namespace
}  // namespace tollgate::config
