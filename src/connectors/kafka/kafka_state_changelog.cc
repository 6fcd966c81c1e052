#include "connectors/kafka/kafka_state_changelog.h"

#include <algorithm>
#include <utility>

#include "connectors/kafka/changelog_reader.h"
#include "connectors/kafka/changelog_topics.h"
#include "core/log.h"

namespace sluice::kafka::internal {
namespace {

using std::chrono::milliseconds;

// The low and high watermarks of every partition of `topic` (partitions 0..count-1). After
// recovery no transaction of this job is open on it, so the high watermark is where a log that
// starts now begins.
Result<std::vector<std::pair<int64_t, int64_t>>> Watermarks(rd_kafka_t* client,
                                                            const std::string& topic, int32_t count,
                                                            milliseconds timeout) {
  std::vector<std::pair<int64_t, int64_t>> marks(static_cast<size_t>(count));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int32_t partition = 0; partition < count; ++partition) {
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    do {  // a topic created a moment ago may not have leaders yet
      const auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      err = rd_kafka_query_watermark_offsets(
          client, topic.c_str(), partition, &low, &high,
          static_cast<int>(std::clamp<int64_t>(left.count(), 1, 5000)));
    } while (err != RD_KAFKA_RESP_ERR_NO_ERROR && std::chrono::steady_clock::now() < deadline);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return KafkaErrorStatus(err, "state changelog: reading the offsets of " + topic +
                                       " partition " + std::to_string(partition));
    }
    marks[static_cast<size_t>(partition)] = {low, high};
  }
  return marks;
}

}  // namespace

class KafkaStateChangelog::Writer final : public StateChangelogWriter {
 public:
  Writer(std::shared_ptr<KafkaProducer> producer, DeliveryTracker* tracker, rd_kafka_topic_t* topic,
         std::string topic_name, int32_t partitions, const FailureOf* failure_of)
      : producer_(std::move(producer)),
        tracker_(tracker),
        topic_(topic),
        partitions_(partitions),
        failure_of_(failure_of) {
    record_.topic = std::move(topic_name);
    record_.has_key = true;
  }

  Status Append(int32_t partition, std::string_view key,
                std::optional<std::string_view> value) override {
    if (partition < 0 || partition >= partitions_) {
      return Status::Internal("state changelog " + record_.topic + ": partition " +
                              std::to_string(partition) + " outside 0.." +
                              std::to_string(partitions_ - 1) + " (a sluice bug)");
    }
    record_.partition = partition;
    record_.key.assign(key.data(), key.size());
    record_.has_value = value.has_value();
    if (value) {
      record_.value.assign(value->data(), value->size());
    } else {
      record_.value.clear();
    }
    Status sent = producer_->Produce(record_, tracker_, topic_);
    return sent.ok() ? sent : (*failure_of_)(*producer_, std::move(sent));
  }

  Status Close() override {
    // Deliveries are awaited by the commit (the participant flushes the producer first); a
    // failed one fails that commit, naming topic and partition.
    if (std::optional<Status> error = producer_->Error())
      return (*failure_of_)(*producer_, std::move(*error));
    return Status::Ok();
  }

 private:
  std::shared_ptr<KafkaProducer> producer_;
  DeliveryTracker* tracker_;
  rd_kafka_topic_t* topic_;
  int32_t partitions_;
  const FailureOf* failure_of_;  // the changelog's, which outlives every writer
  ProducerRecord record_;
};

KafkaStateChangelog::KafkaStateChangelog(std::shared_ptr<const detail::KafkaSinkSettings> settings,
                                         ProducerFor producer_for, FailureOf failure_of)
    : settings_(std::move(settings)),
      producer_for_(std::move(producer_for)),
      failure_of_(std::move(failure_of)),
      timeout_(settings_->broker_timeout_ms) {}

std::string KafkaStateChangelog::TopicFor(std::string_view uid) const {
  return ChangelogTopicName(*settings_->transactional_id_prefix, uid);
}

void KafkaStateChangelog::OnRecovered(int64_t checkpoint, std::optional<ChangelogSection> recovered,
                                      rd_kafka_t* admin) {
  MutexLock lock(mutex_);
  recovered_checkpoint_ = checkpoint;
  recovered_ = std::move(recovered);
  admin_ = admin;
  operators_.reset();
  for (auto& tracked : tracked_) tracked.clear();
  tracked_producer_ = {};
}

