#pragma once
// Logging facade: one line per event on stderr, `<RFC 3339 time> <level> <message>`.
// Never pass secrets, assertions or tokens to it. Thread-safe (one write(2) per line).
//
// Repeated lines are limited per call site (per format string): at most kRepeatBurst lines of
// one site per kRepeatInterval reach stderr at Info, Warn and Error; the others are counted,
// and the count is written once, as `"<format>" repeated <K> more times (not shown)`, before
// the site's next line after that interval, or by FlushRepeats(). A loop that fails over and
// over therefore cannot fill the disk. Debug lines are never limited.

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace tollgate::log {

enum class Level { kDebug, kInfo, kWarn, kError };

inline constexpr size_t kRepeatBurst = 20;
inline constexpr std::chrono::milliseconds kRepeatInterval{1000};

void SetLevel(Level level);
bool Enabled(Level level);
void Write(Level level, std::string_view message);
// True when a line of the call site whose format string is `format` may be written now (see
// above). Writes the site's pending repeat count first when its interval has passed.
bool Admit(Level level, std::string_view format);
// Writes the repeat counts not written yet (at exit, so that the last burst is accounted for).
void FlushRepeats();

namespace internal {
inline std::string_view FormatOf(fmt::string_view f) { return {f.data(), f.size()}; }
}  // namespace internal

template <class... Args>
void Info(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kInfo) && Admit(Level::kInfo, internal::FormatOf(f))) {
    Write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void Warn(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kWarn) && Admit(Level::kWarn, internal::FormatOf(f))) {
    Write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void Error(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kError) && Admit(Level::kError, internal::FormatOf(f))) {
    Write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
  }
}
template <class... Args>
void Debug(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}

// A caller-controlled value (a header, a claim, a form field) for a log line: at most its
// first 64 bytes, then "...(N bytes)" when it was longer, so that a client cannot fill the log
// with one request.
std::string Clip(std::string_view value);

}  // namespace tollgate::log
