#include "common/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <vector>

namespace tollgate::metrics {
namespace {

// The format's escapes: in label values backslash, double quote and line feed; in help text
// backslash and line feed.
void AppendEscaped(std::string& out, std::string_view value, bool quote) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

void TextWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  AppendEscaped(text_, help, false);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += type;
  text_ += '\n';
}

void TextWriter::Head(std::string_view name, std::span<const Label> labels) {
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    bool first = true;
    for (const auto& [key, value] : labels) {
      if (!first) text_ += ',';
      first = false;
      text_ += key;
      text_ += "=\"";
      AppendEscaped(text_, value, true);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
}

void TextWriter::Sample(std::string_view name, std::span<const Label> labels, uint64_t value) {
  Head(name, labels);
  fmt::format_to(std::back_inserter(text_), "{}\n", value);
}

void TextWriter::Sample(std::string_view name, std::span<const Label> labels, double value) {
  Head(name, labels);
  fmt::format_to(std::back_inserter(text_), "{}\n", value);
}

void Histogram::Observe(std::chrono::nanoseconds elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const auto* it = std::lower_bound(kBounds.begin(), kBounds.end(), seconds);
  if (it != kBounds.end()) {
    buckets_[static_cast<size_t>(it - kBounds.begin())].fetch_add(1, std::memory_order_relaxed);
  }
  sum_nanos_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(elapsed.count(), 0)),
                       std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::Write(TextWriter& out, std::string_view name, std::span<const Label> labels) const {
  // +Inf is the count. It is read first and caps every bucket, so that the buckets stay
  // cumulative even while other threads observe.
  const uint64_t count = count_.load(std::memory_order_relaxed);
  const double sum = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
  std::vector<Label> with_le(labels.begin(), labels.end());
  with_le.emplace_back("le", "");
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    std::string le = "+Inf";
    uint64_t value = count;
    if (i < kBounds.size()) {
      le = fmt::format("{}", kBounds[i]);
      cumulative += buckets_[i].load(std::memory_order_relaxed);
      value = std::min(cumulative, count);
    }
    with_le.back().second = le;
    out.Sample(bucket, with_le, value);
  }
  out.Sample(std::string(name) + "_sum", labels, sum);
  out.Sample(std::string(name) + "_count", labels, count);
}

}  // namespace tollgate::metrics
