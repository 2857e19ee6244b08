#include "server/fd_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace tollgate::server {

Result<FdLimit, std::string> RaiseFdLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return Fail(std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  FdLimit out;
  out.initial_soft = out.soft = limit.rlim_cur;
  out.hard = limit.rlim_max;
  if (limit.rlim_cur == limit.rlim_max) return out;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return Fail("setrlimit(RLIMIT_NOFILE, " + std::to_string(limit.rlim_max) +
                "): " + std::strerror(errno));
  }
  out.soft = limit.rlim_max;
  return out;
}

uint64_t FdReserve(int io_threads) {
  return kFdReserveBase + kFdReservePerIoThread * static_cast<uint64_t>(std::max(io_threads, 1));
}

size_t DefaultMaxConnections(uint64_t soft, int io_threads) {
  const uint64_t reserve = FdReserve(io_threads);
  const uint64_t room = soft > reserve ? soft - reserve : 0;
  return static_cast<size_t>(
      std::clamp<uint64_t>(room, kMinConnections, std::numeric_limits<size_t>::max()));
}

}  // namespace tollgate::server
