#pragma once
// Logging facade: one line per event on stderr, `<RFC 3339 time> <level> <message>`.
// Never pass secrets, assertions or tokens to it. Thread-safe (one write(2) per line).

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace tollgate::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void SetLevel(Level level);
bool Enabled(Level level);
void Write(Level level, std::string_view message);

template <class... Args>
void Info(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void Warn(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void Error(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kError)) Write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
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
