#include "crypto/ossl_util.h"

#include <openssl/err.h>

#include <array>

namespace tollgate::crypto::internal {
namespace {

constexpr size_t kMaxBnBytes = size_t{64} * 1024;

// Fetched once and deliberately never freed: signing threads may still run while static
// destructors execute at process exit.
struct FetchedAlgorithms {
  std::array<const EVP_MD*, 4> mds{};
  const EVP_CIPHER* aes_256_gcm = nullptr;

  FetchedAlgorithms() {
    mds[0] = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    mds[1] = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    mds[2] = EVP_MD_fetch(nullptr, "SHA384", nullptr);
    mds[3] = EVP_MD_fetch(nullptr, "SHA512", nullptr);
    aes_256_gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    ERR_clear_error();  // a missing algorithm shows up as nullptr where it is used
  }
};

const FetchedAlgorithms& Algorithms() {
  static const FetchedAlgorithms* const kAlgorithms = new FetchedAlgorithms();
  return *kAlgorithms;
}

}  // namespace

const EVP_MD* FetchedMd(Md md) { return Algorithms().mds[static_cast<size_t>(md)]; }

const EVP_CIPHER* FetchedAes256Gcm() { return Algorithms().aes_256_gcm; }

CryptoError TakeError(std::string_view what) {
  CryptoError error{std::string(what)};
  unsigned long code = ERR_peek_last_error();
  if (code != 0) {
    const char* reason = ERR_reason_error_string(code);
    error.message += ": ";
    error.message += reason != nullptr ? reason : "openssl error";
  }
  ERR_clear_error();
  return error;
}

void ClearErrors() { ERR_clear_error(); }

std::string BnToBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  if (!out.empty()) BN_bn2bin(bn, MutableBytes(out));
  return out;
}

bool BnToPaddedBytes(const BIGNUM* bn, size_t width, std::string& out) {
  out.assign(width, '\0');
  return BN_bn2binpad(bn, MutableBytes(out), static_cast<int>(width)) == static_cast<int>(width);
}

BnPtr BytesToBn(std::string_view bytes) {
  if (bytes.size() > kMaxBnBytes) return nullptr;
  return BnPtr(BN_bin2bn(Bytes(bytes), static_cast<int>(bytes.size()), nullptr));
}

}  // namespace tollgate::crypto::internal
