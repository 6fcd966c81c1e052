// Metrics of operators and connectors: counters and gauges in named groups.
//
// Thread safety: Counter is lock-free and may be updated from any thread. Registering metrics
// (MetricGroup::GetCounter, AddGauge, AddGroup) is thread-safe. Gauges are read from the
// thread that reports metrics, so a gauge function must be safe to call from another thread.
// Ownership: a MetricGroup owns its metrics and subgroups; references stay valid for the
// lifetime of the job attempt that created them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace sluice {

class Counter {
 public:
  void Inc(int64_t n = 1) noexcept { count_.fetch_add(n, std::memory_order_relaxed); }
  void Dec(int64_t n = 1) noexcept { count_.fetch_sub(n, std::memory_order_relaxed); }
  int64_t GetCount() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> count_{0};
};

class MetricGroup {
 public:
  explicit MetricGroup(std::string scope = "") : scope_(std::move(scope)) {}
  MetricGroup(const MetricGroup&) = delete;
  MetricGroup& operator=(const MetricGroup&) = delete;

  /// The counter `name` of this group, created on first use.
  Counter& GetCounter(const std::string& name);
  /// Registers (or replaces) a gauge.
  void AddGauge(const std::string& name, std::function<int64_t()> gauge);
  /// A subgroup, e.g. AddGroup("topic").AddGroup("words").AddGroup("partition").AddGroup("0").
  MetricGroup& AddGroup(const std::string& name);

  /// The dotted scope of this group, e.g. "wordcount.Map.0".
  const std::string& scope() const { return scope_; }

  /// Every metric of this group and its subgroups, by fully qualified dotted name.
  std::map<std::string, int64_t> Snapshot() const;

 private:
  std::string Qualify(const std::string& name) const;

  std::string scope_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Counter>> counters_;
  std::map<std::string, std::function<int64_t()>> gauges_;
  std::map<std::string, std::unique_ptr<MetricGroup>> groups_;
};

}  // namespace sluice
