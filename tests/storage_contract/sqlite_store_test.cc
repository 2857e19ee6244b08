// Behaviour of the SQLite backend beyond the shared contract: URI dispatch, pragmas, the
// migrations table, row binding of sealed values, re-entrancy.

#include <gtest/gtest.h>

#include <fstream>

#include "common/uuid.h"
#include "sqlite_backend.h"
#include "store_contract.h"
#include "test_codec.h"

namespace tollgate::storage::testing {
namespace {

std::shared_ptr<const SecretCodec> CodecA() { return std::make_shared<TestCodec>("key-A"); }

TEST(OpenStoreTest, UnsupportedSchemeIsInternalAndDoesNotEchoCredentials) {
  auto r = OpenStore("mysql://admin:hunter2@db.example/tollgate", CodecA());
  ASSERT_TRUE(IsError(r, StoreErrorCode::kInternal));
  EXPECT_EQ(r.error().message.rfind("unsupported store URI", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find("mysql"), std::string::npos);
  EXPECT_EQ(r.error().message.find("hunter2"), std::string::npos);
  EXPECT_TRUE(IsError(OpenStore("/var/lib/tollgate.db", CodecA()), StoreErrorCode::kInternal));
  EXPECT_TRUE(IsError(OpenStore("", CodecA()), StoreErrorCode::kInternal));
}

TEST(OpenStoreTest, SqliteWithoutPathIsRejected) {
  EXPECT_TRUE(IsError(OpenStore("sqlite:", CodecA()), StoreErrorCode::kInternal));
}

TEST(OpenStoreTest, NullCodecIsRejected) {
  EXPECT_TRUE(IsError(OpenStore("sqlite::memory:", nullptr), StoreErrorCode::kInternal));
}

TEST(OpenStoreTest, EachMemoryStoreIsPrivate) {
  auto a = OpenStore("sqlite::memory:", CodecA());
  auto b = OpenStore("sqlite::memory:", CodecA());
  ASSERT_TRUE(Ok(a));
  ASSERT_TRUE(Ok(b));
  model::Organization org{OrgId(NewUuid()), "Acme", FromUnixMillis(1)};
  ASSERT_TRUE(Ok((*a)->Write([&](Transaction& t) { return t.Insert(org); })));
  auto loaded = (*b)->LoadAll();
  ASSERT_TRUE(Ok(loaded));
  EXPECT_FALSE(loaded->organization.has_value());
}

TEST(OpenStoreTest, NotADatabaseIsRefused) {
  SqliteFileBackend backend;
  {
    std::ofstream out(backend.path(), std::ios::binary);
    out << std::string(4096, 'x');
  }
  auto r = backend.Open(CodecA());
  EXPECT_FALSE(r.ok());
}

TEST(SqliteStoreTest, FileUsesWalAndRecordsEachMigrationOnce) {
  SqliteFileBackend backend;
  auto store = backend.Open(CodecA());
  ASSERT_TRUE(Ok(store));
  EXPECT_EQ(backend.RawQuery("PRAGMA journal_mode"), "wal");  // persistent in the file
  EXPECT_EQ(backend.RawQuery("SELECT group_concat(version) FROM schema_migrations"),
            "1,2,3,4,5,6,7,8,9,10");
  EXPECT_EQ(backend.RawQuery("SELECT count(*) FROM meta WHERE key = 'master_key_check'"), "1");
  // Reopening applies no migration again.
  store->reset();
  ASSERT_TRUE(Ok(backend.Open(CodecA())));
  EXPECT_EQ(backend.RawQuery("SELECT count(*) FROM schema_migrations"), "10");
}

// Populates a file store with two applications that both have a secret.
struct TwoSecrets {
  model::Organization org{OrgId(NewUuid()), "Acme", FromUnixMillis(1)};
  model::Environment env;
  model::Application a1, a2;
};

TwoSecrets WriteTwoSecrets(Store& store) {
  TwoSecrets s;
  s.env.id = EnvId(NewUuid());
  s.env.organization_id = s.org.id;
  s.env.name = "env";
  s.a1.id = AppId(NewUuid());
  s.a1.environment_id = s.env.id;
  s.a1.name = "a1";
  s.a2 = s.a1;
  s.a2.id = AppId(NewUuid());
  s.a2.name = "a2";
  EXPECT_TRUE(Ok(store.Write([&](Transaction& t) -> StoreResult<void> {
    for (auto r : {t.Insert(s.org), t.Insert(s.env), t.Insert(s.a1), t.Insert(s.a2),
                   t.Put(model::ApplicationSecret{s.a1.id, s.env.id, "secret-one", {}, {}}),
                   t.Put(model::ApplicationSecret{s.a2.id, s.env.id, "secret-two", {}, {}})}) {
      if (!r.ok()) return r;
    }
    return {};
  })));
  return s;
}

TEST(SqliteStoreTest, SealedValueMovedToAnotherRowDoesNotOpen) {
  SqliteFileBackend backend;
  auto store = backend.Open(CodecA());
  ASSERT_TRUE(Ok(store));
  TwoSecrets s = WriteTwoSecrets(**store);
  ASSERT_TRUE(Ok((*store)->LoadAll()));
  store->reset();
  // Copy a1's sealed secret over a2's: the value is valid under the key, but not for that row.
  backend.RawExec(
      "UPDATE application_secrets SET secret = (SELECT secret FROM "
      "application_secrets WHERE application_id = '" +
      s.a1.id.str() + "') WHERE application_id = '" + s.a2.id.str() + "'");
  auto reopened = backend.Open(CodecA());
  ASSERT_TRUE(Ok(reopened));
  EXPECT_TRUE(IsError((*reopened)->LoadAll(), StoreErrorCode::kWrongMasterKey));
  EXPECT_TRUE(IsError((*reopened)->LoadEnvironment(s.env.id), StoreErrorCode::kWrongMasterKey));
}

TEST(SqliteStoreTest, SecretUnderAnotherKeyFailsAtLoadEvenWithoutTheCheckValue) {
  SqliteFileBackend backend;
  auto store = backend.Open(CodecA());
  ASSERT_TRUE(Ok(store));
  WriteTwoSecrets(**store);
  store->reset();
  backend.RawExec("DELETE FROM meta WHERE key = 'master_key_check'");
  auto other = backend.Open(std::make_shared<TestCodec>("key-B"));
  ASSERT_TRUE(Ok(other));  // no check value left to refuse it at open
  EXPECT_TRUE(IsError((*other)->LoadAll(), StoreErrorCode::kWrongMasterKey));
}

// RFC 8705 §2.1.2: an absent tls_client_auth is stored as NULLs, and a name the code does not
// know makes the row fail to load, like any other unknown enum spelling.
TEST(SqliteStoreTest, UnknownTlsClientAuthNameIsALoadError) {
  SqliteFileBackend backend;
  auto store = backend.Open(CodecA());
  ASSERT_TRUE(Ok(store));
  TwoSecrets s = WriteTwoSecrets(**store);
  EXPECT_EQ(backend.RawQuery("SELECT count(*) FROM applications WHERE tls_client_auth_name IS NULL "
                             "AND tls_client_auth_value IS NULL "
                             "AND tls_client_certificate_bound_access_tokens = 0"),
            "2");
  model::Application a1 = s.a1;
  a1.tls_client_auth = model::TlsClientAuth{model::TlsClientAuthName::kSanUri, "urn:client"};
  ASSERT_TRUE(Ok((*store)->Write([&](Transaction& t) { return t.Update(a1); })));
  EXPECT_EQ(backend.RawQuery("SELECT tls_client_auth_name || ' ' || tls_client_auth_value FROM "
                             "applications WHERE id = '" +
                             a1.id.str() + "'"),
            "tlsClientAuthSanUri urn:client");
  ASSERT_TRUE(Ok((*store)->LoadAll()));
  store->reset();
  backend.RawExec(
      "UPDATE applications SET tls_client_auth_name = 'tlsClientAuthSanX500' WHERE id = '" +
      a1.id.str() + "'");
  auto reopened = backend.Open(CodecA());
  ASSERT_TRUE(Ok(reopened));
  auto all = (*reopened)->LoadAll();
  ASSERT_TRUE(IsError(all, StoreErrorCode::kInternal));
  EXPECT_NE(all.error().message.find("tlsClientAuthSanX500"), std::string::npos)
      << all.error().message;
  EXPECT_TRUE(IsError((*reopened)->LoadEnvironment(s.env.id), StoreErrorCode::kInternal));
}

TEST(SqliteStoreTest, CallFromInsideWriteBodyFailsInsteadOfDeadlocking) {
  auto store = OpenStore("sqlite::memory:", CodecA());
  ASSERT_TRUE(Ok(store));
  StoreResult<Deployment> inner = Fail(StoreError{});
  bool ran = false;
  auto outer = (*store)->Write([&](Transaction&) -> StoreResult<void> {
    ran = true;
    inner = (*store)->LoadAll();
    return {};
  });
  EXPECT_TRUE(ran);
  EXPECT_TRUE(Ok(outer));
  EXPECT_TRUE(IsError(inner, StoreErrorCode::kInternal));
}

TEST(SqliteStoreTest, EmptyBodyIsRejected) {
  auto store = OpenStore("sqlite::memory:", CodecA());
  ASSERT_TRUE(Ok(store));
  EXPECT_TRUE(IsError((*store)->Write(nullptr), StoreErrorCode::kInternal));
}

}  // namespace
}  // namespace tollgate::storage::testing
