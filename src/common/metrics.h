#pragma once
// Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/) and the two instruments /metrics
// needs beyond a plain std::atomic counter: a fixed-bucket latency histogram. Names and help texts
// are literals of the caller; label values may be anything (they are escaped).

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace tollgate::metrics {

using Label = std::pair<std::string_view, std::string_view>;  // name, value
using Labels = std::initializer_list<Label>;

// Appends metric families to a text body. Each family's samples must follow its Family() call
// (the format wants them grouped). Not thread-safe: one writer per scrape.
class TextWriter {
 public:
  // `type`: "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, std::span<const Label> labels, uint64_t value);
  void Sample(std::string_view name, std::span<const Label> labels, double value);
  void Sample(std::string_view name, Labels labels, uint64_t value) {
    Sample(name, std::span(labels.begin(), labels.size()), value);
  }
  void Sample(std::string_view name, Labels labels, double value) {
    Sample(name, std::span(labels.begin(), labels.size()), value);
  }

  std::string& text() { return text_; }

 private:
  void Head(std::string_view name, std::span<const Label> labels);
  std::string text_;
};

// A latency histogram with fixed upper bounds, in seconds (Prometheus' cumulative `le`
// buckets). Observe() is lock-free and safe from every thread; Write() reads each bucket once,
// so a scrape during updates may be off by the requests in flight, never torn within a bucket.
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5, 10};

  void Observe(std::chrono::nanoseconds elapsed);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Writes `<name>_bucket`, `<name>_sum` and `<name>_count` with `labels` (plus `le`).
  void Write(TextWriter& out, std::string_view name, std::span<const Label> labels) const;
  void Write(TextWriter& out, std::string_view name, Labels labels) const {
    Write(out, name, std::span(labels.begin(), labels.size()));
  }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size()> buckets_{};  // not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};
};

}  // namespace tollgate::metrics
