#pragma once
// Time comes from an injected Clock so tests can set `iat`/`exp` exactly.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace tollgate {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  int64_t NowSeconds() const;
};

// Wall clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// A clock that tests move by hand. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void Advance(TimePoint::duration d) { now_ += d.count(); }

 private:
  std::atomic<TimePoint::duration::rep> now_;
};

int64_t ToUnixSeconds(TimePoint t);
TimePoint FromUnixMillis(int64_t ms);
int64_t ToUnixMillis(TimePoint t);
// RFC 3339 in UTC with millisecond precision and upper-case `T` and `Z`:
// 2026-11-28T13:05:30.123Z.
std::string FormatRfc3339(TimePoint t);
// Parses RFC 3339 date-times (`Z` or a numeric offset, optional fraction); false on anything else.
bool ParseRfc3339(std::string_view text, TimePoint& out);

}  // namespace tollgate
