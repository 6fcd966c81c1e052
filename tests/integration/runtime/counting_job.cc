// A job process for kill_resume_it.cc and stop_it.cc: counts a sequence per key with
// checkpoints, and can hold at its midpoint after a checkpoint so the test can kill it there
// with SIGKILL.
//
//   counting_job --checkpoint-dir=DIR [--total=N] [--keys=K] [--hold-at-pause]
//   [--savepoint-dir=DIR] [--fail-at=N] [--hold-lock-at=N] [--kafka-sink=BOOTSTRAP]
//   [standard flags]
//
//   --fail-at=N        the source throws on reaching N, in every attempt (a failing source)
//   --hold-lock-at=N   the source holds its checkpoint lock from N on until cancelled: no
//                      checkpoint or savepoint can complete (a stuck job)
//   --kafka-sink=B     the counts also go to an EXACTLY_ONCE KafkaSink at bootstrap servers B
//                      (127.0.0.1:1 for a broker that cannot be reached; broker timeout 2 s)
//
// It prints "started" before it runs the job, and at the end "restored ...", "status ...",
// "savepoint ..." and "failure ..." lines on stdout.
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/sluice.h>

#include <cstdio>
#include <string>

#include "test_jobs.h"

int main(int argc, char** argv) {
  using namespace sluice;
  auto env = StreamExecutionEnvironment::FromArgs(argc, argv);
  const ParameterTool& params = env->GetParameters();
  const int64_t total = params.GetLong("total", 20000).value();
  const int64_t keys = params.GetLong("keys", 10).value();
  const bool hold = params.GetBool("hold-at-pause", false).value();
  const int64_t fail_at = params.GetLong("fail-at", -1).value();
  const int64_t hold_lock_at = params.GetLong("hold-lock-at", -1).value();
  const std::optional<std::string> kafka_sink = params.Get("kafka-sink");
  env->EnableCheckpointing(std::chrono::milliseconds(100));
  if (auto dir = params.Get("savepoint-dir"))
    env->GetCheckpointConfig().SetSavepointDirectory(*dir);
  DataStream<int64_t> numbers =
      fail_at >= 0        ? env->AddSource(testing::FailingSequence(total, fail_at))
      : hold_lock_at >= 0 ? env->AddSource(testing::LockHoldingSequence(total, hold_lock_at))
                          : env->AddSource(testing::PausingSequence(total, total / 2, hold));
  auto counts = numbers.Uid("source")
                    .KeyBy([keys](int64_t n) { return n % keys; })
                    .Process(testing::CountPerKey())
                    .Uid("count");
  counts.AddSink(testing::FinalCountsSink()).SetParallelism(1);
  if (kafka_sink) {
    auto sink =
        kafka::KafkaSink<std::string>::Builder()
            .SetBootstrapServers(*kafka_sink)
            .SetRecordSerializer(kafka::KafkaRecordSerializationSchema<std::string>::Builder()
                                     .SetTopic("counting-job-counts")
                                     .SetValueSerializationSchema(kafka::SimpleStringSchema())
                                     .Build())
            .SetDeliveryGuarantee(kafka::DeliveryGuarantee::kExactlyOnce)
            .SetTransactionalIdPrefix("counting-job")
            .SetProperty("sluice.broker.timeout.ms", "2000")
            .Build();
    if (!sink.ok()) {
      std::fprintf(stderr, "counting_job: %s\n", sink.status().ToString().c_str());
      return 2;
    }
    counts
        .Map([](testing::Count c) {
          return std::to_string(c.first) + "=" + std::to_string(c.second);
        })
        .SinkTo(*sink)
        .Uid("kafka-sink");
  }
  std::printf("started\n");
  std::fflush(stdout);
  JobExecutionResult result = env->Execute("counting-job");
  if (result.restored_checkpoint) {
    std::printf("restored checkpoint %lld\n", static_cast<long long>(*result.restored_checkpoint));
  } else {
    std::printf("restored nothing\n");
  }
  std::printf("status %s\n", std::string(JobStatusName(result.status)).c_str());
  if (result.savepoint_path) std::printf("savepoint %s\n", result.savepoint_path->c_str());
  if (!result.ok()) {
    std::printf("failure %s\n", result.failure.ToString().c_str());
    std::fprintf(stderr, "counting_job: %s\n", result.failure.ToString().c_str());
  }
  return result.ok() ? 0 : 1;
}
