#pragma once
// The keys behind PRIVATE_KEY_JWT applications' `jwksUrl` (SPEC §2.2): fetched off the I/O
// threads, cached with a TTL, refetched at most once per interval when an unknown `kid` arrives,
// bounded in entries, in document size and in time (the fetcher's limits).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"
#include "jwt/jwk_set.h"

namespace tollgate::oauth {

struct RemoteJwksPolicy {
  std::chrono::seconds ttl{300};                  // a fetched set is fresh this long
  std::chrono::seconds min_refetch_interval{10};  // between two fetches of one URL
  std::chrono::seconds max_stale{3600};           // a set this old is still used while fetches fail
  size_t max_urls = 1024;                         // cached URLs; the least recently used is dropped
};

class RemoteJwks {
 public:
  // GETs a URL and returns the body, or a reason (for the log). It blocks, within its own
  // time and size limits; it is only called off the I/O threads.
  using Fetcher = std::function<Result<std::string, std::string>(const std::string& url)>;

  RemoteJwks(Fetcher fetcher, const Clock& clock, RemoteJwksPolicy policy = {});

  enum class Outcome {
    kOk,          // `keys` is the URL's set (fresh, or stale within max_stale)
    kWouldBlock,  // a fetch is due and `may_block` was false: ask again off the I/O thread
    kFailed,      // no usable set: the fetch failed, or `kid` is unknown and a refetch is not due
  };
  struct Answer {
    Outcome outcome = Outcome::kFailed;
    std::shared_ptr<const jwt::JwkSet> keys;
    std::string debug;  // for the log
  };

  // The set of `url` for verifying an assertion with `kid` (empty: no kid). Uses the cached set
  // when it is fresh and knows `kid`; otherwise fetches (when allowed by the interval), which
  // needs `may_block`. Concurrent callers for one URL share one fetch. Thread-safe.
  Answer Get(const std::string& url, std::string_view kid, bool may_block);

 private:
  struct Entry {
    std::shared_ptr<const jwt::JwkSet> keys;
    TimePoint fetched_at{};    // of `keys`
    TimePoint last_attempt{};  // of the last fetch, successful or not
    bool attempted = false;
    bool in_flight = false;
    TimePoint last_used{};
    std::string last_error;
  };

  Answer FromEntry(const Entry& e, std::string_view kid, TimePoint now) const;
  void EvictIfFull();

  Fetcher fetcher_;
  const Clock& clock_;
  RemoteJwksPolicy policy_;
  std::mutex mu_;
  std::condition_variable fetched_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
};

}  // namespace tollgate::oauth
