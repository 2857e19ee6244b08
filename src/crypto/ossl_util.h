#pragma once
// Private to crypto/: RAII owners for OpenSSL objects, the digests fetched once per process,
// and the conversion of OpenSSL's error queue into a CryptoError. Nothing outside crypto/ may
// include this header (it pulls in OpenSSL).

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "crypto/keys.h"

namespace tollgate::crypto::internal {

template <auto kFree>
struct Deleter {
  template <class T>
  void operator()(T* p) const {
    kFree(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;

enum class Md { kSha1, kSha256, kSha384, kSha512 };

// The digest fetched from the default provider on first use and kept for the life of the
// process, so that no hot path pays for a provider lookup. nullptr only if the provider has no
// such digest (a broken OpenSSL installation). Thread-safe.
const EVP_MD* FetchedMd(Md md);

// The AES-256-GCM cipher, fetched once like FetchedMd().
const EVP_CIPHER* FetchedAes256Gcm();

// Drains this thread's OpenSSL error queue into a CryptoError whose message is `what`
// followed by OpenSSL's reason for the most recent error, if any. Always leaves the queue
// empty so that a stale error cannot be mistaken for a later one.
CryptoError TakeError(std::string_view what);

// Discards this thread's OpenSSL error queue (after an expected failure such as a signature
// that does not verify).
void ClearErrors();

// Unsigned big-endian bytes <-> BIGNUM.
std::string BnToBytes(const BIGNUM* bn);  // minimal length, no leading zeros
bool BnToPaddedBytes(const BIGNUM* bn, size_t width, std::string& out);  // false if too wide
BnPtr BytesToBn(std::string_view bytes);  // nullptr on allocation failure or above 64 KiB

inline const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
inline unsigned char* MutableBytes(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

}  // namespace tollgate::crypto::internal
