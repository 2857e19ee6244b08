// PublicKey: JWK import (RFC 7517/7518/8037) and JWS signature verification (RFC 7518 §3).

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <optional>

#include "common/base64.h"
#include "crypto/keys.h"
#include "crypto/ossl_util.h"

namespace tollgate::crypto {

using internal::BnPtr;
using internal::Bytes;
using internal::FetchedMd;
using internal::Md;
using internal::MdCtxPtr;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;
using internal::TakeError;

namespace {

enum class PublicKind { kRsa, kEcP256, kEcP384, kEd25519 };

// SPEC §2.2 rule 6: the same sizes as signing keys, and the one public exponent in use. Larger
// keys and exponents only make an unauthenticated verification cost more (a tenant could
// publish 16,384-bit keys with 64-bit exponents and have every assertion tried against them).
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 4096;
constexpr BN_ULONG kRsaExponent = 65537;

using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, internal::Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, internal::Deleter<OSSL_PARAM_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, internal::Deleter<ECDSA_SIG_free>>;

// What a JWS alg asks of the key and of OpenSSL.
struct AlgSpec {
  PublicKind kind;
  std::optional<Md> md;      // nullopt: EdDSA (no pre-hash)
  bool pss = false;          // RSASSA-PSS rather than PKCS#1 v1.5
  size_t ec_coordinate = 0;  // ES*: size of r and of s in the JOSE form
};

// RFC 7518 §3.1, RFC 8037 §3.1 (EdDSA) and RFC 9864 §2.2 (Ed25519). "none", "Ed448" (no
// Ed448 keys here) and every other name: nullopt.
std::optional<AlgSpec> LookUpAlg(std::string_view alg) {
  if (alg == "RS256") return AlgSpec{PublicKind::kRsa, Md::kSha256};
  if (alg == "RS384") return AlgSpec{PublicKind::kRsa, Md::kSha384};
  if (alg == "RS512") return AlgSpec{PublicKind::kRsa, Md::kSha512};
  if (alg == "PS256") return AlgSpec{PublicKind::kRsa, Md::kSha256, true};
  if (alg == "PS384") return AlgSpec{PublicKind::kRsa, Md::kSha384, true};
  if (alg == "PS512") return AlgSpec{PublicKind::kRsa, Md::kSha512, true};
  if (alg == "ES256") return AlgSpec{PublicKind::kEcP256, Md::kSha256, false, 32};
  if (alg == "ES384") return AlgSpec{PublicKind::kEcP384, Md::kSha384, false, 48};
  if (alg == "EdDSA" || alg == "Ed25519") return AlgSpec{PublicKind::kEd25519, std::nullopt};
  return std::nullopt;
}

// RFC 9864 §2.2: "Ed25519" is EdDSA with the Ed25519 parameter set, and on an Ed25519 key
// (the only OKP key accepted) the deprecated polymorphic "EdDSA" can mean nothing else. The two
// names are one algorithm, the same signature bytes, so a JWK naming either verifies both; for
// every other alg the names must be equal (RFC 7517 §4.4).
bool SameAlg(std::string_view a, std::string_view b) {
  auto ed = [](std::string_view x) { return x == "EdDSA" || x == "Ed25519"; };
  return a == b || (ed(a) && ed(b));
}

std::optional<std::string> DecodeMember(std::string_view value) {
  if (value.empty()) return std::nullopt;
  return Base64UrlDecode(value);
}

PkeyPtr FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return nullptr;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  return PkeyPtr(pkey);
}

CryptoResult<PkeyPtr> RsaFromJwk(const PublicJwk& jwk) {
  auto n_bytes = DecodeMember(jwk.n);
  auto e_bytes = DecodeMember(jwk.e);
  if (!n_bytes || !e_bytes) return Fail(CryptoError{"RSA JWK needs base64url n and e"});
  BnPtr n = internal::BytesToBn(*n_bytes);
  BnPtr e = internal::BytesToBn(*e_bytes);
  if (!n || !e) return Fail(TakeError("RSA JWK parameters"));
  // Leading zero bytes of n or e (RFC 7518 §6.3.1.1 forbids them, some encoders write them)
  // vanish here: the numbers are what counts.
  const int n_bits = BN_num_bits(n.get());
  if (n_bits < kMinRsaBits || n_bits > kMaxRsaBits) {
    return Fail(CryptoError{"RSA JWK modulus must be 2048..4096 bits"});
  }
  if (!BN_is_odd(n.get())) return Fail(CryptoError{"RSA JWK modulus is even"});
  if (!BN_is_word(e.get(), kRsaExponent)) {
    return Fail(CryptoError{"RSA JWK exponent must be 65537 (AQAB)"});
  }
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return Fail(TakeError("building RSA parameters"));
  }
  PkeyPtr pkey = FromParams("RSA", bld.get());
  if (!pkey) return Fail(TakeError("importing RSA JWK"));
  return pkey;
}

