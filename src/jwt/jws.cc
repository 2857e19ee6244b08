#include "jwt/jws.h"

#include "common/base64.h"

namespace tollgate::jwt {
namespace {

constexpr size_t EncodedSize(size_t n) { return (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1); }

}  // namespace

crypto::CryptoResult<std::string> SignCompact(std::string_view header_json,
                                              std::string_view payload_json,
                                              const crypto::PrivateKey& key) {
  // RFC 7515 §7.1: BASE64URL(UTF8(JWS Protected Header)) '.' BASE64URL(JWS Payload) '.'
  // BASE64URL(JWS Signature); the signature covers the first two parts with their dot.
  constexpr size_t kMaxSignatureSize = 512;  // RSA-4096
  std::string token;
  token.reserve(EncodedSize(header_json.size()) + EncodedSize(payload_json.size()) +
                EncodedSize(kMaxSignatureSize) + 2);
  Base64UrlEncodeTo(header_json, token);
  token.push_back('.');
  Base64UrlEncodeTo(payload_json, token);
  auto signature = key.Sign(token);
  if (!signature) return Fail(std::move(signature).error());
  token.push_back('.');
  Base64UrlEncodeTo(*signature, token);
  return token;
}

std::optional<CompactParts> SplitCompact(std::string_view token, size_t max_size) {
  if (token.size() > max_size) return std::nullopt;
  const size_t first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const size_t second = token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  if (token.find('.', second + 1) != std::string_view::npos) return std::nullopt;  // JWE has 4

  const std::string_view header_b64 = token.substr(0, first);
  const std::string_view payload_b64 = token.substr(first + 1, second - first - 1);
  const std::string_view signature_b64 = token.substr(second + 1);
  if (header_b64.empty() || payload_b64.empty()) return std::nullopt;

  auto header = Base64UrlDecode(header_b64);
  auto payload = Base64UrlDecode(payload_b64);
  auto signature = Base64UrlDecode(signature_b64);
  if (!header || !payload || !signature) return std::nullopt;

  CompactParts parts;
  parts.header_json = std::move(*header);
  parts.payload_json = std::move(*payload);
  parts.signing_input = std::string(token.substr(0, second));
  parts.signature = std::move(*signature);
  return parts;
}

}  // namespace tollgate::jwt
