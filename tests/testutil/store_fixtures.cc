#include "testutil/store_fixtures.h"

#include <stdexcept>
#include <string>

namespace tollgate::testutil {
namespace {

class IdentityCodec final : public storage::SecretCodec {
 public:
  std::string Seal(std::string_view plaintext, std::string_view) const override {
    return std::string(plaintext);
  }
  std::optional<std::string> Open(std::string_view sealed, std::string_view) const override {
    return std::string(sealed);
  }
};

}  // namespace

std::unique_ptr<storage::Store> OpenMemoryStore() {
  auto store = storage::OpenStore("sqlite::memory:", std::make_shared<IdentityCodec>());
  if (!store) throw std::runtime_error("cannot open a memory store: " + store.error().message);
  return std::move(store).value();
}

}  // namespace tollgate::testutil
