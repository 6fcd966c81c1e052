// KafkaConsumerSource: Flink's legacy FlinkKafkaConsumer shape, used with AddSource.
//
//   sluice::kafka::Properties props{{"bootstrap.servers", "127.0.0.1:19092"}, {"group.id",
//   "test"}}; sluice::kafka::KafkaConsumerSource<std::string> consumer("input-topic",
//                                                            sluice::kafka::SimpleStringSchema(),
//                                                            props);
//   consumer.SetStartFromEarliest();
//   env->AddSource(consumer).Print();
//
// It is a RichParallelSourceFunction: AddSource copies it for every parallel instance, and each
// copy runs the same reader as KafkaSource (Flink's partition-to-subtask formula, offsets in
// checkpoints restorable at any parallelism, per-partition watermarks, discovery, the
// deserialization failure policy) on the source's own thread; Collect and the offset update
// happen under the checkpoint lock. See docs/kafka-source.md for the behaviour table.
//
// Start positions (Flink's):
//   SetStartFromGroupOffsets()   (default) the group's committed offsets; a partition without
//                                one follows auto.offset.reset (Kafka's default: latest).
//                                Without group.id: auto.offset.reset for every partition.
//   SetStartFromEarliest() / SetStartFromLatest()   committed offsets are ignored.
//   SetStartFromSpecificOffsets(map)   the next record to read per partition; a subscribed
//                                partition missing from the map falls back to the group
//                                offsets (logged as a warning); entries for partitions not
//                                subscribed are ignored; an out-of-range offset follows
//                                auto.offset.reset.
//   SetStartFromTimestamp(ms)    the first record with timestamp >= ms, else the end; throws
//                                std::invalid_argument unless 0 <= ms <= now.
//   A restore from a checkpoint or savepoint ignores the start mode.
// Commits: SetCommitOffsetsOnCheckpoints(true) (default) commits after completed checkpoints
// when checkpointing is on and group.id is set (asking for it without group.id is an error).
// Without checkpointing, Kafka's periodic auto-commit (enable.auto.commit, default true with a
// group.id) commits what was consumed.
// Properties: any librdkafka property, plus flink.partition-discovery.interval-millis
// (discovery is off unless it is set) and sluice.broker.timeout.ms /
// sluice.partition.idle.timeout.ms as for KafkaSource.
// End of stream: when the schema's IsEndOfStream(element) is true, that element is dropped,
// its record counts as read, and this subtask stops fetching (its Run returns).
//
// Thread safety: configure on one thread before AddSource. Errors: bad settings throw
// StatusException (kInvalidArgument) from Open, so the job fails with the message and is not
// restarted; run-time failures as KafkaSource's.
#pragma once

#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sluice/api/functions.h>
#include <sluice/api/source.h>
#include <sluice/api/source_function.h>
#include <sluice/api/state_participant_provider.h>
#include <sluice/api/time.h>
#include <sluice/api/watermark_strategy.h>
#include <sluice/connectors/kafka/deserialization_schema.h>
#include <sluice/connectors/kafka/detail/kafka_record_emitter.h>
#include <sluice/connectors/kafka/detail/kafka_sink_core.h>
#include <sluice/connectors/kafka/detail/kafka_source_core.h>
#include <sluice/connectors/kafka/offsets_initializer.h>
#include <sluice/connectors/kafka/properties.h>
#include <sluice/connectors/kafka/topic_partition.h>

