#pragma once
// A stand-in SecretCodec for the storage tests (the real AES-256-GCM codec lives above storage).
// NOT cryptography: it XORs the plaintext with a keystream derived from (key, aad) and appends a
// keyed 64-bit tag. It only has to keep plaintext out of a byte search of the database and to
// reject a wrong key, a wrong aad, or an altered value, like the real one. Thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace tollgate::storage::testing {

class TestCodec final : public SecretCodec {
 public:
  explicit TestCodec(std::string key) : key_(std::move(key)) {}

  std::string Seal(std::string_view plaintext, std::string_view aad) const override;
  std::optional<std::string> Open(std::string_view sealed, std::string_view aad) const override;

 private:
  std::string key_;
};

}  // namespace tollgate::storage::testing
