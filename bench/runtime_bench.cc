// runtime_bench: whole jobs through sluice's runtime, timed from outside (see bench/README.md).
//
//   runtime_bench [--reps=7] [--seconds=3] [--records=N] [--jobs=map,reduce,process]
//                 [--parallelism=1,2] [--checkpointing=off,on] [--keys=1000] [--interval-ms=1000]
//
// Jobs, each at every parallelism, each without and with checkpointing every second
// (--interval-ms; shorter intervals magnify the cost of one checkpoint):
//   map      GenerateSequence(0, N-1) -> Map(x * 2 + 1) -> discard sink       (one chain)
//   reduce   GenerateSequence -> KeyBy(x % keys) -> Reduce(a + b) -> discard  (ValueState)
//   process  GenerateSequence -> KeyBy(x % keys) -> Process(count in ValueState) -> discard
//
// Per run: wall time of Execute(), and CPU time (getrusage(RUSAGE_SELF) user + sys, every
// thread of the process) divided by N. Reported: median, min and max over the repetitions.
// Without --records, N is calibrated once per (job, parallelism) so that a run without
// checkpointing takes about --seconds; the same N is used with checkpointing, and the two
// variants run interleaved (off/on, then on/off, ...) so drift of a shared machine hits both.
//
// Measures only: nothing here compares against a target or fails on a slow run. A job that
// fails or loses records makes the exit code 1, because its figures would mean nothing.
#include <sluice/sluice.h>

#include <sys/resource.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using sluice::JobExecutionResult;
using sluice::StreamExecutionEnvironment;

// ---- the discard sink: keeps the work observable without doing any of its own ----

std::atomic<int64_t> g_sink_records{0};
std::atomic<uint64_t> g_sink_checksum{0};

// Adds every value into a member and publishes the totals once per instance at the end, so
// the compiler cannot drop the work upstream and instances never share a cache line per record.
template <typename T>
class DiscardSink final : public sluice::SinkFunction<T> {
 public:
  void Invoke(const T& value, const sluice::SinkContext&) override {
    checksum_ += static_cast<uint64_t>(value);
    ++records_;
  }
  void Finish() override {
    g_sink_records.fetch_add(records_, std::memory_order_relaxed);
    g_sink_checksum.fetch_add(checksum_, std::memory_order_relaxed);
  }

 private:
  uint64_t checksum_ = 0;
  int64_t records_ = 0;
};

// Counts records per key in a ValueState and emits the new count.
class CountPerKey final : public sluice::KeyedProcessFunction<int64_t, int64_t, int64_t> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(sluice::ValueStateDescriptor<int64_t>("count"));
  }
  void ProcessElement(int64_t, Context&, sluice::Collector<int64_t>& out) override {
    int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    out.Collect(count);
  }

 private:
  sluice::ValueState<int64_t>* count_ = nullptr;
};

// ---- jobs ----

enum class JobKind { kMap, kReduce, kProcess };

const char* JobName(JobKind kind) {
  switch (kind) {
    case JobKind::kMap:
      return "map";
    case JobKind::kReduce:
      return "reduce";
    case JobKind::kProcess:
      return "process";
  }
  return "?";
}

const char* JobDescription(JobKind kind) {
  switch (kind) {
    case JobKind::kMap:
      return "GenerateSequence -> Map(x*2+1) -> discard (chained)";
    case JobKind::kReduce:
      return "GenerateSequence -> KeyBy(x % keys) -> Reduce(a+b) -> discard";
    case JobKind::kProcess:
      return "GenerateSequence -> KeyBy(x % keys) -> Process(ValueState count) -> discard";
  }
  return "?";
}

struct Options {
  int reps = 7;
  double seconds = 3.0;
  int64_t records = 0;  // 0: calibrate
  std::vector<JobKind> jobs{JobKind::kMap, JobKind::kReduce, JobKind::kProcess};
  std::vector<int> parallelism{1, 2};
  std::vector<bool> checkpointing{false, true};
  int64_t keys = 1000;
  int64_t interval_ms = 1000;
};

