// An outside program using the installed package: runs a small keyed job and checks its result.
#include <sluice/sluice.h>
#ifdef CONSUMER_WITH_KAFKA
#include <sluice/connectors/kafka/rdkafka_version.h>
#endif

#include <cstdio>
#include <map>
#include <mutex>

namespace {

std::mutex g_mutex;
std::map<int64_t, int64_t> g_sums;

using Sum = std::pair<int64_t, int64_t>;  // (parity, running sum)

class KeepLatest final : public sluice::SinkFunction<Sum> {
 public:
  void Invoke(const Sum& value, const sluice::SinkContext&) override {
    std::lock_guard lock(g_mutex);
    g_sums[value.first] = value.second;  // one key per instance: the latest is the largest
  }
};

}  // namespace

int main() {
  auto env = sluice::StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  env->GenerateSequence(1, 100)
      .Map([](int64_t n) { return Sum{n % 2, n}; })
      .KeyBy([](const Sum& s) { return s.first; })
      .Sum<1>()
      .AddSink(KeepLatest());
  sluice::JobExecutionResult result = env->Execute("consumer");
  if (!result.ok()) {
    std::fprintf(stderr, "job failed: %s\n", result.failure.ToString().c_str());
    return 1;
  }
  // 2 + 4 + ... + 100 = 2550 and 1 + 3 + ... + 99 = 2500.
  if (g_sums[0] != 2550 || g_sums[1] != 2500) {
    std::fprintf(stderr, "wrong sums: even %lld, odd %lld\n", static_cast<long long>(g_sums[0]),
                 static_cast<long long>(g_sums[1]));
    return 1;
  }
#ifdef CONSUMER_WITH_KAFKA
  std::printf("sluice %s with librdkafka %s: job ok\n", sluice::VersionString(),
              sluice::RdKafkaVersionString());
#else
  std::printf("sluice %s without Kafka: job ok\n", sluice::VersionString());
#endif
  return 0;
}
