#pragma once
// Limits how often one call site may log (common/log.h): the first `burst` lines of a site in
// each `interval` pass, the others are counted and reported once, with the site's next line
// after the interval or through TakeSuppressed().

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/thread_annotations.h"

namespace tollgate::log {

// Sites are keyed by the address of their format string. Those are literals (fmt checks them
// at compile time), so the number of sites is bounded; past kMaxSites distinct addresses, new
// ones are not limited. `burst` is at least 1. Thread-safe; `clock` must outlive the limiter.
class RepeatLimiter {
 public:
  static constexpr size_t kMaxSites = 4096;

  RepeatLimiter(const Clock& clock, size_t burst, std::chrono::milliseconds interval);

  struct Verdict {
    bool pass = false;        // write this line
    uint64_t suppressed = 0;  // write first that this many lines of the site were left out
  };
  // An interval starts with the first line of a site after the previous one ended (or when the
  // clock went back).
  Verdict Admit(Level level, std::string_view format);

  struct Suppressed {
    Level level = Level::kInfo;  // of the site's last line
    std::string format;
    uint64_t count = 0;
  };
  // The sites with left-out lines not reported yet, with their counts; forgets the counts.
  std::vector<Suppressed> TakeSuppressed();

 private:
  struct Site {
    Level level = Level::kInfo;
    std::string format;  // a copy, for the report
    TimePoint window_start;
    uint64_t in_window = 0;
    uint64_t suppressed = 0;
  };

  const Clock& clock_;
  const size_t burst_;
  const std::chrono::milliseconds interval_;
  common::Mutex mu_;
  std::unordered_map<const char*, Site> sites_ GUARDED_BY(mu_);
};

}  // namespace tollgate::log
