// Aead: AES-256-GCM (NIST SP 800-38D) with a random 96-bit nonce per message.

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <climits>

#include "crypto/keys.h"
#include "crypto/ossl_util.h"

namespace tollgate::crypto {

using internal::Bytes;
using internal::CipherCtxPtr;
using internal::MutableBytes;

namespace {

constexpr size_t kKeySize = 32;
// EVP_*Update take int lengths; longer inputs go through in pieces of this size.
constexpr size_t kChunk = size_t{1} << 30;

// Feeds `in` through EVP_CipherUpdate into `out` (same length); false on any failure.
bool UpdateAll(EVP_CIPHER_CTX* ctx, std::string_view in, unsigned char* out) {
  while (!in.empty()) {
    const size_t n = in.size() < kChunk ? in.size() : kChunk;
    int written = 0;
    if (EVP_CipherUpdate(ctx, out, &written, Bytes(in), static_cast<int>(n)) != 1 ||
        written != static_cast<int>(n)) {
      return false;
    }
    in.remove_prefix(n);
    out += n;
  }
  return true;
}

bool AddAad(EVP_CIPHER_CTX* ctx, std::string_view aad) {
  while (!aad.empty()) {
    const size_t n = aad.size() < kChunk ? aad.size() : kChunk;
    int written = 0;
    if (EVP_CipherUpdate(ctx, nullptr, &written, Bytes(aad), static_cast<int>(n)) != 1) {
      return false;
    }
    aad.remove_prefix(n);
  }
  return true;
}

}  // namespace

CryptoResult<Aead> Aead::Create(std::string_view key) {
  if (key.size() != kKeySize) return Fail(CryptoError{"AES-256-GCM key must be 32 bytes"});
  if (internal::FetchedAes256Gcm() == nullptr) {
    return Fail(CryptoError{"AES-256-GCM is not available"});
  }
  return Aead(std::string(key));
}

Aead::~Aead() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

std::string Aead::Seal(std::string_view plaintext, std::string_view aad) const {
  const EVP_CIPHER* cipher = internal::FetchedAes256Gcm();
  if (key_.size() != kKeySize || cipher == nullptr) return {};  // moved-from
  std::string out(kNonceSize + plaintext.size() + kTagSize, '\0');
  unsigned char* nonce = MutableBytes(out);
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::array<unsigned char, 16> final_block{};  // GCM writes nothing at Final
  int final_len = 0;
  const bool ok = ctx && RAND_bytes(nonce, static_cast<int>(kNonceSize)) == 1 &&
                  EVP_EncryptInit_ex2(ctx.get(), cipher, Bytes(key_), nonce, nullptr) == 1 &&
                  AddAad(ctx.get(), aad) && UpdateAll(ctx.get(), plaintext, nonce + kNonceSize) &&
                  EVP_EncryptFinal_ex(ctx.get(), final_block.data(), &final_len) == 1 &&
                  final_len == 0 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                                      nonce + kNonceSize + plaintext.size()) == 1;
  if (!ok) {
    internal::ClearErrors();
    OPENSSL_cleanse(out.data(), out.size());
    return {};
  }
  return out;
}

std::optional<std::string> Aead::Open(std::string_view sealed, std::string_view aad) const {
  const EVP_CIPHER* cipher = internal::FetchedAes256Gcm();
  if (key_.size() != kKeySize || cipher == nullptr || sealed.size() < kOverhead) {
    return std::nullopt;
  }
  const std::string_view nonce = sealed.substr(0, kNonceSize);
  const std::string_view ciphertext = sealed.substr(kNonceSize, sealed.size() - kOverhead);
  std::string tag(sealed.substr(sealed.size() - kTagSize));  // the ctrl takes a mutable buffer
  std::string plaintext(ciphertext.size(), '\0');
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::array<unsigned char, 16> final_block{};  // GCM writes nothing at Final
  int final_len = 0;
  const bool ok =
      ctx && EVP_DecryptInit_ex2(ctx.get(), cipher, Bytes(key_), Bytes(nonce), nullptr) == 1 &&
      AddAad(ctx.get(), aad) && UpdateAll(ctx.get(), ciphertext, MutableBytes(plaintext)) &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                          tag.data()) == 1 &&
      // Verifies the tag; nothing decrypted is returned unless it matches.
      EVP_DecryptFinal_ex(ctx.get(), final_block.data(), &final_len) == 1 && final_len == 0;
  if (!ok) {
    internal::ClearErrors();
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return std::nullopt;
  }
  return plaintext;
}

}  // namespace tollgate::crypto
