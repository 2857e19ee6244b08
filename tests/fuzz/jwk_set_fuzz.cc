// Fuzz target: JWK Set documents (RFC 7517), as an application's inline `jwks` (strict) and as a
// fetched jwksUrl answer (lenient). Parsing never crashes, and a document the strict mode accepts
// is accepted by the lenient one with the same keys.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jwt/jwk_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto strict = tollgate::jwt::ParseJwkSet(in, tollgate::jwt::JwkSetMode::kStrict);
  auto lenient = tollgate::jwt::ParseJwkSet(in, tollgate::jwt::JwkSetMode::kLenient);
  if (strict && (!lenient || lenient->keys.size() != strict->keys.size())) __builtin_trap();
  return 0;
}
