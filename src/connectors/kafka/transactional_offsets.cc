#include "connectors/kafka/transactional_offsets.h"

#include <mutex>
#include <set>
#include <sstream>

namespace sluice::kafka::internal {
namespace {

std::mutex g_mutex;

std::string Trim(const std::string& s) {
  size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  size_t end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

std::string ClusterKey(const std::string& bootstrap_servers) {
  std::set<std::string> hosts;
  std::stringstream in(bootstrap_servers);
  std::string host;
  while (std::getline(in, host, ',')) {
    std::string trimmed = Trim(host);
    if (!trimmed.empty()) hosts.insert(trimmed);
  }
  std::string key;
  for (const std::string& h : hosts) key += (key.empty() ? "" : ",") + h;
  return key;
}

TransactionalOffsets& TransactionalOffsets::Instance() {
  static TransactionalOffsets instance;
  return instance;
}

void TransactionalOffsets::Subscribe(const std::string& job_name, const std::string& cluster_key) {
  std::lock_guard lock(g_mutex);
  subscriptions_[{job_name, cluster_key}] = Subscription{};
}

void TransactionalOffsets::Unsubscribe(const std::string& job_name,
                                       const std::string& cluster_key) {
  std::lock_guard lock(g_mutex);
  subscriptions_.erase({job_name, cluster_key});
}

bool TransactionalOffsets::Publish(const std::string& job_name, const std::string& cluster_key,
                                   CheckpointId id, const std::string& group,
                                   const std::map<TopicPartition, int64_t>& offsets) {
  std::lock_guard lock(g_mutex);
  auto it = subscriptions_.find({job_name, cluster_key});
  if (it == subscriptions_.end()) return false;
  std::map<TopicPartition, int64_t>& merged = it->second.by_checkpoint[id.value()][group];
  for (const auto& [tp, offset] : offsets) merged[tp] = offset;
  return true;
}

TransactionalOffsets::GroupOffsets TransactionalOffsets::Take(const std::string& job_name,
                                                              const std::string& cluster_key,
                                                              CheckpointId id) {
  std::lock_guard lock(g_mutex);
  auto it = subscriptions_.find({job_name, cluster_key});
  if (it == subscriptions_.end()) return {};
  auto& by_checkpoint = it->second.by_checkpoint;
  GroupOffsets taken;
  if (auto found = by_checkpoint.find(id.value()); found != by_checkpoint.end())
    taken = std::move(found->second);
  by_checkpoint.erase(by_checkpoint.begin(), by_checkpoint.upper_bound(id.value()));
  return taken;
}

}  // namespace sluice::kafka::internal