std::optional<std::vector<ChangelogOperator>> KafkaStateChangelog::Covered() const {
  MutexLock lock(mutex_);
  if (!recovered_) return std::nullopt;
  std::vector<ChangelogOperator> covered;
  covered.reserve(recovered_->operators.size());
  for (const ChangelogSection::Operator& entry : recovered_->operators) covered.push_back(entry.op);
  return covered;
}

Result<std::vector<std::string>> KafkaStateChangelog::Prepare(
    const std::vector<ChangelogOperator>& operators, bool continue_recovered) {
  MutexLock lock(mutex_);
  if (admin_ == nullptr)
    return Status::FailedPrecondition("state changelog: Prepare before recovery (a sluice bug)");
  std::vector<ChangelogTopicSpec> specs;
  specs.reserve(operators.size());
  for (const ChangelogOperator& op : operators)
    specs.push_back(ChangelogTopicSpec{TopicFor(op.uid), op.partitions()});
  ChangelogTopicOptions options;
  options.timeout = timeout_;
  if (auto it = settings_->properties.find("sluice.changelog.replication.factor");
      it != settings_->properties.end()) {
    options.replication_factor = std::stoi(it->second);  // checked by the sink's Build()
  }
  options.configs = ChangelogTopicConfigs(settings_->properties);
  SLUICE_RETURN_IF_ERROR(EnsureChangelogTopics(admin_, specs, options));

  std::vector<std::string> afresh;
  std::map<std::string, ChangelogSection::Operator, std::less<>> prepared;
  for (const ChangelogOperator& op : operators) {
    ChangelogSection::Operator entry;
    entry.op = op;
    entry.topic = TopicFor(op.uid);
    const ChangelogSection::Operator* continued = nullptr;
    if (continue_recovered && recovered_) {
      for (const ChangelogSection::Operator& candidate : recovered_->operators) {
        if (candidate.op.uid == op.uid) continued = &candidate;
      }
    }
    SLUICE_ASSIGN_OR_RETURN(auto marks, Watermarks(admin_, entry.topic, op.partitions(), timeout_));
    if (continued != nullptr) {
      for (const auto& [partition, range] : continued->ranges) {
        if (partition >= op.partitions()) continue;  // EnsureChangelogTopics checked the count
        const auto [low, high] = marks[static_cast<size_t>(partition)];
        if (low <= range.first && high >= range.second) continue;
        // Reached only when the job restores from its local files (a restore from Kafka read
        // these ranges first and failed on the same damage): they hold the state, so the log
        // starts again from them instead of failing the job.
        SLUICE_LOG_WARN(
            "state changelog {} partition {} no longer holds offsets [{}, {}) of the last "
            "committed checkpoint (it holds [{}, {}): cut by retention or delete-records, or "
            "recreated); the job restores from its local checkpoint directory and writes the "
            "state of operator '{}' to the changelog in full at its next checkpoint",
            entry.topic, partition, range.first, range.second, low, high, op.uid);
        continued = nullptr;
        break;
      }
    }
    for (int32_t partition = 0; partition < op.partitions(); ++partition) {
      if (continued != nullptr) {
        if (auto it = continued->ranges.find(partition); it != continued->ranges.end()) {
          entry.ranges[partition] = it->second;
          continue;
        }
      }
      // A log that begins now: whatever the partition holds already is not this job's state.
      // Recorded once written (SectionForCommit), so unwritten partitions cost nothing.
      const int64_t end = marks[static_cast<size_t>(partition)].second;
      entry.ranges[partition] = {end, end};
    }
    if (continued == nullptr) afresh.push_back(op.uid);
    prepared.emplace(op.uid, std::move(entry));
  }
  operators_ = std::move(prepared);
  return afresh;
}

Result<std::pair<DeliveryTracker*, rd_kafka_topic_t*>> KafkaStateChangelog::TrackedTopic(
    const std::shared_ptr<KafkaProducer>& producer, int32_t slot, const std::string& topic) {
  {
    MutexLock lock(mutex_);
    auto& tracked = tracked_[static_cast<size_t>(slot)];
    if (tracked_producer_[static_cast<size_t>(slot)] != producer.get()) {
      tracked.clear();
      tracked_producer_[static_cast<size_t>(slot)] = producer.get();
    }
    if (auto it = tracked.find(topic); it != tracked.end())
      return std::make_pair(it->second.tracker, it->second.topic.get());
  }
  // The metadata request runs without the lock; two writers racing here both make a handle
  // and the first one in wins (a handle is reference counted by librdkafka).
  SLUICE_ASSIGN_OR_RETURN(TopicPtr handle, producer->TopicHandle(topic, timeout_));
  MutexLock lock(mutex_);
  auto& tracked = tracked_[static_cast<size_t>(slot)];
  auto [it, inserted] = tracked.try_emplace(topic);
  if (inserted) {
    it->second.tracker = producer->NewTracker(/*record_offsets=*/true);
    it->second.topic = std::move(handle);
  }
  return std::make_pair(it->second.tracker, it->second.topic.get());
}

