#include "jwt/jwk_set.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "jwt/json_util.h"

namespace tollgate::jwt {
namespace json = boost::json;

bool JwkSet::HasKid(std::string_view kid) const {
  for (const Jwk& k : keys) {
    if (k.kid == kid) return true;
  }
  return false;
}

namespace {

using internal::StringMember;

// One JWK, or the reason it cannot be used.
Result<Jwk, std::string> ParseJwk(const json::value& value) {
  if (!value.is_object()) return Fail(std::string("is not a JSON object"));
  const json::object& o = value.as_object();
  crypto::PublicJwk pub;
  std::string use;
  Jwk out;
  if (!StringMember(o, "kty", pub.kty) || !StringMember(o, "alg", pub.alg) ||
      !StringMember(o, "use", use) || !StringMember(o, "kid", out.kid) ||
      !StringMember(o, "n", pub.n) || !StringMember(o, "e", pub.e) ||
      !StringMember(o, "crv", pub.crv) || !StringMember(o, "x", pub.x) ||
      !StringMember(o, "y", pub.y)) {
    return Fail(std::string("has a member that is not a string"));
  }
  if (pub.kty.empty()) return Fail(std::string("has no kty"));
  // RFC 7517 §4.2: a key for encryption is not for verifying signatures.
  if (!use.empty() && use != "sig") return Fail(std::string("is not a signing key (use)"));
  // A published private key is a compromised key: anyone could sign with it.
  if (o.contains("d")) {
    return Fail(std::string("holds private key material; publish only the public key"));
  }
  if (pub.kty != "RSA" && pub.kty != "EC" && pub.kty != "OKP") {
    return Fail(std::string("has an unsupported kty (RSA, EC or OKP)"));
  }
  auto key = crypto::PublicKey::FromJwk(pub);
  if (!key) return Fail(std::string("is not a valid public key: ") + key.error().message);
  out.key = std::move(*key);
  return out;
}

}  // namespace

Result<JwkSet, std::string> ParseJwkSet(std::string_view text, JwkSetMode mode) {
  const bool strict = mode == JwkSetMode::kStrict;
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 8;
  json::value doc = json::parse(text, ec, {}, options);
  if (ec || !doc.is_object()) return Fail(std::string("The JWK Set is not a JSON object."));
  const json::value* keys = doc.as_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array()) {
    return Fail(std::string("The JWK Set has no \"keys\" array."));
  }
  const json::array& array = keys->as_array();
  if (array.size() > kMaxJwks) {
    return Fail(fmt::format("The JWK Set holds more than {} keys.", kMaxJwks));
  }
  JwkSet set;
  for (size_t i = 0; i < array.size(); ++i) {
    auto jwk = ParseJwk(array[i]);
    if (jwk) {
      set.keys.push_back(std::move(*jwk));
    } else if (strict) {
      return Fail(fmt::format("Key {} of the JWK Set {}.", i, jwk.error()));
    }
  }
  if (set.keys.empty()) return Fail(std::string("The JWK Set holds no usable signing key."));
  return set;
}

}  // namespace tollgate::jwt
