#pragma once
// Cryptographically secure random bytes from the kernel (getrandom(2)), buffered per thread.
// Used for IDs, token `jti`s and generated secrets. Thread-safe; never fails (aborts the
// process if the kernel cannot supply randomness, which only happens on a broken system).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tollgate {

void FillRandom(uint8_t* out, size_t n);

// `length` characters drawn uniformly from `alphabet` (at most 256 characters), by rejection
// sampling so that no character is favoured.
std::string RandomString(size_t length, std::string_view alphabet);

}  // namespace tollgate