Result<std::unique_ptr<StateChangelogWriter>> KafkaStateChangelog::OpenWriter(int64_t checkpoint,
                                                                              std::string_view uid,
                                                                              int32_t /*subtask*/) {
  int32_t partitions = 0;
  std::string topic;
  {
    MutexLock lock(mutex_);
    if (!operators_) {
      return Status::FailedPrecondition(
          "state changelog: a writer opened before Prepare (a sluice bug)");
    }
    auto it = operators_->find(uid);
    if (it == operators_->end()) {
      return Status::FailedPrecondition("state changelog: operator '" + std::string(uid) +
                                        "' was not prepared (a sluice bug)");
    }
    partitions = it->second.op.partitions();
    topic = it->second.topic;
  }
  SLUICE_ASSIGN_OR_RETURN(auto producer_and_slot, producer_for_(checkpoint));
  auto& [producer, slot] = producer_and_slot;
  SLUICE_ASSIGN_OR_RETURN(auto tracked, TrackedTopic(producer, slot, topic));
  return std::unique_ptr<StateChangelogWriter>(
      std::make_unique<Writer>(std::move(producer), tracked.first, tracked.second, std::move(topic),
                               partitions, &failure_of_));
}

std::optional<ChangelogSection> KafkaStateChangelog::SectionForCommit(int32_t slot) {
  MutexLock lock(mutex_);
  if (!operators_) return std::nullopt;
  for (auto& [topic, tracked] : tracked_[static_cast<size_t>(slot)]) {
    std::map<int32_t, int64_t> ends = tracked.tracker->TakeEnds();
    if (ends.empty()) continue;
    for (auto& [uid, entry] : *operators_) {
      if (entry.topic != topic) continue;
      for (const auto& [partition, end] : ends) {
        std::pair<int64_t, int64_t>& range = entry.ranges[partition];
        range.second = std::max(range.second, end);
      }
    }
  }
  ChangelogSection section;
  section.operators.reserve(operators_->size());
  for (const auto& [uid, entry] : *operators_) {
    ChangelogSection::Operator& out = section.operators.emplace_back();
    out.op = entry.op;
    out.topic = entry.topic;
    // Only partitions that hold something: the marker stays small for sparse key groups.
    for (const auto& [partition, range] : entry.ranges) {
      if (range.second > range.first) out.ranges.emplace(partition, range);
    }
  }
  return section;
}

Status KafkaStateChangelog::Read(
    std::string_view uid, const std::vector<int32_t>& partitions,
    const std::function<void(const sluice::ChangelogRecord&)>& record) {
  std::vector<ChangelogPartitionRange> ranges;
  std::string topic;
  int64_t checkpoint = 0;
  {
    MutexLock lock(mutex_);
    checkpoint = recovered_checkpoint_;
    const ChangelogSection::Operator* entry = nullptr;
    if (recovered_) {
      for (const ChangelogSection::Operator& candidate : recovered_->operators) {
        if (candidate.op.uid == uid) entry = &candidate;
      }
    }
    if (entry == nullptr) {
      return Status::FailedPrecondition(
          "state changelog: the last committed checkpoint has no "
          "changelog of operator '" +
          std::string(uid) + "' (a sluice bug to ask)");
    }
    topic = entry->topic;
    for (int32_t partition : partitions) {
      if (auto it = entry->ranges.find(partition); it != entry->ranges.end())
        ranges.push_back({partition, it->second.first, it->second.second});
    }
  }
  if (ranges.empty()) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ChangelogReader> reader,
                          ChangelogReader::Open(settings_->producer_properties, timeout_));
  return reader->Read(topic, ranges, CheckpointId(checkpoint), [&](const ChangelogRecord& read) {
    record(sluice::ChangelogRecord{read.partition, read.key, read.value});
    return Status::Ok();
  });
}

}  // namespace sluice::kafka::internal
