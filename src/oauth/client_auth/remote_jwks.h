#pragma once
// The keys behind PRIVATE_KEY_JWT applications' `jwksUrl` (SPEC §2.2): fetched in the
// background, never on the caller's thread; cached with a TTL, refetched at most once per
// interval when an unknown `kid` arrives; bounded in entries, in waiting callers, in document
// size and in time (the fetcher's limits). docs/decisions/0003-outbound-fetch.md.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"
#include "common/thread_annotations.h"
#include "jwt/jwk_set.h"
#include "oauth/pending.h"

namespace tollgate::oauth {

struct RemoteJwksPolicy {
  std::chrono::seconds ttl{300};                  // a fetched set is fresh this long
  std::chrono::seconds min_refetch_interval{10};  // between two fetches of one URL
  std::chrono::seconds max_stale{3600};           // a set this old is still used while fetches fail
  size_t max_urls = 1024;                         // cached URLs; the least recently used is dropped
  size_t max_waiters_per_url = 256;               // callers waiting for one URL's fetch
  size_t max_waiters = 1024;                      // callers waiting for any fetch
};

class RemoteJwks {
 public:
  // GETs a URL and returns the body, or a reason (for the log). It blocks, within its own
  // time and size limits; it is only called from a job given to the Launcher.
  using Fetcher = std::function<Result<std::string, std::string>(const std::string& url)>;
  // Runs a job on a thread that may block for the fetcher's time limit: never an I/O thread and
  // never a pool that other requests need. Every job given to it must run, once, while this
  // object lives. Thread-safe. A launcher that runs the job at once, on the calling thread,
  // makes Get() answer synchronously (unit tests).
  using Launcher = std::function<void(std::function<void()> job)>;

  RemoteJwks(Fetcher fetcher, Launcher launch, const Clock& clock, RemoteJwksPolicy policy = {});

  enum class Outcome {
    kOk,       // `keys` is the URL's set (fresh, or stale within max_stale)
    kPending,  // the set is being fetched: wait with `pending`, then ask again
    kFailed,   // no usable set: the fetch failed, or `kid` is unknown and a refetch is not due
    kBusy,     // a fetch is in flight and too many callers already wait (the policy's limits)
  };
  struct Answer {
    Outcome outcome = Outcome::kFailed;
    std::shared_ptr<const jwt::JwkSet> keys;
    std::string debug;               // for the log
    std::optional<Pending> pending;  // kPending only; holds one waiter slot while it lives
  };

  // The set of `url` for verifying an assertion with `kid` (empty: no kid). Uses the cached set
  // when it is fresh and knows `kid`; otherwise starts a fetch (when allowed by the interval;
  // one per URL at a time, shared by every caller) through the Launcher and answers kPending.
  // Never blocks on the network and never waits for a fetch. Thread-safe.
  Answer Get(const std::string& url, std::string_view kid);

  struct Stats {
    uint64_t fetches = 0;        // fetches started
    uint64_t failures = 0;       // fetches that ended without a usable JWK Set
    uint64_t waits_refused = 0;  // kBusy answers
    uint64_t waiting = 0;        // waiter slots held now
  };
  Stats stats() const;

 private:
  struct Entry {  // every field guarded by mu_
    std::shared_ptr<const jwt::JwkSet> keys;
    TimePoint fetched_at{};    // of `keys`
    TimePoint last_attempt{};  // of the last fetch, successful or not
    bool attempted = false;
    std::shared_ptr<Flight> flight;                       // the fetch in flight, if any
    std::shared_ptr<std::atomic<size_t>> flight_waiters;  // slots held for `flight`
    TimePoint last_used{};
    std::string last_error;
  };

  Answer FromEntry(const Entry& e, std::string_view kid, TimePoint now) const REQUIRES(mu_);
  Answer Wait(const Entry& e) REQUIRES(mu_);
  void EvictIfFull() REQUIRES(mu_);
  // The launched job: fetches, stores the outcome in `e`, ends `flight`.
  void RunFetch(const std::string& url, const std::shared_ptr<Entry>& e,
                const std::shared_ptr<Flight>& flight);

  Fetcher fetcher_;
  Launcher launch_;
  const Clock& clock_;
  RemoteJwksPolicy policy_;
  mutable common::Mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_ GUARDED_BY(mu_);
  uint64_t fetches_ GUARDED_BY(mu_) = 0;
  uint64_t fetch_failures_ GUARDED_BY(mu_) = 0;
  uint64_t waits_refused_ GUARDED_BY(mu_) = 0;
  // Slots held by every Pending handed out; shared with them, so it outlives none of them.
  std::shared_ptr<std::atomic<size_t>> waiting_ = std::make_shared<std::atomic<size_t>>(0);
};

}  // namespace tollgate::oauth