CryptoResult<PkeyPtr> EcFromJwk(const PublicJwk& jwk, PublicKind kind) {
  const size_t width = kind == PublicKind::kEcP256 ? 32 : 48;
  auto x = DecodeMember(jwk.x);
  auto y = DecodeMember(jwk.y);
  // RFC 7518 §6.2.1.2/3 says x and y are the full coordinate size, but widespread encoders
  // (authlib 1.2, PyJWT 2.6) drop leading zero bytes, one key in 128 per coordinate. SPEC §2.2
  // rule 6: a shorter coordinate is left-padded with zeros; a longer one is refused, and the
  // point must still lie on the curve.
  if (!x || !y || x->size() > width || y->size() > width) {
    return Fail(CryptoError{"EC JWK x and y must be base64url of at most the coordinate size"});
  }
  std::string point;
  point.reserve(1 + 2 * width);
  point.push_back('\x04');  // SEC 1 §2.3.3 uncompressed point
  point.append(width - x->size(), '\0');
  point += *x;
  point.append(width - y->size(), '\0');
  point += *y;
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  const char* group = kind == PublicKind::kEcP256 ? "P-256" : "P-384";
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return Fail(TakeError("building EC parameters"));
  }
  PkeyPtr pkey = FromParams("EC", bld.get());
  if (!pkey) return Fail(TakeError("importing EC JWK"));
  // The point must lie on the curve (and not be the identity).
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return Fail(TakeError("EC JWK point is not on the curve"));
  }
  return pkey;
}

CryptoResult<PkeyPtr> Ed25519FromJwk(const PublicJwk& jwk) {
  auto x = DecodeMember(jwk.x);
  if (!x || x->size() != 32 || !jwk.y.empty()) {  // RFC 8037 §2: no "y" for OKP
    return Fail(CryptoError{"Ed25519 JWK x must be base64url of 32 octets"});
  }
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, Bytes(*x), x->size()));
  if (!pkey) return Fail(TakeError("importing Ed25519 JWK"));
  return pkey;
}

// DER ECDSA-Sig-Value from JOSE r||s (RFC 7518 §3.4); nullopt if r or s cannot be encoded.
std::optional<std::string> JoseToDer(std::string_view rs, size_t width) {
  BnPtr r = internal::BytesToBn(rs.substr(0, width));
  BnPtr s = internal::BytesToBn(rs.substr(width, width));
  if (!r || !s) return std::nullopt;
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  static_cast<void>(r.release());  // owned by sig now
  static_cast<void>(s.release());
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

struct PublicKey::Impl {
  PkeyPtr pkey;
  PublicKind kind;
  std::string alg;  // the only alg Verify() accepts, when the JWK named one
};

PublicKey::PublicKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PublicKey::~PublicKey() = default;
const EVP_PKEY* PublicKey::Native() const { return impl_->pkey.get(); }

CryptoResult<std::shared_ptr<const PublicKey>> PublicKey::FromJwk(const PublicJwk& jwk) {
  PublicKind kind;
  if (jwk.kty == "RSA") {
    kind = PublicKind::kRsa;
  } else if (jwk.kty == "EC" && jwk.crv == "P-256") {
    kind = PublicKind::kEcP256;
  } else if (jwk.kty == "EC" && jwk.crv == "P-384") {
    kind = PublicKind::kEcP384;
  } else if (jwk.kty == "OKP" && jwk.crv == "Ed25519") {
    kind = PublicKind::kEd25519;
  } else {
    return Fail(CryptoError{"unsupported JWK kty/crv"});
  }
  if (!jwk.alg.empty()) {
    auto spec = LookUpAlg(jwk.alg);
    if (!spec || spec->kind != kind) return Fail(CryptoError{"JWK alg does not suit its key"});
  }
  CryptoResult<PkeyPtr> pkey = kind == PublicKind::kRsa       ? RsaFromJwk(jwk)
                               : kind == PublicKind::kEd25519 ? Ed25519FromJwk(jwk)
                                                              : EcFromJwk(jwk, kind);
  if (!pkey) return Fail(std::move(pkey).error());
  auto impl = std::make_unique<Impl>();
  impl->pkey = std::move(*pkey);
  impl->kind = kind;
  impl->alg = jwk.alg;
  return std::shared_ptr<const PublicKey>(new PublicKey(std::move(impl)));
}

bool PublicKey::Verify(std::string_view alg, std::string_view signing_input,
                       std::string_view signature) const {
  const auto spec = LookUpAlg(alg);
  if (!spec || spec->kind != impl_->kind) return false;
  if (!impl_->alg.empty() && !SameAlg(impl_->alg, alg)) return false;

  std::string der;
  if (spec->ec_coordinate != 0) {
    if (signature.size() != 2 * spec->ec_coordinate) return false;
    auto converted = JoseToDer(signature, spec->ec_coordinate);
    if (!converted) {
      internal::ClearErrors();
      return false;
    }
    der = std::move(*converted);
    signature = der;
  } else if (spec->kind == PublicKind::kEd25519) {
    if (signature.size() != 64) return false;
  } else if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(impl_->pkey.get()))) {
    return false;  // RFC 8017 §8.2.2 step 1
  }

  const EVP_MD* md = spec->md ? FetchedMd(*spec->md) : nullptr;
  if (spec->md && md == nullptr) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, impl_->pkey.get()) == 1;
  if (ok && spec->pss) {
    // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output.
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  } else if (ok && spec->kind == PublicKind::kRsa) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  }
  ok = ok && EVP_DigestVerify(ctx.get(), Bytes(signature), signature.size(), Bytes(signing_input),
                              signing_input.size()) == 1;
  if (!ok) internal::ClearErrors();
  return ok;
}

}  // namespace tollgate::crypto
