// Behaviour of the PostgreSQL backend beyond the shared contract: connection errors, URI
// redaction, migrations across nodes, recovery from lost connections, and the change feed's
// notifications (ChangeSource).

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "common/uuid.h"
#include "postgres_backend.h"
#include "store_contract.h"
#include "test_codec.h"

namespace tollgate::storage::testing {
namespace {

using std::chrono::milliseconds;

std::shared_ptr<const SecretCodec> CodecA() { return std::make_shared<TestCodec>("key-A"); }

TEST(RedactStoreUriTest, HidesPasswordsOnly) {
  EXPECT_EQ(RedactStoreUri("postgresql://admin:hunter2@db.example:5432/tollgate"),
            "postgresql://admin:****@db.example:5432/tollgate");
  EXPECT_EQ(RedactStoreUri("postgres://admin:p%40ss@db.example/t?sslmode=require"),
            "postgres://admin:****@db.example/t?sslmode=require");
  EXPECT_EQ(RedactStoreUri("postgresql://db.example/t?user=a&password=hunter2&sslmode=verify-full"),
            "postgresql://db.example/t?user=a&password=****&sslmode=verify-full");
  EXPECT_EQ(RedactStoreUri("postgresql://admin@db.example/t"), "postgresql://admin@db.example/t");
  EXPECT_EQ(RedactStoreUri("sqlite:/var/lib/tollgate.db"), "sqlite:/var/lib/tollgate.db");
  EXPECT_EQ(RedactStoreUri("postgresq://admin:hunter2@db.example/t"),
            "postgresq://admin:****@db.example/t");
}

TEST(PostgresOpenTest, MalformedUriIsInternalWithoutThePassword) {
  auto r = OpenStore("postgresql://admin:hunter2@127.0.0.1/db?no_such_option=1", CodecA());
  ASSERT_TRUE(IsError(r, StoreErrorCode::kInternal));
  EXPECT_NE(r.error().message.find("invalid PostgreSQL connection string"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("no_such_option"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

TEST(PostgresOpenTest, UnreachableServerIsUnavailable) {
  // Port 1: nothing listens there on a test machine.
  auto r = OpenStore("postgresql://tollgate:x@127.0.0.1:1/db?connect_timeout=2", CodecA());
  ASSERT_TRUE(IsError(r, StoreErrorCode::kUnavailable));
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
}

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_ = PostgresSchemaBackend::Make();
    if (backend_ == nullptr) {
      if (HasFailure()) FAIL() << "the required test database is missing";
      GTEST_SKIP() << "no test database configured";
    }
  }

  std::unique_ptr<Store> OpenOk(const std::string& uri) {
    auto store = OpenStore(uri, CodecA());
    EXPECT_TRUE(Ok(store));
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::string Query(const std::string& sql) { return RawPg(backend_->admin_uri()).Query(sql); }

  // The organization and one environment, written through `store`.
  EnvId Seed(Store& store) {
    model::Organization org{OrgId(NewUuid()), "Acme", FromUnixMillis(1000)};
    model::Environment env;
    env.id = EnvId(NewUuid());
    env.organization_id = org.id;
    env.name = "env-" + env.id.str();
    env.created_at = env.updated_at = FromUnixMillis(2000);
    EXPECT_TRUE(Ok(store.Write([&](Transaction& t) -> StoreResult<void> {
      if (auto r = t.Insert(org); !r.ok()) return r;
      return t.Insert(env);
    })));
    return env.id;
  }

  model::Application App(const EnvId& env) {
    model::Application a;
    a.id = AppId(NewUuid());
    a.environment_id = env;
    a.name = "app-" + a.id.str();
    a.grant_types = {model::GrantType::kClientCredentials};
    a.created_at = a.updated_at = FromUnixMillis(3000);
    return a;
  }

  std::unique_ptr<PostgresSchemaBackend> backend_;
};

TEST_F(PostgresStoreTest, WrongPasswordIsUnavailableWithOneLineWithoutThePassword) {
  std::string uri = backend_->uri();
  const size_t colon = uri.find(':', std::string("postgresql://").size());
  const size_t at = uri.find('@');
  uri.replace(colon + 1, at - colon - 1, "wrong-password-123");
  auto r = OpenStore(uri, CodecA());
  ASSERT_TRUE(IsError(r, StoreErrorCode::kUnavailable));
  EXPECT_NE(r.error().message.find("password authentication failed"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("wrong-password-123"), std::string::npos);
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
}

TEST_F(PostgresStoreTest, EachMigrationIsRecordedOnceAcrossConcurrentOpens) {
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (OpenStore(backend_->uri(), CodecA()).ok()) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(Query("SELECT string_agg(version::text, ',' ORDER BY version) FROM " +
                  backend_->schema() + ".schema_migrations"),
            "1,2,3,4,5,6,7,8,9,10");
  EXPECT_TRUE(Ok(OpenStore(backend_->uri(), CodecA())));
  EXPECT_EQ(Query("SELECT count(*) FROM " + backend_->schema() + ".schema_migrations"), "10");
}

TEST_F(PostgresStoreTest, ApplicationNameOfTheUriOverridesTheDefault) {
  const std::string name = "tg_test_" + NewUuid().substr(0, 8);
  auto store = OpenOk(backend_->uri() + "&application_name=" + name);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Ok(store->LoadAll()));  // one pooled connection stays open
  EXPECT_EQ(Query("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + name + "'"),
            "1");
}

TEST_F(PostgresStoreTest, LostConnectionsAreReplacedWithoutReopening) {
  const std::string name = "tg_test_" + NewUuid().substr(0, 8);
  auto store = OpenOk(backend_->uri() + "&application_name=" + name);
  ASSERT_NE(store, nullptr);
  const EnvId env = Seed(*store);
  const std::string killed = Query(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
      name + "'");
  EXPECT_EQ(killed, "1");
  // The pooled connection is dead; the next calls use a new one.
  EXPECT_TRUE(Ok(store->LoadEnvironment(env)));
  Query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
        name + "'");
  model::Application app = App(env);
  EXPECT_TRUE(Ok(store->Write([&](Transaction& t) { return t.Insert(app); })));
  auto data = store->LoadEnvironment(env);
  ASSERT_TRUE(Ok(data));
  EXPECT_EQ(data->applications.size(), 1u);
}

// Waits (bounded) until the source reports a batch with something in it.
StoreResult<ChangeBatch> NextBatch(ChangeSource& source) {
  for (int i = 0; i < 50; ++i) {
    auto batch = source.Wait(milliseconds(100));
    if (!batch.ok() || batch->resync || !batch->environments.empty() || !batch->jtis.empty()) {
      return batch;
    }
  }
  return ChangeBatch{};
}

TEST_F(PostgresStoreTest, ChangeSourceReportsEachCommittedWriteOncePerEnvironment) {
  auto store = OpenOk(backend_->uri());
  ASSERT_NE(store, nullptr);
  auto opened = store->OpenChangeSource();
  ASSERT_TRUE(Ok(opened));
  ASSERT_NE(opened->get(), nullptr);
  ChangeSource& source = **opened;
  const EnvId env = Seed(*store);

  auto first = NextBatch(source);
  ASSERT_TRUE(Ok(first));
  ASSERT_EQ(first->environments.size(), 1u);
  EXPECT_EQ(first->environments[0].environment_id, env);
  const int64_t v1 = first->environments[0].version;

  // One transaction of several rows: one new version.
  model::Application a = App(env), b = App(env);
  ASSERT_TRUE(Ok(store->Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(a); !r.ok()) return r;
    return t.Insert(b);
  })));
  auto second = NextBatch(source);
  ASSERT_TRUE(Ok(second));
  ASSERT_EQ(second->environments.size(), 1u);
  EXPECT_EQ(second->environments[0].version, v1 + 1);

  // A rolled-back write notifies nothing; the next committed one follows.
  model::Application c = App(env);
  EXPECT_FALSE(store
                   ->Write([&](Transaction& t) -> StoreResult<void> {
                     if (auto r = t.Insert(c); !r.ok()) return r;
                     return Fail(StoreError{StoreErrorCode::kConflict, "late", "x"});
                   })
                   .ok());
  auto quiet = source.Wait(milliseconds(200));
  ASSERT_TRUE(Ok(quiet));
  EXPECT_TRUE(quiet->environments.empty());
  ASSERT_TRUE(Ok(store->Write([&](Transaction& t) { return t.Delete(a.id); })));
  auto third = NextBatch(source);
  ASSERT_TRUE(Ok(third));
  ASSERT_EQ(third->environments.size(), 1u);
  EXPECT_EQ(third->environments[0].version, v1 + 2);

  auto versions = source.Versions();
  ASSERT_TRUE(Ok(versions));
  bool found = false;
  for (const auto& v : *versions) {
    if (v.environment_id == env) {
      found = true;
      EXPECT_EQ(v.version, v1 + 2);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(PostgresStoreTest, ChangeSourceReportsResourceAttributeWrites) {
  auto store = OpenOk(backend_->uri());
  ASSERT_NE(store, nullptr);
  auto opened = store->OpenChangeSource();
  ASSERT_TRUE(Ok(opened));
  ASSERT_NE(opened->get(), nullptr);
  ChangeSource& source = **opened;
  const EnvId env = Seed(*store);
  model::Resource res;
  res.id = ResourceId(NewUuid());
  res.environment_id = env;
  res.name = "api";
  res.audience = "https://api.example";
  ASSERT_TRUE(Ok(store->Write([&](Transaction& t) { return t.Insert(res); })));
  int64_t version = 0;
  for (int i = 0; i < 2; ++i) {  // the environment's and the resource's writes
    auto batch = NextBatch(source);
    ASSERT_TRUE(Ok(batch));
    ASSERT_EQ(batch->environments.size(), 1u);
    version = batch->environments[0].version;
    if (version >= 2) break;
  }
  ASSERT_EQ(version, 2);

  // Each write that touches only resource_attributes is one new version of the environment.
  model::ResourceAttribute attr;
  attr.id = AttributeId(NewUuid());
  attr.environment_id = env;
  attr.resource_id = res.id;
  attr.name = "department";
  attr.value = "${user.department}";
  const std::vector<std::pair<const char*, std::function<StoreResult<void>(Transaction&)>>> writes =
      {
          {"insert", [&](Transaction& t) { return t.Insert(attr); }},
          {"update",
           [&](Transaction& t) {
             model::ResourceAttribute changed = attr;
             changed.value = "static";
             return t.Update(changed);
           }},
          {"delete", [&](Transaction& t) { return t.Delete(attr.id); }},
      };
  for (const auto& [what, write] : writes) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(Ok(store->Write(write)));
    auto batch = NextBatch(source);
    ASSERT_TRUE(Ok(batch));
    ASSERT_EQ(batch->environments.size(), 1u);
    EXPECT_EQ(batch->environments[0].environment_id, env);
    EXPECT_EQ(batch->environments[0].version, ++version);
  }
}

TEST_F(PostgresStoreTest, ChangeSourceReportsTrustedIssuerWrites) {
  auto store = OpenOk(backend_->uri());
  ASSERT_NE(store, nullptr);
  auto opened = store->OpenChangeSource();
  ASSERT_TRUE(Ok(opened));
  ASSERT_NE(opened->get(), nullptr);
  ChangeSource& source = **opened;
  const EnvId env = Seed(*store);
  auto first = NextBatch(source);  // the environment's insertion
  ASSERT_TRUE(Ok(first));
  ASSERT_EQ(first->environments.size(), 1u);
  int64_t version = first->environments[0].version;

  // Each write that touches only trusted_issuers is one new version of the environment.
  model::TrustedIssuer ti;
  ti.id = TrustedIssuerId(NewUuid());
  ti.environment_id = env;
  ti.name = "Partner";
  ti.issuer = "https://idp.example";
  ti.jwks_url = "https://idp.example/jwks";
  ti.audience = "https://auth.example/as";
  const std::vector<std::pair<const char*, std::function<StoreResult<void>(Transaction&)>>> writes =
      {
          {"insert", [&](Transaction& t) { return t.Insert(ti); }},
          {"update",
           [&](Transaction& t) {
             model::TrustedIssuer changed = ti;
             changed.enabled = false;
             return t.Update(changed);
           }},
          {"delete", [&](Transaction& t) { return t.Delete(ti.id); }},
      };
  for (const auto& [what, write] : writes) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(Ok(store->Write(write)));
    auto batch = NextBatch(source);
    ASSERT_TRUE(Ok(batch));
    ASSERT_EQ(batch->environments.size(), 1u);
    EXPECT_EQ(batch->environments[0].environment_id, env);
    EXPECT_EQ(batch->environments[0].version, ++version);
  }
}

TEST_F(PostgresStoreTest, ChangeSourceReportsTrustedCaWrites) {
  auto store = OpenOk(backend_->uri());
  ASSERT_NE(store, nullptr);
  auto opened = store->OpenChangeSource();
  ASSERT_TRUE(Ok(opened));
  ASSERT_NE(opened->get(), nullptr);
  ChangeSource& source = **opened;
  const EnvId env = Seed(*store);
  auto first = NextBatch(source);  // the environment's insertion
  ASSERT_TRUE(Ok(first));
  ASSERT_EQ(first->environments.size(), 1u);
  int64_t version = first->environments[0].version;

  // Each write that touches only trusted_cas is one new version of the environment.
  model::TrustedCa ca;
  ca.id = TrustedCaId(NewUuid());
  ca.environment_id = env;
  ca.name = "Issuing CA";
  ca.certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const std::vector<std::pair<const char*, std::function<StoreResult<void>(Transaction&)>>> writes =
      {
          {"insert", [&](Transaction& t) { return t.Insert(ca); }},
          {"update",
           [&](Transaction& t) {
             model::TrustedCa changed = ca;
             changed.name = "Renamed CA";
             return t.Update(changed);
           }},
          {"delete", [&](Transaction& t) { return t.Delete(ca.id); }},
      };
  for (const auto& [what, write] : writes) {
    SCOPED_TRACE(what);
    ASSERT_TRUE(Ok(store->Write(write)));
    auto batch = NextBatch(source);
    ASSERT_TRUE(Ok(batch));
    ASSERT_EQ(batch->environments.size(), 1u);
    EXPECT_EQ(batch->environments[0].environment_id, env);
    EXPECT_EQ(batch->environments[0].version, ++version);
  }
}

// RFC 8705 §2.1.2: an absent tls_client_auth is stored as NULLs, and a name the code does not
// know makes the row fail to load, like any other unknown enum spelling.
TEST_F(PostgresStoreTest, UnknownTlsClientAuthNameIsALoadError) {
  auto store = OpenOk(backend_->uri());
  ASSERT_NE(store, nullptr);
  const EnvId env = Seed(*store);
  model::Application without = App(env);
  model::Application with = App(env);
  with.tls_client_auth = model::TlsClientAuth{model::TlsClientAuthName::kSanIp, "::1"};
  with.tls_client_certificate_bound_access_tokens = true;
  ASSERT_TRUE(Ok(store->Write([&](Transaction& t) -> StoreResult<void> {
    if (auto r = t.Insert(without); !r.ok()) return r;
    return t.Insert(with);
  })));
  const std::string table = backend_->schema() + ".applications";
  EXPECT_EQ(Query("SELECT count(*) FROM " + table + " WHERE tls_client_auth_name IS NULL AND " +
                  "tls_client_auth_value IS NULL AND NOT " +
                  "tls_client_certificate_bound_access_tokens AND id = '" + without.id.str() + "'"),
            "1");
  EXPECT_EQ(
      Query("SELECT tls_client_auth_name || ' ' || tls_client_auth_value FROM " + table +
            " WHERE tls_client_certificate_bound_access_tokens AND id = '" + with.id.str() + "'"),
      "tlsClientAuthSanIp ::1");
  ASSERT_TRUE(Ok(store->LoadEnvironment(env)));
  RawPg(backend_->admin_uri())
      .Exec("UPDATE " + table + " SET tls_client_auth_name = 'tlsClientAuthSanX500' WHERE id = '" +
            with.id.str() + "'");
  auto all = store->LoadAll();
  ASSERT_TRUE(IsError(all, StoreErrorCode::kInternal));
  EXPECT_NE(all.error().message.find("tlsClientAuthSanX500"), std::string::npos)
      << all.error().message;
  EXPECT_TRUE(IsError(store->LoadEnvironment(env), StoreErrorCode::kInternal));
}

TEST_F(PostgresStoreTest, ChangeSourceCarriesRememberedJtisShortAndLong) {
  auto store = OpenOk(backend_->uri());
  ASSERT_NE(store, nullptr);
  const EnvId env = Seed(*store);
  auto opened = store->OpenChangeSource();
  ASSERT_TRUE(Ok(opened));
  ChangeSource& source = **opened;
  auto before = source.LastJtiSeq(model::JtiKind::kRevokedToken);
  ASSERT_TRUE(Ok(before));

  const TimePoint now = FromUnixMillis(1'800'000'000'000);
  const std::string long_jti(9000, 'j');  // beyond NOTIFY's payload limit
  for (const std::string& jti : {std::string("short jti with spaces"), long_jti}) {
    auto remembered = store->RememberJti(
        {model::JtiKind::kRevokedToken, env, jti, now + std::chrono::hours(1)}, now);
    ASSERT_TRUE(Ok(remembered));
    EXPECT_TRUE(*remembered);
    auto batch = NextBatch(source);
    ASSERT_TRUE(Ok(batch));
    ASSERT_EQ(batch->jtis.size(), 1u);
    EXPECT_EQ(batch->jtis[0].jti.jti, jti);
    EXPECT_EQ(batch->jtis[0].jti.environment_id, env);
    EXPECT_EQ(batch->jtis[0].jti.kind, model::JtiKind::kRevokedToken);
    EXPECT_EQ(ToUnixMillis(batch->jtis[0].jti.expires_at),
              ToUnixMillis(now + std::chrono::hours(1)));
    EXPECT_GT(batch->jtis[0].seq, *before);
  }
  auto after = source.JtisAfter(model::JtiKind::kRevokedToken, *before, now);
  ASSERT_TRUE(Ok(after));
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[1].jti.jti, long_jti);
  auto last = source.LastJtiSeq(model::JtiKind::kRevokedToken);
  ASSERT_TRUE(Ok(last));
  EXPECT_EQ(*last, (*after)[1].seq);
  // A replay notifies nothing.
  auto replay = store->RememberJti(
      {model::JtiKind::kRevokedToken, env, long_jti, now + std::chrono::hours(1)}, now);
  ASSERT_TRUE(Ok(replay));
  EXPECT_FALSE(*replay);
  auto quiet = source.Wait(milliseconds(200));
  ASSERT_TRUE(Ok(quiet));
  EXPECT_TRUE(quiet->jtis.empty());
}

TEST_F(PostgresStoreTest, ChangeSourceInterruptAndReconnectWithResync) {
  const std::string name = "tg_feed_" + NewUuid().substr(0, 8);
  auto store = OpenOk(backend_->uri() + "&application_name=" + name);
  ASSERT_NE(store, nullptr);
  auto opened = store->OpenChangeSource();
  ASSERT_TRUE(Ok(opened));
  ChangeSource& source = **opened;

  source.Interrupt();
  const auto start = std::chrono::steady_clock::now();
  auto woken = source.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(Ok(woken));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

  Query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
        name + "'");
  // The loss is reported (now or at the next Wait), then the source reconnects with resync.
  bool lost = false;
  bool resynced = false;
  for (int i = 0; i < 50 && !resynced; ++i) {
    auto batch = source.Wait(milliseconds(100));
    if (!batch.ok()) {
      EXPECT_EQ(batch.error().code, StoreErrorCode::kUnavailable);
      lost = true;
      continue;
    }
    resynced = batch->resync;
  }
  EXPECT_TRUE(lost);
  EXPECT_TRUE(resynced);
  EXPECT_TRUE(Ok(source.Versions()));
}

}  // namespace
}  // namespace tollgate::storage::testing
