#include "test_codec.h"

#include <cstdint>

namespace tollgate::storage::testing {
namespace {

constexpr std::string_view kMagic = "TC1";
constexpr size_t kTagSize = 8;

uint64_t Fnv1a(uint64_t h, std::string_view bytes) {
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Hashes the parts with a separator that cannot be confused with their contents' boundaries.
uint64_t Hash(uint8_t domain, std::string_view key, std::string_view aad, std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ULL ^ domain;
  for (std::string_view part : {key, aad, data}) {
    h = Fnv1a(h, std::to_string(part.size()));
    h = Fnv1a(h, ":");
    h = Fnv1a(h, part);
  }
  return h;
}

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string Xor(std::string_view key, std::string_view aad, std::string_view in) {
  uint64_t state = Hash(1, key, aad, "");
  std::string out(in);
  uint64_t block = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i % 8 == 0) block = SplitMix64(state);
    out[i] = static_cast<char>(static_cast<uint8_t>(out[i]) ^
                               static_cast<uint8_t>(block >> (8 * (i % 8))));
  }
  return out;
}

std::string Tag(std::string_view key, std::string_view aad, std::string_view plaintext) {
  uint64_t state = Hash(2, key, aad, plaintext);
  uint64_t t = SplitMix64(state);
  std::string out(kTagSize, '\0');
  for (size_t i = 0; i < kTagSize; ++i) out[i] = static_cast<char>(t >> (8 * i));
  return out;
}

}  // namespace

std::string TestCodec::Seal(std::string_view plaintext, std::string_view aad) const {
  std::string out(kMagic);
  out += Tag(key_, aad, plaintext);
  out += Xor(key_, aad, plaintext);
  return out;
}

std::optional<std::string> TestCodec::Open(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < kMagic.size() + kTagSize || sealed.substr(0, kMagic.size()) != kMagic) {
    return std::nullopt;
  }
  const std::string_view tag = sealed.substr(kMagic.size(), kTagSize);
  std::string plaintext = Xor(key_, aad, sealed.substr(kMagic.size() + kTagSize));
  if (Tag(key_, aad, plaintext) != tag) return std::nullopt;
  return plaintext;
}

}  // namespace tollgate::storage::testing
