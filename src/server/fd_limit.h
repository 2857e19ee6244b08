#pragma once
// The process's file-descriptor limit (RLIMIT_NOFILE) and the share of it client connections
// may take (issue 10: with every descriptor taken, nothing else works, /healthz included).

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/result.h"

namespace tollgate::server {

struct FdLimit {
  uint64_t initial_soft = 0;  // the soft limit the process started with
  uint64_t soft = 0;          // the soft limit in force now
  uint64_t hard = 0;
};

// Raises the soft RLIMIT_NOFILE to the hard limit, which needs no privilege. Returns the
// limits before and after; a one-line error when getrlimit or setrlimit fails (the limit is
// then unchanged).
Result<FdLimit, std::string> RaiseFdLimit();

// Descriptors held back from client connections, for everything else the process opens:
// stdin, stdout and stderr (the log), the listener, the signal pipe, the store (SQLite: the
// database, its WAL and shared memory; PostgreSQL: 4 pooled connections and one LISTEN
// connection), the outbound fetch pool (4 fetches at once, each with its own event loop,
// resolver and socket) and files opened briefly (CA certificates, /etc/hosts, resolv.conf):
// kFdReserveBase in all, with room to spare; plus an epoll, an eventfd and a timerfd per I/O
// thread.
inline constexpr uint64_t kFdReserveBase = 64;
inline constexpr uint64_t kFdReservePerIoThread = 3;
// The default limit never goes below this, however low the descriptor limit is.
inline constexpr size_t kMinConnections = 16;

uint64_t FdReserve(int io_threads);

// The default --max-connections: `soft` minus FdReserve(io_threads), at least kMinConnections.
size_t DefaultMaxConnections(uint64_t soft, int io_threads);

}  // namespace tollgate::server