struct RunResult {
  double wall_s = 0;
  double cpu_s = 0;
  int64_t context_switches = 0;
  int64_t records = 0;
  int64_t checkpoints = 0;
  bool ok = false;
};

struct Usage {
  double cpu_s = 0;              // user + sys of every thread, finished ones included
  int64_t context_switches = 0;  // voluntary (blocking) + involuntary (preempted)
};

Usage ProcessUsage() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6;
  };
  return Usage{seconds(usage.ru_utime) + seconds(usage.ru_stime), usage.ru_nvcsw + usage.ru_nivcsw};
}

std::filesystem::path MakeTempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "sluice-bench-chk-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

RunResult RunJob(JobKind kind, int parallelism, bool checkpointing, int64_t n, int64_t keys,
                 int64_t interval_ms) {
  g_sink_records = 0;
  g_sink_checksum = 0;
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(parallelism).SetHandleSignals(false);
  std::filesystem::path checkpoint_dir;
  if (checkpointing) {
    checkpoint_dir = MakeTempDir();
    env->EnableCheckpointing(std::chrono::milliseconds(interval_ms));
    env->GetCheckpointConfig().SetCheckpointStorage(checkpoint_dir.string());
  }
  auto source = env->GenerateSequence(0, n - 1);
  source.Uid("source");
  switch (kind) {
    case JobKind::kMap:
      source.Map([](int64_t x) { return x * 2 + 1; })
          .Uid("map")
          .AddSink(DiscardSink<int64_t>())
          .Uid("sink");
      break;
    case JobKind::kReduce:
      source.KeyBy([keys](int64_t x) { return x % keys; })
          .Reduce([](const int64_t& a, const int64_t& b) { return a + b; })
          .Uid("reduce")
          .AddSink(DiscardSink<int64_t>())
          .Uid("sink");
      break;
    case JobKind::kProcess:
      source.KeyBy([keys](int64_t x) { return x % keys; })
          .Process(CountPerKey())
          .Uid("count")
          .AddSink(DiscardSink<int64_t>())
          .Uid("sink");
      break;
  }

  Usage before = ProcessUsage();
  auto wall_before = std::chrono::steady_clock::now();
  JobExecutionResult result = env->Execute(std::string("bench-") + JobName(kind));
  auto wall_after = std::chrono::steady_clock::now();
  Usage after = ProcessUsage();

  RunResult run;
  run.wall_s = std::chrono::duration<double>(wall_after - wall_before).count();
  run.cpu_s = after.cpu_s - before.cpu_s;
  run.context_switches = after.context_switches - before.context_switches;
  run.records = g_sink_records.load();
  run.checkpoints = result.completed_checkpoints;
  run.ok = result.ok() && run.records == n;
  if (!result.ok()) {
    std::fprintf(stderr, "runtime_bench: job %s failed: %s\n", JobName(kind),
                 result.failure.ToString().c_str());
  } else if (run.records != n) {
    std::fprintf(stderr,
                 "runtime_bench: job %s delivered %lld records to the sink, expected %lld\n",
                 JobName(kind), static_cast<long long>(run.records), static_cast<long long>(n));
  }
  if (kind == JobKind::kMap && run.ok) {
    // sum over x in [0, n) of 2x + 1 is n^2 (mod 2^64): a check that every record went through the
    // map.
    uint64_t expected = static_cast<uint64_t>(n) * static_cast<uint64_t>(n);
    if (g_sink_checksum.load() != expected) {
      std::fprintf(stderr, "runtime_bench: map checksum %llu, expected %llu\n",
                   static_cast<unsigned long long>(g_sink_checksum.load()),
                   static_cast<unsigned long long>(expected));
      run.ok = false;
    }
  }
  if (!checkpoint_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(checkpoint_dir, ignored);
  }
  return run;
}

