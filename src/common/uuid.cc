#include "common/uuid.h"

#include <array>
#include <cstdint>

#include "common/random.h"

namespace tollgate {

namespace {

std::string Format(const std::array<uint8_t, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0F]);
  }
  return out;
}

}  // namespace

std::string NewUuid() {
  std::array<uint8_t, 16> b{};
  FillRandom(b.data(), b.size());
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x40);  // RFC 9562 §5.4: version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // variant 10
  return Format(b);
}

std::string NewTimeOrderedUuid(int64_t unix_millis) {
  std::array<uint8_t, 16> b{};
  FillRandom(b.data() + 6, b.size() - 6);
  const auto ms = static_cast<uint64_t>(unix_millis);
  for (size_t i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));  // 48 bits
  b[6] = static_cast<uint8_t>((b[6] & 0x0F) | 0x70);  // RFC 9562 §5.7: version 7
  b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);  // variant 10
  return Format(b);
}

std::optional<std::string> NormalizeUuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return out;
}

}  // namespace tollgate