namespace sluice::kafka {

/// A topic regular expression (whole-name match) for KafkaConsumerSource, like Java's Pattern.
struct TopicPattern {
  std::string regex;
};

namespace detail {
/// Builds the shared settings for a legacy consumer (legacy_settings.cc). Throws
/// StatusException (kInvalidArgument) naming the setting.
KafkaSourceSettings LegacySettings(KafkaSourceSettings raw, bool group_offsets,
                                   bool commit_on_checkpoints, bool commit_explicit,
                                   bool checkpointing_enabled);
}  // namespace detail

template <typename T>
class KafkaConsumerSource final : public RichParallelSourceFunction<T>,
                                  public CheckpointedFunction,
                                  public CheckpointListener,
                                  public StateParticipantProvider {
 public:
  /// With `--state.changelog=kafka` and no Kafka sink: transactions of their own on this
  /// source's cluster, named after the job (detail::StatePrefixForJob).
  Result<std::shared_ptr<CheckpointParticipant>> CreateStateParticipant(
      const SinkValidationContext& job) const override {
    return detail::AcquireStateParticipant(raw_.properties, std::nullopt, job);
  }

  template <typename S>
    requires std::derived_from<S, DeserializationSchema<T>> && std::copy_constructible<S>
  KafkaConsumerSource(std::string topic, S schema, Properties properties)
      : KafkaConsumerSource(std::vector<std::string>{std::move(topic)}, std::move(schema),
                            std::move(properties)) {}

  template <typename S>
    requires std::derived_from<S, DeserializationSchema<T>> && std::copy_constructible<S>
  KafkaConsumerSource(std::vector<std::string> topics, S schema, Properties properties)
      : schema_(Factory(std::move(schema))) {
    raw_.topics = std::move(topics);
    raw_.subscriptions_set = 1;
    Init(std::move(properties));
  }

  template <typename S>
    requires std::derived_from<S, DeserializationSchema<T>> && std::copy_constructible<S>
  KafkaConsumerSource(TopicPattern pattern, S schema, Properties properties)
      : schema_(Factory(std::move(schema))) {
    raw_.topic_pattern = std::move(pattern.regex);
    raw_.subscriptions_set = 1;
    Init(std::move(properties));
  }

  KafkaConsumerSource& SetStartFromGroupOffsets() {
    group_offsets_ = true;
    return *this;
  }
  KafkaConsumerSource& SetStartFromEarliest() { return Start(OffsetsInitializer::Earliest()); }
  KafkaConsumerSource& SetStartFromLatest() { return Start(OffsetsInitializer::Latest()); }
  KafkaConsumerSource& SetStartFromSpecificOffsets(std::map<TopicPartition, int64_t> offsets) {
    return Start(OffsetsInitializer::Offsets(std::move(offsets), OffsetResetStrategy::kLatest));
  }
  /// Throws std::invalid_argument unless 0 <= timestamp_ms <= now.
  KafkaConsumerSource& SetStartFromTimestamp(int64_t timestamp_ms) {
    if (timestamp_ms < 0 || timestamp_ms > CurrentTimeMillis()) {
      throw std::invalid_argument("KafkaConsumerSource::SetStartFromTimestamp(" +
                                  std::to_string(timestamp_ms) +
                                  "): the timestamp must be >= 0 and not in the future");
    }
    return Start(OffsetsInitializer::Timestamp(timestamp_ms));
  }
  KafkaConsumerSource& SetCommitOffsetsOnCheckpoints(bool commit) {
    commit_on_checkpoints_ = commit;
    commit_explicit_ = true;
    return *this;
  }
  /// Per-partition watermarks from `strategy` (its timestamp assigner sees the Kafka record
  /// timestamp), merged by the minimum over active partitions.
  KafkaConsumerSource& AssignTimestampsAndWatermarks(WatermarkStrategy<T> strategy) {
    strategy_ = std::move(strategy);
    return *this;
  }
  KafkaConsumerSource& SetDeserializationFailurePolicy(DeserializationFailurePolicy policy) {
    raw_.failure_policy = std::move(policy);
    return *this;
  }

  // ---- RichFunction / SourceFunction / checkpoints (runtime use) ----
  void Open() override {
    RuntimeContext& runtime = this->GetRuntimeContext();
    auto settings = std::make_shared<const detail::KafkaSourceSettings>(
        detail::LegacySettings(raw_, group_offsets_, commit_on_checkpoints_, commit_explicit_,
                               runtime.IsCheckpointingEnabled()));
    run_ = std::make_shared<RunState>();
    run_->core = detail::CreateKafkaReaderCore(settings, runtime.GetTaskInfo());
    auto schema = schema_();
    const auto& inner =
        static_cast<const detail::ValueOnlyDeserializationSchema<T>&>(*schema).inner();
    run_->emitter = std::make_unique<detail::KafkaRecordEmitter<T>>(*run_->core, std::move(schema),
                                                                    settings->failure_policy);
    run_->emitter->SetEndOfStream([&inner](const T& value) { return inner.IsEndOfStream(value); });
    run_->watermarks = strategy_.GeneratesWatermarks();
    run_->emitter->SetWatermarkStrategy(strategy_);
    run_->emitter->Open(runtime);
    run_->runtime = &runtime;
    run_->core->Open(*run_);
  }

  void Run(SourceContext<T>& ctx) override {
    RunState& run = *run_;
    LegacyOutput output(ctx);
    run.emitter->SetOutput(&output);
    int64_t next_watermark = CurrentTimeMillis() + kWatermarkIntervalMs;
    while (run.running.load()) {
      InputStatus status;
      {
        std::lock_guard guard(ctx.GetCheckpointLock());
        ServeCheckpointNotices(run);
        status = run.core->PollNext(*run.emitter);
        if (run.watermarks && CurrentTimeMillis() >= next_watermark) {
          run.core->EmitPeriodicWatermark(*run.emitter);
          next_watermark = CurrentTimeMillis() + kWatermarkIntervalMs;
        }
      }
      if (status == InputStatus::kEndOfInput) break;
      if (status == InputStatus::kMoreAvailable) continue;
      std::unique_lock lock(run.mutex);
      // Woken by librdkafka (records), discovery, checkpoint notices or Cancel; the bound only
      // keeps periodic work (watermarks, commits results) going when nothing else happens.
      run.wake.wait_for(lock, std::chrono::milliseconds(100), [&] {
        return run.signalled || !run.running.load() || !run.notices.empty();
      });
      run.signalled = false;
    }
  }

  void Cancel() override {
    if (run_ == nullptr) return;
    run_->running = false;
    run_->SignalAvailable();
  }

  void Close() override {
    if (run_ != nullptr && run_->core != nullptr) run_->core->Close();
  }

  void SnapshotState(CheckpointId id) override { run_->core->SnapshotState(id); }
  // Commits are made on the polling thread (librdkafka 2.0.2 must not be driven from two).
  void NotifyCheckpointComplete(CheckpointId id) override { Notice(id, true); }
  void NotifyCheckpointAborted(CheckpointId id) override { Notice(id, false); }

 private:
  static constexpr int64_t kWatermarkIntervalMs = 200;  // Flink's default auto-watermark interval

  using SchemaFactory = std::function<std::unique_ptr<KafkaRecordDeserializationSchema<T>>()>;

  template <typename S>
  static SchemaFactory Factory(S schema) {
    return [schema = std::move(schema)]() -> std::unique_ptr<KafkaRecordDeserializationSchema<T>> {
      return std::make_unique<detail::ValueOnlyDeserializationSchema<T>>(
          std::make_unique<S>(schema));
    };
  }

  void Init(Properties properties) {
    raw_.properties = std::move(properties);
    raw_.has_deserializer = true;
    raw_.legacy = true;
  }
  KafkaConsumerSource& Start(OffsetsInitializer initializer) {
    raw_.starting_offsets = std::move(initializer);
    group_offsets_ = false;
    return *this;
  }

  // What one running instance owns; shared_ptr keeps the function copyable for AddSource.
  struct RunState final : SourceReaderContext {
    std::unique_ptr<detail::KafkaReaderCore> core;
    std::unique_ptr<detail::KafkaRecordEmitter<T>> emitter;
    RuntimeContext* runtime = nullptr;
    bool watermarks = false;
    std::atomic<bool> running{true};
    std::mutex mutex;
    std::condition_variable wake;
    bool signalled = false;
    std::vector<std::pair<CheckpointId, bool>> notices;  // (id, completed)

    RuntimeContext& GetRuntimeContext() override { return *runtime; }
    void SignalAvailable() override {
      {
        std::lock_guard lock(mutex);
        signalled = true;
      }
      wake.notify_all();
    }
    ~RunState() override {
      emitter.reset();  // refers to core
    }
  };

  class LegacyOutput final : public ReaderOutput<T> {
   public:
    explicit LegacyOutput(SourceContext<T>& ctx) : ctx_(ctx) {}
    void Collect(T value, int64_t timestamp) override {
      if (timestamp == kNoTimestamp) {
        ctx_.Collect(std::move(value));
      } else {
        ctx_.CollectWithTimestamp(std::move(value), timestamp);
      }
    }
    void EmitWatermark(int64_t timestamp) override { ctx_.EmitWatermark(timestamp); }
    void MarkIdle() override { ctx_.MarkAsTemporarilyIdle(); }
    void MarkActive() override {}  // the next watermark makes the source active again

   private:
    SourceContext<T>& ctx_;
  };

  void Notice(CheckpointId id, bool completed) {
    {
      std::lock_guard lock(run_->mutex);
      run_->notices.emplace_back(id, completed);
    }
    run_->wake.notify_all();
  }

  static void ServeCheckpointNotices(RunState& run) {
    std::vector<std::pair<CheckpointId, bool>> notices;
    {
      std::lock_guard lock(run.mutex);
      notices.swap(run.notices);
    }
    for (const auto& [id, completed] : notices) {
      if (completed) {
        run.core->NotifyCheckpointComplete(id);
      } else {
        run.core->NotifyCheckpointAborted(id);
      }
    }
  }

  detail::KafkaSourceSettings raw_;
  SchemaFactory schema_;
  WatermarkStrategy<T> strategy_ = WatermarkStrategy<T>::NoWatermarks();
  bool group_offsets_ = true;
  bool commit_on_checkpoints_ = true;
  bool commit_explicit_ = false;
  std::shared_ptr<RunState> run_;
};

}  // namespace sluice::kafka
