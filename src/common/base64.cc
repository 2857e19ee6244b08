#include "common/base64.h"

#include <array>
#include <cstdint>

namespace tollgate {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> MakeTable(const char* alphabet) {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr auto kStdTable = MakeTable(kStd);
constexpr auto kUrlTable = MakeTable(kUrl);

// Appends the encoding of `in` to `out`: sized once, then written in place (no per-character
// capacity checks; this runs over every token's header, claims and signature).
void Encode(std::string_view in, const char* alphabet, bool pad, std::string& out) {
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  const size_t n = in.size();
  const size_t tail = n % 3;
  const size_t size = n / 3 * 4 + (tail == 0 ? 0 : (pad ? 4 : tail + 1));
  const size_t start = out.size();
  out.resize(start + size);
  char* o = out.data() + start;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    o[0] = alphabet[(v >> 18) & 63];
    o[1] = alphabet[(v >> 12) & 63];
    o[2] = alphabet[(v >> 6) & 63];
    o[3] = alphabet[v & 63];
    o += 4;
  }
  if (tail == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    *o++ = alphabet[(v >> 18) & 63];
    *o++ = alphabet[(v >> 12) & 63];
    if (pad) {
      *o++ = '=';
      *o++ = '=';
    }
  } else if (tail == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    *o++ = alphabet[(v >> 18) & 63];
    *o++ = alphabet[(v >> 12) & 63];
    *o++ = alphabet[(v >> 6) & 63];
    if (pad) *o++ = '=';
  }
}

// Decodes unpadded text; rejects a final group of one character and non-zero spare bits.
std::optional<std::string> Decode(std::string_view in, const std::array<int8_t, 256>& table) {
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out(in.size() / 4 * 3 + (in.size() % 4 == 0 ? 0 : in.size() % 4 - 1), '\0');
  const auto* p = reinterpret_cast<const uint8_t*>(in.data());
  char* o = out.data();
  const size_t full = in.size() / 4 * 4;
  for (size_t i = 0; i < full; i += 4) {
    // The table's int8_t entries are numbers, -1 for an invalid character: the sign is meant.
    // NOLINTNEXTLINE(bugprone-signed-char-misuse)
    const int a = table[p[i]], b = table[p[i + 1]], c = table[p[i + 2]], d = table[p[i + 3]];
    if ((a | b | c | d) < 0) return std::nullopt;
    const auto v = (static_cast<uint32_t>(a) << 18) | (static_cast<uint32_t>(b) << 12) |
                   (static_cast<uint32_t>(c) << 6) | static_cast<uint32_t>(d);
    *o++ = static_cast<char>(v >> 16);
    *o++ = static_cast<char>((v >> 8) & 0xFF);
    *o++ = static_cast<char>(v & 0xFF);
  }
  const size_t rest = in.size() - full;
  if (rest > 0) {
    uint32_t acc = 0;
    for (size_t i = full; i < in.size(); ++i) {
      const int v = table[p[i]];  // NOLINT(bugprone-signed-char-misuse): as above
      if (v < 0) return std::nullopt;
      acc = (acc << 6) | static_cast<uint32_t>(v);
    }
    // 2 characters carry 12 bits (1 byte + 4 spare), 3 carry 18 (2 bytes + 2 spare).
    const int spare = rest == 2 ? 4 : 2;
    if ((acc & ((1u << spare) - 1)) != 0) return std::nullopt;
    acc >>= spare;
    if (rest == 3) *o++ = static_cast<char>((acc >> 8) & 0xFF);
    *o++ = static_cast<char>(acc & 0xFF);
  }
  return out;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  Encode(bytes, kUrl, false, out);
  return out;
}

void Base64UrlEncodeTo(std::string_view bytes, std::string& out) {
  Encode(bytes, kUrl, false, out);
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  return Decode(text, kUrlTable);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  Encode(bytes, kStd, true, out);
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  return Decode(text.substr(0, text.size() - pad), kStdTable);
}

}  // namespace tollgate
