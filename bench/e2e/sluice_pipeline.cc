// sluice_pipeline: the end-to-end benchmark job in sluice (bench/e2e/run drives it).
//
//   KafkaSource (earliest, optionally bounded at the end offsets seen at start)
//     -> Map (append kSuffix)
//     -> KafkaSink (NONE | AT_LEAST_ONCE | EXACTLY_ONCE)
//
//   sluice_pipeline --input=T --output=T --guarantee=none|at_least_once|exactly_once
//                   [--bounded=true|false] [--bootstrap-servers=S] [--run-id=ID]
//                   [--source-properties=k=v;k=v] [--sink-properties=k=v;k=v]
//                   --parallelism=2 --checkpoint-interval=1s --checkpoint-dir=DIR --fresh
//
// The standard flags (parallelism, checkpointing, storage) are sluice's own (FromArgs), so the
// driver passes exactly what a user would. Settings not named here are the library's defaults:
// the benchmark measures sluice as shipped. The *-properties flags (librdkafka properties, e.g.
// "debug=fetch") are for diagnosis; bench/e2e/run passes none. Prints one line "sluice_pipeline:
// {json}" with the job's status, sink counters and checkpoint count on stdout at the end; exit code
// 0 only if the job finished (bounded) or was cancelled by SIGINT (unbounded, the latency runs).
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace {

// The same suffix the plain loop and the Flink job append (bench/e2e/plain_pipeline.cc,
// bench/peers/flink/.../E2eJob.java), so every system writes the same bytes.
constexpr std::string_view kSuffix = "|mapped";

sluice::kafka::DeliveryGuarantee ParseGuarantee(const std::string& name) {
  if (name == "none") return sluice::kafka::DeliveryGuarantee::kNone;
  if (name == "at_least_once") return sluice::kafka::DeliveryGuarantee::kAtLeastOnce;
  if (name == "exactly_once") return sluice::kafka::DeliveryGuarantee::kExactlyOnce;
  std::fprintf(stderr,
               "sluice_pipeline: --guarantee=%s: expected none, at_least_once or exactly_once\n",
               name.c_str());
  std::exit(2);
}

// "k=v;k=v" -> {k: v}.
std::map<std::string, std::string> ParseProperties(const std::string& list) {
  std::map<std::string, std::string> properties;
  size_t begin = 0;
  while (begin < list.size()) {
    size_t end = list.find(';', begin);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(begin, end - begin);
    size_t equals = item.find('=');
    if (equals == std::string::npos) {
      std::fprintf(stderr, "sluice_pipeline: property %s: expected key=value\n", item.c_str());
      std::exit(2);
    }
    properties[item.substr(0, equals)] = item.substr(equals + 1);
    begin = end + 1;
  }
  return properties;
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
  if (!input || !output) {
    std::fprintf(stderr, "sluice_pipeline: --input=TOPIC and --output=TOPIC are required\n");
    return 2;
  }
  const std::string guarantee_name = params.Get("guarantee", "none");
  const sluice::kafka::DeliveryGuarantee guarantee = ParseGuarantee(guarantee_name);
  const bool bounded = params.Get("bounded", "true") == "true";
  const std::string run_id = params.Get("run-id", "e2e");

  auto source_builder = sluice::kafka::KafkaSource<std::string>::Builder();
  source_builder.SetBootstrapServers(bootstrap)
      .SetTopics(*input)
      .SetGroupId("sluice-e2e-" + run_id)
      .SetStartingOffsets(sluice::kafka::OffsetsInitializer::Earliest())
      .SetValueOnlyDeserializer(sluice::kafka::SimpleStringSchema())
      .SetProperties(ParseProperties(params.Get("source-properties", "")));
  if (bounded) source_builder.SetBounded(sluice::kafka::OffsetsInitializer::Latest());
  auto source = source_builder.Build();
  if (!source.ok()) {
    std::fprintf(stderr, "sluice_pipeline: source: %s\n", source.status().ToString().c_str());
    return 1;
  }

  auto sink_builder = sluice::kafka::KafkaSink<std::string>::Builder();
  sink_builder.SetBootstrapServers(bootstrap)
      .SetRecordSerializer(sluice::kafka::KafkaRecordSerializationSchema<std::string>::Builder()
                               .SetTopic(*output)
                               .SetValueSerializationSchema(sluice::kafka::SimpleStringSchema())
                               .Build())
      .SetDeliveryGuarantee(guarantee)
      .SetProperties(ParseProperties(params.Get("sink-properties", "")));
  // One prefix per run: a transactional id must never be shared by two live jobs, and the
  // runs of one invocation follow each other closely.
  if (guarantee == sluice::kafka::DeliveryGuarantee::kExactlyOnce)
    sink_builder.SetTransactionalIdPrefix("e2e-" + run_id);
  auto sink = sink_builder.Build();
  if (!sink.ok()) {
    std::fprintf(stderr, "sluice_pipeline: sink: %s\n", sink.status().ToString().c_str());
    return 1;
  }

  env->FromSource<std::string>(*source, sluice::WatermarkStrategy<std::string>::NoWatermarks(),
                               "Kafka Source")
      .Uid("source")
      .Map([](const std::string& value) {
        std::string mapped;
        mapped.reserve(value.size() + kSuffix.size());
        mapped.append(value).append(kSuffix);
        return mapped;
      })
      .Uid("append-suffix")
      .SinkTo(*sink)
      .Uid("sink");

  sluice::JobExecutionResult result = env->Execute("e2e-" + run_id);
  std::string counters;
  for (const auto& [name, value] : result.counters) {
    if (name.find("KafkaSink") == std::string::npos &&
        name.find("numRecordsIn") == std::string::npos)
      continue;
    counters += (counters.empty() ? "" : ",") + ("\"" + name + "\":" + std::to_string(value));
  }
  std::printf(
      "sluice_pipeline: {\"status\":\"%s\",\"guarantee\":\"%s\",\"completed_checkpoints\":%lld,"
      "\"failed_checkpoints\":%lld,\"restarts\":%d,\"runtime_ms\":%lld,\"counters\":{%s}}\n",
      std::string(sluice::JobStatusName(result.status)).c_str(), guarantee_name.c_str(),
      static_cast<long long>(result.completed_checkpoints),
      static_cast<long long>(result.failed_checkpoints), result.restarts,
      static_cast<long long>(result.runtime.count()), counters.c_str());
  std::fflush(stdout);
  if (!result.ok()) {
    std::fprintf(stderr, "sluice_pipeline: job failed: %s\n", result.failure.ToString().c_str());
    return 1;
  }
  return 0;
}
