// word_count_job: the job of the changelog benchmark (bench/changelog/run drives it).
//
//   KafkaSource (earliest; bounded at the end offsets seen at start)
//     -> FlatMap: split each line on whitespace (also the checkpoint-duration probe, below)
//     -> KeyBy(word) -> running count in ValueState<int64_t>
//     -> KafkaSink EXACTLY_ONCE: key = the word, value = its count so far (KeyHashPartitioner)
//
//   word_count_job --input=T --output=T --prefix=P [--bootstrap-servers=S]
//                  --parallelism=2 --checkpoint-interval=1s --checkpoint-dir=DIR
//                  [--state.changelog=kafka|off]
//
// The counting part is examples/exactly_once_word_count's (same operators, uids, serializers
// and partitioner); what differs: the source reads values only (the example also keeps every
// line's offset in union list state, to print where a restored job resumes), and the splitter
// is the probe below. The standard flags are sluice's own (FromArgs), so the driver passes
// exactly what a user would, --state.changelog included; everything else is the library's
// default. --prefix is the sink's transactional id prefix: the changelog topics are
// `<prefix>.<uid>.changelog` and the control topic `<prefix>.sluice-control`.
//
// Checkpoint duration, which no metric gives: the splitter is chained to the source, so its
// SnapshotState(N) runs when the source injects barrier N; NotifyCheckpointComplete(N) comes
// after every task acknowledged, `_metadata` was written and the Kafka transaction (outputs,
// changelog, marker, offsets) committed. Duration of N = the first notice of N - the first
// snapshot of N, over both subtasks (steady clock, one process).
//
// Prints one line "word_count_job: {json}" on stdout at the end: status, checkpoint counts and
// durations, the restored checkpoint, the runtime. Exit code 0 only if the job finished.
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using WordCount = std::pair<std::string, int64_t>;
using SteadyTime = std::chrono::steady_clock::time_point;

// When each checkpoint's barrier first reached a splitter, and when a splitter first heard that
// it completed. Shared by the splitter's copies (one per subtask); thread-safe.
class CheckpointTimes {
 public:
  void Barrier(int64_t id) { First(barrier_, id); }
  void Completed(int64_t id) { First(completed_, id); }

  // Durations in ms of the checkpoints with both times, in id order.
  std::vector<double> DurationsMs() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<double> durations;
    for (const auto& [id, completed] : completed_) {
      auto barrier = barrier_.find(id);
      if (barrier == barrier_.end()) continue;
      durations.push_back(
          std::chrono::duration<double, std::milli>(completed - barrier->second).count());
    }
    return durations;
  }

 private:
  void First(std::map<int64_t, SteadyTime>& times, int64_t id) {
    const SteadyTime now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mutex_);
    times.emplace(id, now);  // keeps the first
  }

  mutable std::mutex mutex_;
  std::map<int64_t, SteadyTime> barrier_;
  std::map<int64_t, SteadyTime> completed_;
};

// Splits a line into words on whitespace; records the checkpoint times (see the top).
class SplitWords final : public sluice::RichFlatMapFunction<std::string, std::string>,
                         public sluice::CheckpointedFunction,
                         public sluice::CheckpointListener {
 public:
  explicit SplitWords(std::shared_ptr<CheckpointTimes> times) : times_(std::move(times)) {}

  void FlatMap(std::string line, sluice::Collector<std::string>& out) override {
    std::string_view text = line;
    constexpr std::string_view kWhitespace = " \t\r\n\f\v";
    size_t begin = text.find_first_not_of(kWhitespace);
    while (begin != std::string_view::npos) {
      size_t end = text.find_first_of(kWhitespace, begin);
      out.Collect(
          std::string(text.substr(begin, end == std::string_view::npos ? end : end - begin)));
      if (end == std::string_view::npos) break;
      begin = text.find_first_not_of(kWhitespace, end);
    }
  }

  void SnapshotState(sluice::CheckpointId id) override { times_->Barrier(id.value()); }
  void NotifyCheckpointComplete(sluice::CheckpointId id) override { times_->Completed(id.value()); }

 private:
  std::shared_ptr<CheckpointTimes> times_;
};

// The running count per word, in keyed state (as in the example).
class CountWords final : public sluice::KeyedProcessFunction<std::string, std::string, WordCount> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(sluice::ValueStateDescriptor<int64_t>("count"));
  }

  void ProcessElement(std::string word, Context&, sluice::Collector<WordCount>& out) override {
    int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    out.Collect({std::move(word), count});
  }

 private:
  sluice::ValueState<int64_t>* count_ = nullptr;
};

class WordSchema final : public sluice::kafka::SerializationSchema<WordCount> {
 public:
  bool Serialize(const WordCount& element, std::string& out) override {
    out.append(element.first);
    return true;
  }
};

