#include "common/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tollgate {
namespace {

void KernelRandom(uint8_t* out, size_t n) {
  while (n > 0) {
    ssize_t got = getrandom(out, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::abort();  // no entropy source: nothing safe can be done
    }
    out += got;
    n -= static_cast<size_t>(got);
  }
}

struct Pool {
  uint8_t bytes[4096];
  size_t used = sizeof(bytes);
};

}  // namespace

void FillRandom(uint8_t* out, size_t n) {
  thread_local Pool pool;
  if (n > sizeof(pool.bytes) / 4) {
    KernelRandom(out, n);
    return;
  }
  if (pool.used + n > sizeof(pool.bytes)) {
    KernelRandom(pool.bytes, sizeof(pool.bytes));
    pool.used = 0;
  }
  std::memcpy(out, pool.bytes + pool.used, n);
  std::memset(pool.bytes + pool.used, 0, n);  // a byte is handed out once
  pool.used += n;
}

std::string RandomString(size_t length, std::string_view alphabet) {
  const size_t size = alphabet.size();
  const size_t limit = 256 - (256 % size);  // reject bytes that would bias the modulo
  std::string out;
  out.reserve(length);
  uint8_t buf[64];
  while (out.size() < length) {
    FillRandom(buf, sizeof(buf));
    for (uint8_t b : buf) {
      if (b >= limit) continue;
      out.push_back(alphabet[b % size]);
      if (out.size() == length) break;
    }
  }
  return out;
}

}  // namespace tollgate
