#pragma once
// TEST-ONLY: published JOSE test keys and a minimal DER writer that turns their JWK members into
// PKCS#8 PEM, so the tests import the exact RFC keys without any OpenSSL call of their own
// (RFC 5208 PrivateKeyInfo; RFC 8017 A.1.2 RSAPrivateKey; RFC 5915 ECPrivateKey; RFC 8410 §7).
// Header-only; never include it from production code.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "common/base64.h"

namespace tollgate::crypto::testing {

// RFC 7515 Appendix A.1: HS256 key (JWK "k") and the example JWS.
inline constexpr std::string_view kRfc7515HmacKey =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
inline constexpr std::string_view kRfc7515HmacSigningInput =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q";
inline constexpr std::string_view kRfc7515HmacSignature =
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

// The JWS Payload shared by RFC 7515 A.1-A.3 (note the CRLFs and leading spaces).
inline constexpr std::string_view kRfc7515Payload =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

// RFC 7515 Appendix A.2: the RSA key and the RS256 example.
struct RsaJwkMembers {
  std::string_view n, e, d, p, q, dp, dq, qi;
};
inline constexpr RsaJwkMembers kRfc7515RsaKey = {
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4"
    "d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rex"
    "MdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFv"
    "UK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
    "AQAB",
    "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXO"
    "oAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51g"
    "fpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccP"
    "DVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
    "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJ"
    "dTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
    "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD"
    "_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
    "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6"
    "HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
    "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaH"
    "F-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
    "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YI"
    "Bi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
};
inline constexpr std::string_view kRfc7515Rs256SigningInput =
    "eyJhbGciOiJSUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q";
inline constexpr std::string_view kRfc7515Rs256Signature =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5j"
    "ujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L"
    "07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEU"
    "ipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

// RFC 7515 Appendix A.3: the P-256 key and the ES256 example (ECDSA is randomized, so this
// signature can only be verified, not reproduced).
inline constexpr std::string_view kRfc7515EcX = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
inline constexpr std::string_view kRfc7515EcY = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
inline constexpr std::string_view kRfc7515EcD = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
inline constexpr std::string_view kRfc7515Es256SigningInput =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q";
inline constexpr std::string_view kRfc7515Es256Signature =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 8037 Appendix A.1-A.4: the Ed25519 key and the EdDSA example (deterministic).
inline constexpr std::string_view kRfc8037D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
inline constexpr std::string_view kRfc8037X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
inline constexpr std::string_view kRfc8037Payload = "Example of Ed25519 signing";
inline constexpr std::string_view kRfc8037SigningInput =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
inline constexpr std::string_view kRfc8037Signature =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// ---- Minimal DER writer (definite lengths, short values only) ----

inline std::string DerLength(size_t n) {
  std::string out;
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xFF) {
    out.push_back('\x81');
    out.push_back(static_cast<char>(n));
  } else {
    out.push_back('\x82');
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  }
  return out;
}

inline std::string Tlv(uint8_t tag, std::string_view content) {
  std::string out(1, static_cast<char>(tag));
  out += DerLength(content.size());
  out += content;
  return out;
}

inline std::string Sequence(std::initializer_list<std::string> items) {
  std::string content;
  for (const auto& item : items) content += item;
  return Tlv(0x30, content);
}

// INTEGER from unsigned big-endian bytes (minimal, with a 0x00 when the top bit is set).
inline std::string DerUInt(std::string_view bytes) {
  while (bytes.size() > 1 && bytes.front() == '\0') bytes.remove_prefix(1);
  std::string content;
  if (bytes.empty() || (static_cast<uint8_t>(bytes.front()) & 0x80) != 0) content.push_back('\0');
  content += bytes;
  return Tlv(0x02, content);
}

inline std::string DerSmallInt(uint8_t v) {
  return Tlv(0x02, std::string(1, static_cast<char>(v)));
}

inline std::string B64u(std::string_view text) { return Base64UrlDecode(text).value_or(""); }

inline std::string PemFromDer(std::string_view der, std::string_view label = "PRIVATE KEY") {
  const std::string b64 = Base64Encode(der);
  std::string pem = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  pem += "-----END " + std::string(label) + "-----\n";
  return pem;
}

// PKCS#8 PrivateKeyInfo around an RSAPrivateKey (OID 1.2.840.113549.1.1.1).
inline std::string RsaPkcs8Pem(const RsaJwkMembers& k) {
  const std::string rsa = Sequence({DerSmallInt(0), DerUInt(B64u(k.n)), DerUInt(B64u(k.e)),
                                    DerUInt(B64u(k.d)), DerUInt(B64u(k.p)), DerUInt(B64u(k.q)),
                                    DerUInt(B64u(k.dp)), DerUInt(B64u(k.dq)), DerUInt(B64u(k.qi))});
  const std::string alg =
      Sequence({Tlv(0x06, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"), std::string("\x05\x00", 2)});
  return PemFromDer(Sequence({DerSmallInt(0), alg, Tlv(0x04, rsa)}));
}

// PKCS#8 around an ECPrivateKey on P-256 (id-ecPublicKey, prime256v1), with its public point.
inline std::string P256Pkcs8Pem(std::string_view d, std::string_view x, std::string_view y) {
  const std::string point = std::string("\x00\x04", 2) + B64u(x) + B64u(y);  // BIT STRING
  const std::string ec =
      Sequence({DerSmallInt(1), Tlv(0x04, B64u(d)), Tlv(0xA1, Tlv(0x03, point))});
  const std::string alg = Sequence(
      {Tlv(0x06, "\x2a\x86\x48\xce\x3d\x02\x01"), Tlv(0x06, "\x2a\x86\x48\xce\x3d\x03\x01\x07")});
  return PemFromDer(Sequence({DerSmallInt(0), alg, Tlv(0x04, ec)}));
}

// PKCS#8 around an ECPrivateKey on P-384 (secp384r1) with no public point, which OpenSSL then
// derives from the scalar: a valid key of a curve Tollgate does not sign with.
inline std::string P384Pkcs8PemWithoutPublic(std::string_view d_bytes) {
  const std::string ec = Sequence({DerSmallInt(1), Tlv(0x04, d_bytes)});
  const std::string alg = Sequence({Tlv(0x06, "\x2a\x86\x48\xce\x3d\x02\x01"),
                                    Tlv(0x06, std::string_view("\x2b\x81\x04\x00\x22", 5))});
  return PemFromDer(Sequence({DerSmallInt(0), alg, Tlv(0x04, ec)}));
}

// PKCS#8 for Ed25519 (RFC 8410 §7: OID 1.3.101.112, CurvePrivateKey OCTET STRING).
inline std::string Ed25519Pkcs8Pem(std::string_view d) {
  const std::string alg = Sequence({Tlv(0x06, "\x2b\x65\x70")});
  return PemFromDer(Sequence({DerSmallInt(0), alg, Tlv(0x04, Tlv(0x04, B64u(d)))}));
}

// DER ECDSA-Sig-Value from the JOSE r||s form.
inline std::string EcdsaJoseToDer(std::string_view rs) {
  const size_t half = rs.size() / 2;
  return Sequence({DerUInt(rs.substr(0, half)), DerUInt(rs.substr(half))});
}

}  // namespace tollgate::crypto::testing