class CountSchema final : public sluice::kafka::SerializationSchema<WordCount> {
 public:
  bool Serialize(const WordCount& element, std::string& out) override {
    out.append(std::to_string(element.second));
    return true;
  }
};

// q in [0, 1] of sorted values; 0 when empty.
double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  return sorted[static_cast<size_t>(std::lround(q * static_cast<double>(sorted.size() - 1)))];
}

}  // namespace

int main(int argc, char** argv) {
  auto env = sluice::StreamExecutionEnvironment::FromArgs(argc, argv);
  const sluice::ParameterTool& params = env->GetParameters();
  const char* env_bootstrap = std::getenv("SLUICE_BOOTSTRAP_SERVERS");
  const std::string bootstrap =
      params.Get("bootstrap-servers", env_bootstrap != nullptr ? env_bootstrap : "127.0.0.1:19092");
  const std::optional<std::string> input = params.Get("input");
  const std::optional<std::string> output = params.Get("output");
  const std::optional<std::string> prefix = params.Get("prefix");
  if (!input || !output || !prefix) {
    std::fprintf(stderr, "word_count_job: --input=T, --output=T and --prefix=P are required\n");
    return 2;
  }

  auto source = sluice::kafka::KafkaSource<std::string>::Builder()
                    .SetBootstrapServers(bootstrap)
                    .SetTopics(*input)
                    .SetGroupId(*prefix)
                    .SetStartingOffsets(sluice::kafka::OffsetsInitializer::Earliest())
                    .SetValueOnlyDeserializer(sluice::kafka::SimpleStringSchema())
                    .SetBounded(sluice::kafka::OffsetsInitializer::Latest())
                    .Build();
  if (!source.ok()) {
    std::fprintf(stderr, "word_count_job: source: %s\n", source.status().ToString().c_str());
    return 1;
  }
  auto sink =
      sluice::kafka::KafkaSink<WordCount>::Builder()
          .SetBootstrapServers(bootstrap)
          .SetRecordSerializer(sluice::kafka::KafkaRecordSerializationSchema<WordCount>::Builder()
                                   .SetTopic(*output)
                                   .SetKeySerializationSchema(WordSchema())
                                   .SetValueSerializationSchema(CountSchema())
                                   .SetPartitioner(sluice::kafka::KeyHashPartitioner<WordCount>())
                                   .Build())
          .SetDeliveryGuarantee(sluice::kafka::DeliveryGuarantee::kExactlyOnce)
          .SetTransactionalIdPrefix(*prefix)
          .Build();
  if (!sink.ok()) {
    std::fprintf(stderr, "word_count_job: sink: %s\n", sink.status().ToString().c_str());
    return 1;
  }

  auto times = std::make_shared<CheckpointTimes>();
  env->FromSource<std::string>(*source, sluice::WatermarkStrategy<std::string>::NoWatermarks(),
                               "Kafka: " + *input)
      .Uid("kafka-source")
      .FlatMap(SplitWords(times))
      .Name("split words")
      .Uid("split-words")
      .KeyBy([](const std::string& word) { return word; })
      .Process(CountWords())
      .Name("count words")
      .Uid("count-words")
      .SinkTo(*sink)
      .Name("Kafka: " + *output)
      .Uid("kafka-sink");

  sluice::JobExecutionResult result = env->Execute("changelog-bench word count");
  std::vector<double> durations = times->DurationsMs();
  std::sort(durations.begin(), durations.end());
  const std::optional<bool> changelog = env->IsChangelogStateBackendEnabled();
  std::printf(
      "word_count_job: {\"status\":\"%s\",\"changelog\":\"%s\",\"completed_checkpoints\":%lld,"
      "\"failed_checkpoints\":%lld,\"restarts\":%d,\"runtime_ms\":%lld,\"restored_checkpoint\":%s,"
      "\"checkpoints_timed\":%zu,\"checkpoint_ms_p50\":%.1f,\"checkpoint_ms_p90\":%.1f,"
      "\"checkpoint_ms_max\":%.1f}\n",
      std::string(sluice::JobStatusName(result.status)).c_str(),
      !changelog ? "default" : (*changelog ? "kafka" : "off"),
      static_cast<long long>(result.completed_checkpoints),
      static_cast<long long>(result.failed_checkpoints), result.restarts,
      static_cast<long long>(result.runtime.count()),
      result.restored_checkpoint ? std::to_string(*result.restored_checkpoint).c_str() : "null",
      durations.size(), Quantile(durations, 0.5), Quantile(durations, 0.9),
      durations.empty() ? 0.0 : durations.back());
  std::fflush(stdout);
  if (!result.ok()) {
    std::fprintf(stderr, "word_count_job: job failed: %s\n", result.failure.ToString().c_str());
    return 1;
  }
  return 0;
}
