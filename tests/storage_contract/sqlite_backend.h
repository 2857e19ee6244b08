#pragma once
// The SQLite backends of the contract suite, and raw access to their database for the tests
// that must look behind the Store (bytes at rest, schema version).

#include <string>
#include <string_view>

#include "store_contract.h"

namespace tollgate::storage::testing {

// A database file in the temporary directory, unique per instance, removed (with its -wal and
// -shm files) on destruction.
class SqliteFileBackend final : public BackendUnderTest {
 public:
  SqliteFileBackend();
  ~SqliteFileBackend() override;

  StoreResult<std::unique_ptr<Store>> Open(std::shared_ptr<const SecretCodec> codec) override;
  bool IsPersistent() const override { return true; }
  bool RawContains(std::string_view needle) override;
  void BumpSchemaVersion() override;

  const std::string& path() const { return path_; }
  std::string uri() const { return "sqlite:" + path_; }

  // Runs `sql` on a separate raw connection (a back door for tests); fails the test on error.
  void RawExec(const std::string& sql);
  // The first column of the first row of `sql` as text ("" when no row); fails the test on error.
  std::string RawQuery(const std::string& sql);

 private:
  std::string path_;
};

// `sqlite::memory:`: a private database per Open(), so nothing persists.
class SqliteMemoryBackend final : public BackendUnderTest {
 public:
  StoreResult<std::unique_ptr<Store>> Open(std::shared_ptr<const SecretCodec> codec) override;
  bool IsPersistent() const override { return false; }
  bool RawContains(std::string_view needle) override;
  void BumpSchemaVersion() override;
};

}  // namespace tollgate::storage::testing
