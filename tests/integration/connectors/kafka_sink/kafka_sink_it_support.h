// Helpers shared by the KafkaSink metrics and rescaling integration tests: a checkpointed
// source that emits one burst per epoch, a job's names and checkpoint directory, the control
// topic clean-up, a string sink builder, and read_committed counts of a topic.
#pragma once

#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/sluice.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "kafka_test_env.h"

namespace sluice::testing::sink_it {

// Emits `bursts` bursts of `per_burst` values (burst b: b*per_burst ... ; every `empty_every`-th
// burst is empty when > 0). After each burst it waits until a checkpoint taken after that
// burst has completed, so each epoch holds one burst; after the last it waits once more, so the
// last burst is committed by a periodic checkpoint, not only by the job's final one. Its
// position is checkpointed.
class BurstSource final : public RichSourceFunction<int64_t>,
                          public CheckpointedFunction,
                          public CheckpointListener {
 public:
  BurstSource(int64_t bursts, int64_t per_burst, int64_t empty_every = 0)
      : bursts_(bursts), per_burst_(per_burst), empty_every_(empty_every) {}
  BurstSource(const BurstSource& other)
      : RichSourceFunction<int64_t>(),
        bursts_(other.bursts_),
        per_burst_(other.per_burst_),
        empty_every_(other.empty_every_) {}
  void Open() override {
    state_ = &GetRuntimeContext().GetOperatorListState(ListStateDescriptor<int64_t>("burst"));
    for (int64_t b : state_->Get()) burst_ = b;
  }
  void Run(SourceContext<int64_t>& ctx) override {
    while (running_) {
      if (burst_ < bursts_) {
        std::lock_guard lock(ctx.GetCheckpointLock());
        bool empty = empty_every_ > 0 && burst_ % empty_every_ == empty_every_ - 1;
        if (!empty) {
          for (int64_t i = 0; i < per_burst_; ++i) ctx.Collect(burst_ * per_burst_ + i);
        }
        ++burst_;
      }
      int64_t emitted;
      {
        std::lock_guard lock(ctx.GetCheckpointLock());
        emitted = burst_;
      }
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return covered_ >= emitted || !running_; });
      if (emitted >= bursts_) return;
    }
  }
  void Cancel() override {
    running_ = false;
    cv_.notify_all();
  }
  void SnapshotState(CheckpointId id) override {
    state_->Update({burst_});
    std::lock_guard lock(mutex_);
    taken_[id.value()] = burst_;
  }
  void NotifyCheckpointComplete(CheckpointId id) override {
    std::lock_guard lock(mutex_);
    if (auto it = taken_.find(id.value()); it != taken_.end())
      covered_ = std::max(covered_, it->second);
    cv_.notify_all();
  }

 private:
  int64_t bursts_, per_burst_, empty_every_;
  int64_t burst_ = 0;
  ListState<int64_t>* state_ = nullptr;
  std::atomic<bool> running_{true};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<int64_t, int64_t> taken_;
  int64_t covered_ = 0;
};

// Sends every record to partition 5, which a one-partition topic does not have.
struct SinkJob {
  std::string prefix = UniqueName("sink-txn");
  std::string name = UniqueName("sink-job");
  std::filesystem::path checkpoints =
      std::filesystem::temp_directory_path() / UniqueName("sink-chk");
  ~SinkJob() {
    // The control topic and the state changelogs ("<prefix>.<uid>.changelog").
    DeleteTopicsWithPrefix(prefix + ".");
    std::error_code ignored;
    std::filesystem::remove_all(checkpoints, ignored);
  }
  std::string control_topic() const { return prefix + ".sluice-control"; }
};

/// A KafkaSink of strings (value only) to `topic`; throws when Build() refuses it.
inline std::shared_ptr<const kafka::KafkaSink<std::string>> StringSink(
    const std::string& topic, kafka::DeliveryGuarantee guarantee, const std::string& prefix,
    const std::map<std::string, std::string>& properties = {}) {
  auto builder = kafka::KafkaSink<std::string>::Builder();
  builder.SetBootstrapServers(BootstrapServers())
      .SetRecordSerializer(kafka::KafkaRecordSerializationSchema<std::string>::Builder()
                               .SetTopic(topic)
                               .SetValueSerializationSchema(kafka::SimpleStringSchema())
                               .Build())
      .SetDeliveryGuarantee(guarantee)
      .SetProperties(properties);
  if (guarantee == kafka::DeliveryGuarantee::kExactlyOnce) builder.SetTransactionalIdPrefix(prefix);
  auto sink = builder.Build();
  if (!sink.ok()) throw std::runtime_error(sink.status().ToString());
  return *sink;
}

/// Value -> how many times it is in `topic`, read with `isolation` (read_committed unless told).
inline std::map<std::string, int> CountStrings(const std::string& topic, int partitions,
                                               const std::string& isolation = "read_committed") {
  std::map<std::string, int> counts;
  for (const Record& r : ReadToEnd(topic, partitions, {{"isolation.level", isolation}})) {
    if (r.value) ++counts[*r.value];
  }
  return counts;
}

}  // namespace sluice::testing::sink_it
