// A job process for kill_resume_it.cc: counts a sequence per key with checkpoints, and can
// hold at its midpoint after a checkpoint so the test can kill it there with SIGKILL.
//
//   counting_job --checkpoint-dir=DIR [--total=N] [--keys=K] [--hold-at-pause]
//   [--savepoint-dir=DIR]
#include <sluice/sluice.h>

#include <cstdio>

#include "test_jobs.h"

int main(int argc, char** argv) {
  using namespace sluice;
  auto env = StreamExecutionEnvironment::FromArgs(argc, argv);
  const ParameterTool& params = env->GetParameters();
  const int64_t total = params.GetLong("total", 20000).value();
  const int64_t keys = params.GetLong("keys", 10).value();
  const bool hold = params.GetBool("hold-at-pause", false).value();
  env->EnableCheckpointing(std::chrono::milliseconds(100));
  if (auto dir = params.Get("savepoint-dir"))
    env->GetCheckpointConfig().SetSavepointDirectory(*dir);
  env->AddSource(testing::PausingSequence(total, total / 2, hold))
      .Uid("source")
      .KeyBy([keys](int64_t n) { return n % keys; })
      .Process(testing::CountPerKey())
      .Uid("count")
      .AddSink(testing::FinalCountsSink())
      .SetParallelism(1);
  JobExecutionResult result = env->Execute("counting-job");
  if (result.restored_checkpoint) {
    std::printf("restored checkpoint %lld\n", static_cast<long long>(*result.restored_checkpoint));
  } else {
    std::printf("restored nothing\n");
  }
  std::printf("status %s\n", std::string(JobStatusName(result.status)).c_str());
  if (result.savepoint_path) std::printf("savepoint %s\n", result.savepoint_path->c_str());
  if (!result.ok()) std::fprintf(stderr, "counting_job: %s\n", result.failure.ToString().c_str());
  return result.ok() ? 0 : 1;
}
