#include "connectors/kafka/partition_discovery.h"

#include "connectors/kafka/broker_offset_lookup.h"
#include "connectors/kafka/kafka_consumer.h"
#include "connectors/kafka/rdkafka_handles.h"
#include "core/log.h"

namespace sluice::kafka::internal {

PartitionDiscovery::PartitionDiscovery(rd_kafka_t* rk, std::chrono::milliseconds interval,
                                       std::chrono::milliseconds timeout,
                                       std::function<void()> wake)
    : rk_(rk), interval_(interval), timeout_(timeout), wake_(std::move(wake)), thread_([this] {
        Loop();
      }) {}

PartitionDiscovery::~PartitionDiscovery() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<std::map<std::string, int>> PartitionDiscovery::Take() {
  std::lock_guard lock(mutex_);
  std::optional<std::map<std::string, int>> out = std::move(result_);
  result_.reset();
  return out;
}

void PartitionDiscovery::Loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      // The discovery interval is a timer, not a synchronisation: stop_ ends the wait early.
      if (stop_changed_.wait_for(lock, interval_, [this] { return stop_; })) return;
    }
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk_, 1, nullptr, &md, static_cast<int>(timeout_.count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Discovery retries at the next interval; the reader keeps reading what it has.
      SLUICE_LOG_WARN("Kafka source: partition discovery could not fetch metadata: {}",
                      DescribeError(err));
      continue;
    }
    MetadataPtr metadata(md);
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      result_ = PartitionCounts(*metadata);
    }
    wake_();
  }
}

}  // namespace sluice::kafka::internal