// ---- statistics ----

struct Summary {
  double median = 0, min = 0, max = 0;
};

Summary Summarize(std::vector<double> values) {
  Summary s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  s.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.min = values.front();
  s.max = values.back();
  return s;
}

struct Row {
  JobKind kind;
  int parallelism;
  bool checkpointing;
  int64_t n;
  std::vector<RunResult> runs;

  Summary RecordsPerSecond() const {
    std::vector<double> v;
    v.reserve(runs.size());
    for (const RunResult& r : runs) v.push_back(static_cast<double>(n) / r.wall_s);
    return Summarize(v);
  }
  Summary CpuNanosPerRecord() const {
    std::vector<double> v;
    v.reserve(runs.size());
    for (const RunResult& r : runs) v.push_back(r.cpu_s * 1e9 / static_cast<double>(n));
    return Summarize(v);
  }
  Summary Wall() const {
    std::vector<double> v;
    v.reserve(runs.size());
    for (const RunResult& r : runs) v.push_back(r.wall_s);
    return Summarize(v);
  }
  Summary CpuSeconds() const {
    std::vector<double> v;
    v.reserve(runs.size());
    for (const RunResult& r : runs) v.push_back(r.cpu_s);
    return Summarize(v);
  }
  Summary Cores() const {
    std::vector<double> v;
    v.reserve(runs.size());
    for (const RunResult& r : runs) v.push_back(r.cpu_s / r.wall_s);
    return Summarize(v);
  }
  Summary ContextSwitchesPerMillion() const {
    std::vector<double> v;
    v.reserve(runs.size());
    for (const RunResult& r : runs)
      v.push_back(static_cast<double>(r.context_switches) * 1e6 / static_cast<double>(n));
    return Summarize(v);
  }
  Summary Checkpoints() const {
    std::vector<double> v;
    v.reserve(runs.size());
    for (const RunResult& r : runs) v.push_back(static_cast<double>(r.checkpoints));
    return Summarize(v);
  }
};

// ---- flags ----

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

[[noreturn]] void PrintUsageAndExit(const char* program, const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "%s: %s\n", program, error.c_str());
  std::fprintf(
      stderr,
      "usage: %s [--reps=7] [--seconds=3] [--records=N] [--jobs=map,reduce,process]\n"
      "          [--parallelism=1,2] [--checkpointing=off,on] [--keys=1000] [--interval-ms=1000]\n",
      program);
  std::exit(error.empty() ? 0 : 2);
}

Options ParseFlags(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") PrintUsageAndExit(argv[0], "");
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos)
      PrintUsageAndExit(argv[0], "unknown argument " + arg);
    std::string key = arg.substr(2, eq - 2);
    std::string value = arg.substr(eq + 1);
    try {
      if (key == "reps") {
        options.reps = std::stoi(value);
      } else if (key == "seconds") {
        options.seconds = std::stod(value);
      } else if (key == "records") {
        options.records = std::stoll(value);
      } else if (key == "interval-ms") {
        options.interval_ms = std::stoll(value);
      } else if (key == "keys") {
        options.keys = std::stoll(value);
      } else if (key == "jobs") {
        options.jobs.clear();
        for (const std::string& j : SplitCommas(value)) {
          if (j == "map")
            options.jobs.push_back(JobKind::kMap);
          else if (j == "reduce")
            options.jobs.push_back(JobKind::kReduce);
          else if (j == "process")
            options.jobs.push_back(JobKind::kProcess);
          else
            PrintUsageAndExit(argv[0], "unknown job " + j);
        }
      } else if (key == "parallelism") {
        options.parallelism.clear();
        for (const std::string& p : SplitCommas(value)) options.parallelism.push_back(std::stoi(p));
      } else if (key == "checkpointing") {
        options.checkpointing.clear();
        for (const std::string& c : SplitCommas(value)) {
          if (c == "off")
            options.checkpointing.push_back(false);
          else if (c == "on")
            options.checkpointing.push_back(true);
          else
            PrintUsageAndExit(argv[0], "--checkpointing takes off, on or off,on");
        }
      } else {
        PrintUsageAndExit(argv[0], "unknown flag --" + key);
      }
    } catch (const std::logic_error&) {
      PrintUsageAndExit(argv[0], "bad value in " + arg);
    }
  }
  if (options.reps < 1 || options.seconds <= 0 || options.records < 0 || options.keys < 1 ||
      options.interval_ms < 10 || options.jobs.empty() || options.parallelism.empty() ||
      options.checkpointing.empty()) {
    PrintUsageAndExit(
        argv[0],
        "every flag needs a positive value (the interval at least 10 ms) and every list at least "
        "one entry");
  }
  return options;
}

