#include "jwt/dpop.h"

#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <unordered_map>

#include "common/base64.h"
#include "jwt/json_util.h"
#include "jwt/jws.h"

namespace tollgate::jwt {
namespace json = boost::json;

namespace {

using Reason = std::string;
using internal::StringMember;

constexpr std::array<std::string_view, 10> kAlgorithms = {
    "ES256", "ES384", "EdDSA", "Ed25519", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"};

// The public key of a proof's `jwk`, parsed once per thread and thumbprint: a client signs its
// proofs with one key, and importing it (an EC point check, an RSA modulus) costs about as much as
// the verification. Bounded: cleared when full.
class KeyCache {
 public:
  std::shared_ptr<const crypto::PublicKey> Find(const std::string& id) const {
    auto it = keys_.find(id);
    return it == keys_.end() ? nullptr : it->second;
  }
  void Put(std::string id, std::shared_ptr<const crypto::PublicKey> key) {
    if (keys_.size() >= kMaxKeys) keys_.clear();
    keys_.emplace(std::move(id), std::move(key));
  }

 private:
  static constexpr size_t kMaxKeys = 256;
  std::unordered_map<std::string, std::shared_ptr<const crypto::PublicKey>> keys_;
};

// §4.2: `jwk` is a public key; RFC 7517/7518 private members are never accepted.
Result<crypto::PublicJwk, Reason> PublicJwkOf(const json::value* value) {
  if (value == nullptr || !value->is_object()) return Fail(Reason("header jwk is missing"));
  const json::object& o = value->as_object();
  for (std::string_view secret : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (o.contains(secret)) return Fail(Reason("header jwk holds private key material"));
  }
  crypto::PublicJwk jwk;
  if (!StringMember(o, "kty", jwk.kty) || !StringMember(o, "alg", jwk.alg) ||
      !StringMember(o, "n", jwk.n) || !StringMember(o, "e", jwk.e) ||
      !StringMember(o, "crv", jwk.crv) || !StringMember(o, "x", jwk.x) ||
      !StringMember(o, "y", jwk.y)) {
    return Fail(Reason("header jwk has a member that is not a string"));
  }
  return jwk;
}

// RFC 3986 §6.2.2 and §6.2.3 normal form of an absolute http(s) URI without query and fragment;
// nullopt when `text` is not one.
std::optional<std::string> NormalUri(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return std::nullopt;
  boost::urls::url u(*parsed);
  u.remove_query();
  u.remove_fragment();
  u.normalize();
  const bool https = u.scheme() == "https";
  if (!https && u.scheme() != "http") return std::nullopt;
  if (!u.has_authority() || u.host().empty()) return std::nullopt;
  if (u.has_port() && (u.port().empty() || u.port() == (https ? "443" : "80"))) u.remove_port();
  // set_path("/") gives "/./" in Boost 1.81; an absolute empty path is "/".
  if (u.path().empty()) u.set_path_absolute(true);
  return std::string(u.buffer());
}

// §4.3 items 8, 9 and 11.
Result<void, Reason> CheckClaims(const DpopProof& proof, const DpopRules& rules) {
  if (proof.htm != rules.method) return Fail(Reason("claim htm is not the request's method"));
  // The common case, equal as sent, needs no normalization.
  if (proof.htu != rules.uri && (rules.alias.empty() || proof.htu != rules.alias)) {
    auto htu = NormalUri(proof.htu);
    auto same = [&htu](std::string_view uri) {
      auto normal = NormalUri(uri);
      return htu && normal && *htu == *normal;
    };
    if (!same(rules.uri) && (rules.alias.empty() || !same(rules.alias))) {
      return Fail(Reason("claim htu is not the request's URI"));
    }
  }
  const int64_t now = ToUnixSeconds(rules.now);
  if (proof.iat > now + rules.skew.count()) return Fail(Reason("claim iat is in the future"));
  if (proof.iat < now - rules.max_age.count()) return Fail(Reason("claim iat is too old"));
  return {};
}

}  // namespace

std::span<const std::string_view> DpopAlgorithms() { return kAlgorithms; }

std::string JwkThumbprint(const crypto::PublicJwk& jwk) {
  // The members are base64url or curve names, which JSON never escapes.
  std::string canonical;
  canonical.reserve(64 + jwk.n.size() + jwk.x.size() + jwk.y.size());
  if (jwk.kty == "RSA") {
    canonical = R"({"e":")" + jwk.e + R"(","kty":"RSA","n":")" + jwk.n + R"("})";
  } else if (jwk.kty == "EC") {
    canonical =
        R"({"crv":")" + jwk.crv + R"(","kty":"EC","x":")" + jwk.x + R"(","y":")" + jwk.y + R"("})";
  } else if (jwk.kty == "OKP") {
    canonical = R"({"crv":")" + jwk.crv + R"(","kty":"OKP","x":")" + jwk.x + R"("})";
  } else {
    return {};
  }
  return Base64UrlEncode(crypto::Sha256(canonical));
}

Result<DpopProof, std::string> VerifyDpopProof(std::string_view token, const DpopRules& rules) {
  auto parts = SplitCompact(token, kMaxDpopProofSize);
  if (!parts) return Fail(Reason("it is not a compact JWS of at most 8 KiB"));
  auto header = internal::ParseObject(parts->header_json, "its header");
  if (!header) return Fail(std::move(header).error());
  auto claims = internal::ParseObject(parts->payload_json, "its payload");
  if (!claims) return Fail(std::move(claims).error());

  const json::value* typ = header->if_contains("typ");
  if (typ == nullptr || !typ->is_string() || typ->as_string() != "dpop+jwt") {
    return Fail(Reason("header typ is not dpop+jwt"));
  }
  DpopProof out;
  const json::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return Fail(Reason("header alg is missing"));
  out.alg = std::string(alg->as_string());
  bool supported = false;
  for (std::string_view a : kAlgorithms) supported = supported || a == out.alg;
  if (!supported) return Fail(Reason("header alg is not an accepted asymmetric algorithm"));
  if (header->contains("crit")) return Fail(Reason("header crit is not supported"));
  auto jwk = PublicJwkOf(header->if_contains("jwk"));
  if (!jwk) return Fail(std::move(jwk).error());
  out.jkt = JwkThumbprint(*jwk);
  if (out.jkt.empty()) return Fail(Reason("header jwk has an unsupported kty"));

  auto jti = internal::RequiredString(*claims, "jti");
  if (!jti) return Fail(std::move(jti).error());
  if (jti->size() > kMaxDpopJtiSize) return Fail(Reason("claim jti is too long"));
  auto htm = internal::RequiredString(*claims, "htm");
  if (!htm) return Fail(std::move(htm).error());
  auto htu = internal::RequiredString(*claims, "htu");
  if (!htu) return Fail(std::move(htu).error());
  const json::value* iat = claims->if_contains("iat");
  if (iat == nullptr) return Fail(Reason("claim iat is missing"));
  auto iat_value = internal::NumericDate(*iat);
  if (!iat_value) return Fail(Reason("claim iat is not a NumericDate"));
  if (claims->contains("nonce")) {
    auto nonce = internal::RequiredString(*claims, "nonce");
    if (!nonce) return Fail(std::move(nonce).error());
    if (nonce->size() > kMaxDpopNonceSize) return Fail(Reason("claim nonce is too long"));
    out.nonce = std::move(*nonce);
  }
  out.jti = std::move(*jti);
  out.htm = std::move(*htm);
  out.htu = std::move(*htu);
  out.iat = *iat_value;
  // The claims before the signature: a stale or misdirected proof costs no verification.
  if (auto checked = CheckClaims(out, rules); !checked) return Fail(std::move(checked).error());

  // The key: the same members with another `alg` restriction are another cache entry.
  thread_local KeyCache cache;
  std::string id = out.jkt + ' ' + jwk->alg;
  std::shared_ptr<const crypto::PublicKey> key = cache.Find(id);
  if (!key) {
    auto parsed = crypto::PublicKey::FromJwk(*jwk);
    if (!parsed) return Fail(Reason("header jwk is not a valid public key"));
    key = *parsed;
    cache.Put(std::move(id), key);
  }
  // A JWK naming an alg binds the key to it (RFC 7517 §4.4): Verify() refuses any other.
  if (!key->Verify(out.alg, parts->signing_input, parts->signature)) {
    return Fail(Reason("the signature does not verify with header jwk"));
  }
  return out;
}

TimePoint DpopRememberUntil(const DpopProof& proof, const DpopRules& rules) {
  return TimePoint(std::chrono::seconds(proof.iat)) + rules.max_age;
}

}  // namespace tollgate::jwt
