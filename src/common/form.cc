#include "common/form.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <functional>

namespace tollgate {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3Fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

std::optional<std::string> FormDecode(std::string_view text) {
  std::string out(text.size(), '\0');  // decoding never grows the text
  char* o = out.data();
  bool ascii = true;  // only bytes below 0x80 so far: valid UTF-8 without a second pass
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = HexValue(text[i + 1]);
      int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return std::nullopt;
    ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    *o++ = c;
  }
  out.resize(static_cast<size_t>(o - out.data()));
  if (!ascii && !IsValidUtf8(out)) return std::nullopt;
  return out;
}

Result<FormPairs, FormError> ParseForm(std::string_view body, size_t max_pairs) {
  FormPairs out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view pair = body.substr(start, amp - start);
    if (!pair.empty()) {
      if (out.size() == max_pairs) return Fail(FormError::kTooManyPairs);
      size_t eq = pair.find('=');
      auto name = FormDecode(pair.substr(0, eq));
      auto value =
          FormDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!name || !value) return Fail(FormError::kMalformed);
      out.emplace_back(std::move(*name), std::move(*value));
    }
    start = amp + 1;
  }
  return out;
}

bool HasDuplicateName(const FormPairs& form, std::span<const std::string_view> may_repeat) {
  auto repeats = [may_repeat](std::string_view name) {
    return std::find(may_repeat.begin(), may_repeat.end(), name) != may_repeat.end();
  };
  // A handful of pairs (every real request): comparing each with the others is cheapest.
  constexpr size_t kSmall = 8;
  if (form.size() <= kSmall) {
    for (size_t i = 0; i < form.size(); ++i) {
      if (repeats(form[i].first)) continue;
      for (size_t j = i + 1; j < form.size(); ++j) {
        if (form[j].first == form[i].first) return true;
      }
    }
    return false;
  }
  // Otherwise an open-addressing set of names on the stack, at most half full.
  constexpr size_t kSlots = 2 * kMaxFormPairs;
  std::array<const std::string*, kSlots> small{};
  std::vector<const std::string*> large;
  const size_t slots = form.size() <= kMaxFormPairs ? kSlots : std::bit_ceil(2 * form.size());
  if (slots > kSlots) large.resize(slots);
  const std::string** table = slots > kSlots ? large.data() : small.data();
  const std::hash<std::string_view> hash;
  for (const auto& [name, value] : form) {
    if (repeats(name)) continue;
    size_t i = hash(name) & (slots - 1);
    for (; table[i] != nullptr; i = (i + 1) & (slots - 1)) {
      if (*table[i] == name) return true;
    }
    table[i] = &name;
  }
  return false;
}

namespace {

// RFC 8259 §7: the characters a JSON string must escape (controls, quote, backslash).
constexpr std::array<bool, 256> MakeEscapeTable() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<size_t>(c)] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}
constexpr auto kNeedsEscape = MakeEscapeTable();

}  // namespace

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the characters not appended yet, which need no escape
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!kNeedsEscape[c]) continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

void AppendDecimal(std::string& out, int64_t value) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof(buf), value).ptr;
  out.append(buf, static_cast<size_t>(end - buf));
}

}  // namespace tollgate