// N for a run of about `seconds` without checkpointing, from warm-up runs (which also warm
// the allocator and the page cache) doubled until one takes half a second. Rounded to a million.
int64_t Calibrate(JobKind kind, int parallelism, const Options& options, bool& ok) {
  int64_t probe = 1'000'000;
  while (true) {
    RunResult warmup = RunJob(kind, parallelism, false, probe, options.keys, options.interval_ms);
    ok = ok && warmup.ok;
    if (warmup.wall_s >= 0.5 || probe >= (int64_t{1} << 40)) {
      double rate = static_cast<double>(probe) / warmup.wall_s;
      int64_t millions = std::max<int64_t>(1, std::llround(rate * options.seconds / 1e6));
      return millions * 1'000'000;
    }
    probe *= 2;
  }
}

std::string Millions(double records_per_second) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", records_per_second / 1e6);
  return text;
}

std::string Fixed(double value, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = ParseFlags(argc, argv);
  bool ok = true;
  std::vector<Row> rows;

  for (JobKind kind : options.jobs) {
    for (int parallelism : options.parallelism) {
      int64_t n = options.records > 0 ? options.records : Calibrate(kind, parallelism, options, ok);
      std::fprintf(stderr, "%s p=%d: N=%lld, %d repetitions\n", JobName(kind), parallelism,
                   static_cast<long long>(n), options.reps);
      size_t first = rows.size();
      for (bool checkpointing : options.checkpointing)
        rows.push_back(Row{kind, parallelism, checkpointing, n, {}});
      for (int rep = 0; rep < options.reps; ++rep) {
        // Alternate the order of the variants so that a slow phase of the machine hits both.
        for (size_t v = 0; v < options.checkpointing.size(); ++v) {
          size_t index = rep % 2 == 0 ? v : options.checkpointing.size() - 1 - v;
          Row& row = rows[first + index];
          RunResult run =
              RunJob(kind, parallelism, row.checkpointing, n, options.keys, options.interval_ms);
          ok = ok && run.ok;
          std::fprintf(stderr,
                       "  rep %d checkpointing=%-3s  %6.3f s  %7s M rec/s  %6.1f ns CPU/rec  %5.2f "
                       "cores  %7lld ctx sw  "
                       "%lld checkpoints\n",
                       rep + 1, row.checkpointing ? "on" : "off", run.wall_s,
                       Millions(static_cast<double>(n) / run.wall_s).c_str(),
                       run.cpu_s * 1e9 / static_cast<double>(n), run.cpu_s / run.wall_s,
                       static_cast<long long>(run.context_switches),
                       static_cast<long long>(run.checkpoints));
          row.runs.push_back(run);
        }
      }
    }
  }

  std::printf(
      "\nrecords/s in millions and CPU ns per record (getrusage user+sys / N): median [min, max] "
      "of %d runs\n\n",
      options.reps);
  std::printf(
      "| job | p | checkpointing | N | M records/s | CPU ns/record | wall s | cores busy | ctx "
      "switches/M records | checkpoints/run |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Row& row : rows) {
    Summary rate = row.RecordsPerSecond();
    Summary cpu = row.CpuNanosPerRecord();
    Summary wall = row.Wall();
    Summary checkpoints = row.Checkpoints();
    Summary cores = row.Cores();
    Summary switches = row.ContextSwitchesPerMillion();
    std::string mode =
        row.checkpointing ? "every " + std::to_string(options.interval_ms) + " ms" : "off";
    std::printf("| %s | %d | %s | %lldM | %s [%s, %s] | %s [%s, %s] | %s | %s | %s | %s |\n",
                JobName(row.kind), row.parallelism, mode.c_str(),
                static_cast<long long>(row.n / 1'000'000), Millions(rate.median).c_str(),
                Millions(rate.min).c_str(), Millions(rate.max).c_str(),
                Fixed(cpu.median, 1).c_str(), Fixed(cpu.min, 1).c_str(), Fixed(cpu.max, 1).c_str(),
                Fixed(wall.median, 2).c_str(), Fixed(cores.median, 2).c_str(),
                Fixed(switches.median, 0).c_str(), Fixed(checkpoints.median, 0).c_str());
  }

  // Checkpoint overhead: the medians with checkpointing against those without.
  bool header = false;
  for (size_t i = 0; i + 1 < rows.size(); ++i) {
    const Row& off = rows[i];
    const Row& on = rows[i + 1];
    if (off.checkpointing || !on.checkpointing || off.kind != on.kind ||
        off.parallelism != on.parallelism)
      continue;
    if (!header) {
      std::printf(
          "\ncheckpointing every %lld ms, relative to none (positive = costs more); medians "
          "against\n"
          "medians, and best run against best run (noise on a shared machine only ever slows a "
          "run)\n\n",
          static_cast<long long>(options.interval_ms));
      std::printf(
          "| job | p | throughput loss, medians | CPU/record increase, medians | throughput loss, "
          "best | "
          "CPU/record increase, best | extra wall ms per checkpoint | extra CPU ms per checkpoint "
          "|\n"
          "|---|---|---|---|---|---|---|---|\n");
      header = true;
    }
    double loss = (1.0 - on.RecordsPerSecond().median / off.RecordsPerSecond().median) * 100.0;
    double cpu = (on.CpuNanosPerRecord().median / off.CpuNanosPerRecord().median - 1.0) * 100.0;
    double best_loss = (1.0 - on.RecordsPerSecond().max / off.RecordsPerSecond().max) * 100.0;
    double best_cpu = (on.CpuNanosPerRecord().min / off.CpuNanosPerRecord().min - 1.0) * 100.0;
    // Per checkpoint: what the medians of whole runs differ by, over the checkpoints of a run.
    // Only meaningful when checkpoints are frequent enough to stand out of the noise.
    double checkpoints = on.Checkpoints().median;
    std::string wall_per = "n/a", cpu_per = "n/a";
    if (checkpoints > 0) {
      wall_per = Fixed((on.Wall().median - off.Wall().median) * 1e3 / checkpoints, 2);
      cpu_per = Fixed((on.CpuSeconds().median - off.CpuSeconds().median) * 1e3 / checkpoints, 2);
    }
    std::printf("| %s | %d | %+.1f %% | %+.1f %% | %+.1f %% | %+.1f %% | %s | %s |\n",
                JobName(off.kind), off.parallelism, loss, cpu, best_loss, best_cpu,
                wall_per.c_str(), cpu_per.c_str());
  }

  std::printf("\njobs:\n");
  for (JobKind kind : options.jobs) std::printf("  %-8s %s\n", JobName(kind), JobDescription(kind));
  std::printf("  keys: %lld\n", static_cast<long long>(options.keys));
  if (!ok)
    std::fprintf(stderr,
                 "runtime_bench: some runs failed or lost records; their figures mean nothing\n");
  return ok ? 0 : 1;
}
