#pragma once
// JWS compact serialization (RFC 7515 §7.1) for access tokens and client assertions.

#include <optional>
#include <string>
#include <string_view>

#include "crypto/keys.h"

namespace tollgate::jwt {

// Returns BASE64URL(header_json) "." BASE64URL(payload_json) "." BASE64URL(signature), signed
// by `key` with its JwsAlg(). The caller supplies the exact JSON texts (header must carry the
// matching "alg"; it is not parsed here). Fails only when key.Sign() fails. Thread-safe.
crypto::CryptoResult<std::string> SignCompact(std::string_view header_json,
                                              std::string_view payload_json,
                                              const crypto::PrivateKey& key);

// The parts of a compact JWS, decoded but NOT verified.
struct CompactParts {
  std::string header_json;
  std::string payload_json;
  std::string signing_input;  // the first two segments with their dot, as received
  std::string signature;      // raw bytes
};

// std::nullopt unless `token` is at most `max_size` bytes and exactly three strict base64url
// segments (no padding, no whitespace, exactly two dots) with non-empty header and payload.
// The signature segment may be empty (an unsecured JWS); PublicKey::Verify rejects that.
std::optional<CompactParts> SplitCompact(std::string_view token, size_t max_size = 16384);

}  // namespace tollgate::jwt
