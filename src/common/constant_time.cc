#include "common/constant_time.h"

#include <cstdint>

namespace tollgate {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Always walk the longer input so that a short guess does not finish early.
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  volatile uint8_t diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    uint8_t x = i < a.size() ? static_cast<uint8_t>(a[i]) : 0;
    uint8_t y = i < b.size() ? static_cast<uint8_t>(b[i]) : 0;
    diff = static_cast<uint8_t>(diff | (x ^ y));
  }
  return diff == 0;
}

}  // namespace tollgate
