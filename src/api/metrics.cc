#include <sluice/api/metrics.h>

namespace sluice {

std::string MetricGroup::Qualify(const std::string& name) const {
  return scope_.empty() ? name : scope_ + "." + name;
}

Counter& MetricGroup::GetCounter(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& counter = counters_[name];
  if (counter == nullptr) counter = std::make_unique<Counter>();
  return *counter;
}

void MetricGroup::AddGauge(const std::string& name, std::function<int64_t()> gauge) {
  std::lock_guard lock(mutex_);
  gauges_[name] = std::move(gauge);
}

MetricGroup& MetricGroup::AddGroup(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& group = groups_[name];
  if (group == nullptr) group = std::make_unique<MetricGroup>(Qualify(name));
  return *group;
}

std::map<std::string, int64_t> MetricGroup::Snapshot() const {
  std::map<std::string, int64_t> out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, counter] : counters_) out[Qualify(name)] = counter->GetCount();
  for (const auto& [name, gauge] : gauges_) out[Qualify(name)] = gauge();
  for (const auto& [name, group] : groups_) {
    for (auto& [key, value] : group->Snapshot()) out[key] = value;
  }
  return out;
}

}  // namespace sluice
