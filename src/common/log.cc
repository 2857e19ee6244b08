#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "common/clock.h"

namespace tollgate::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
constexpr std::string_view kNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};
}  // namespace

void SetLevel(Level level) { g_level = level; }
bool Enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void Write(Level level, std::string_view message) {
  std::string line =
      fmt::format("{} {} ", FormatRfc3339(SystemClock().Now()), kNames[static_cast<int>(level)]);
  // One event, one line: control characters from untrusted input cannot forge lines.
  for (char c : message) line.push_back((static_cast<unsigned char>(c) < 0x20) ? ' ' : c);
  line.push_back('\n');
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

std::string Clip(std::string_view value) {
  constexpr size_t kMax = 64;
  if (value.size() <= kMax) return std::string(value);
  return fmt::format("{}...({} bytes)", value.substr(0, kMax), value.size());
}

}  // namespace tollgate::log
