// Digests, HMAC and the CSPRNG.

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>
#include <cstdlib>

#include "common/constant_time.h"
#include "crypto/keys.h"
#include "crypto/ossl_util.h"

namespace tollgate::crypto {

using internal::Bytes;
using internal::FetchedMd;
using internal::Md;
using internal::MutableBytes;

namespace {

std::string Digest(Md which, std::string_view data) {
  const EVP_MD* md = FetchedMd(which);
  if (md == nullptr) return {};
  std::string out(static_cast<size_t>(EVP_MD_get_size(md)), '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), MutableBytes(out), &len, md, nullptr) != 1 ||
      len != out.size()) {
    internal::ClearErrors();
    return {};
  }
  return out;
}

std::optional<Md> HmacMd(int bits) {
  switch (bits) {
    case 256:
      return Md::kSha256;
    case 384:
      return Md::kSha384;
    case 512:
      return Md::kSha512;
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string Sha1(std::string_view data) { return Digest(Md::kSha1, data); }

std::string Sha256(std::string_view data) { return Digest(Md::kSha256, data); }

std::string Hmac(int bits, std::string_view key, std::string_view data) {
  const auto which = HmacMd(bits);
  if (!which || key.size() > INT_MAX) return {};
  const EVP_MD* md = FetchedMd(*which);
  if (md == nullptr) return {};
  std::string out(static_cast<size_t>(EVP_MD_get_size(md)), '\0');
  unsigned int len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), Bytes(data), data.size(),
           MutableBytes(out), &len) == nullptr ||
      len != out.size()) {
    internal::ClearErrors();
    return {};
  }
  return out;
}

bool HmacVerify(int bits, std::string_view key, std::string_view data, std::string_view mac) {
  if (mac.empty()) return false;
  const std::string expected = Hmac(bits, key, data);
  if (expected.empty()) return false;
  return ConstantTimeEquals(expected, mac);
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  unsigned char* p = MutableBytes(out);
  while (n > 0) {
    const size_t chunk = n < (size_t{1} << 30) ? n : (size_t{1} << 30);
    if (RAND_bytes(p, static_cast<int>(chunk)) != 1) std::abort();  // unseeded DRBG: see header
    p += chunk;
    n -= chunk;
  }
  return out;
}

}  // namespace tollgate::crypto
