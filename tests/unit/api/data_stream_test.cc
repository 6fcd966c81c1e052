// DataStream behaviour, end to end in real in-process jobs: Map, FlatMap, Filter (plain
// callables and Rich functions), chains of them, the bounded built-in sources and Union.
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {
namespace {

using Strings = std::vector<std::string>;
using Ints = std::vector<int64_t>;

Ints Range(int64_t from, int64_t to) {
  Ints out(static_cast<size_t>(to - from + 1));
  std::iota(out.begin(), out.end(), from);
  return out;
}

// ---- Map ----

TEST(DataStreamMapTest, LambdaMapsEveryElementInOrderAtParallelism1) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->FromElements<int64_t>(1, 2, 3, 4)
      .Map([](int64_t n) { return "n=" + std::to_string(n * 10); })
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("map-lambda");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (Strings{"n=10", "n=20", "n=30", "n=40"}));
}

struct Lifecycle {
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  std::atomic<int> mapped_before_open{0};
};

// Reports where it runs, as seen through its RuntimeContext, with every element.
class DescribeContext final : public RichMapFunction<int64_t, std::string> {
 public:
  explicit DescribeContext(Lifecycle* lifecycle) : lifecycle_(lifecycle) {}
  void Open() override {
    open_ = true;
    ++lifecycle_->opened;
  }
  void Close() override { ++lifecycle_->closed; }
  std::string Map(int64_t value) override {
    if (!open_) ++lifecycle_->mapped_before_open;
    RuntimeContext& ctx = GetRuntimeContext();
    return ctx.GetJobName() + " subtask=" + std::to_string(ctx.GetIndexOfThisSubtask()) +
           " of=" + std::to_string(ctx.GetNumberOfParallelSubtasks()) +
           " attempt=" + std::to_string(ctx.GetAttemptNumber()) + " value=" + std::to_string(value);
  }

 private:
  Lifecycle* lifecycle_;
  bool open_ = false;
};

TEST(DataStreamMapTest, RichMapFunctionIsOpenedAndClosedPerInstanceAndSeesItsRuntimeContext) {
  Lifecycle lifecycle;
  Collected<std::string> out;
  auto env = TestEnv(3);
  // One element per instance: Rebalance from the single collection source starts at one
  // instance and goes round robin, so 3 elements reach 3 different instances.
  env->FromElements<int64_t>(7, 7, 7)
      .Rebalance()
      .Map(DescribeContext(&lifecycle))
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("context-job");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(lifecycle.opened.load(), 3);
  EXPECT_EQ(lifecycle.closed.load(), 3);
  EXPECT_EQ(lifecycle.mapped_before_open.load(), 0);
  // Sorted: the three instances write to their sinks concurrently.
  EXPECT_EQ(out.Sorted(), (Strings{"context-job subtask=0 of=3 attempt=0 value=7",
                                   "context-job subtask=1 of=3 attempt=0 value=7",
                                   "context-job subtask=2 of=3 attempt=0 value=7"}));
}

TEST(DataStreamMapTest, TaskNameOfARichFunctionIsTheOperatorName) {
  class TaskName final : public RichMapFunction<int64_t, std::string> {
   public:
    std::string Map(int64_t) override { return GetRuntimeContext().GetTaskName(); }
  };
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->FromElements<int64_t>(1)
      .Map(TaskName())
      .Name("describe")
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("task-name");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (Strings{"describe"}));
}

// ---- FlatMap ----

TEST(DataStreamFlatMapTest, LambdaWithExplicitOutputTypeSplitsLines) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->FromElements<std::string>("to be", "", "or not")
      .FlatMap<std::string>([](std::string line, Collector<std::string>& words) {
        size_t start = 0;
        while (start < line.size()) {
          size_t end = line.find(' ', start);
          if (end == std::string::npos) end = line.size();
          if (end > start) words.Collect(line.substr(start, end - start));
          start = end + 1;
        }
      })
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("flatmap-lambda");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (Strings{"to", "be", "or", "not"}));
}

// Emits n copies of n: one record to many, and 0 to none.
class Repeat final : public RichFlatMapFunction<int64_t, int64_t> {
 public:
  void FlatMap(int64_t n, Collector<int64_t>& out) override {
    for (int64_t i = 0; i < n; ++i) out.Collect(n);
  }
};

TEST(DataStreamFlatMapTest, RichFlatMapFunctionEmitsManyOrNoRecordsPerInput) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->FromElements<int64_t>(3, 0, 1, 0, 2).FlatMap(Repeat()).AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("flatmap-rich");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (Ints{3, 3, 3, 1, 2, 2}));
}

// ---- Filter ----

TEST(DataStreamFilterTest, LambdaKeepsOnlyMatchingElements) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->FromCollection<int64_t>(Range(1, 10))
      .Filter([](const int64_t& n) { return n % 3 == 0; })
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("filter-lambda");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (Ints{3, 6, 9}));
}

// Keeps values above a threshold that only Open() sets: filtering before Open() keeps nothing.
class AboveThreshold final : public RichFilterFunction<int64_t> {
 public:
  void Open() override { threshold_ = 5; }
  bool Filter(const int64_t& value) override { return value > threshold_; }

 private:
  int64_t threshold_ = 1000;
};

TEST(DataStreamFilterTest, RichFilterFunctionIsOpenedBeforeFiltering) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->FromCollection<int64_t>(Range(1, 8))
      .Filter(AboveThreshold())
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("filter-rich");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (Ints{6, 7, 8}));
}

// ---- chains ----

void BuildChain(StreamExecutionEnvironment& env, Collected<std::string>* out) {
  env.GenerateSequence(1, 1000)
      .Map([](int64_t n) { return n * 2; })
      .Filter([](const int64_t& n) { return n % 3 == 0; })
      .FlatMap<std::string>([](int64_t n, Collector<std::string>& c) {
        if (n % 4 == 0) c.Collect(std::to_string(n) + "a");
        c.Collect(std::to_string(n));
      })
      .Map([](std::string s) { return "<" + s + ">"; })
      .AddSink(CollectSink<std::string>(out));
}

Strings ExpectedChainOutput() {
  Strings expected;
  for (int64_t n = 1; n <= 1000; ++n) {
    int64_t m = n * 2;
    if (m % 3 != 0) continue;
    if (m % 4 == 0) expected.push_back("<" + std::to_string(m) + "a>");
    expected.push_back("<" + std::to_string(m) + ">");
  }
  return expected;
}

TEST(DataStreamChainTest, ChainedOperatorsAtParallelism1KeepTheOrder) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  BuildChain(*env, &out);

  JobExecutionResult result = env->Execute("chain-1");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), ExpectedChainOutput());
}

TEST(DataStreamChainTest, ChainedOperatorsAtParallelism3ProduceEveryResultOnce) {
  Collected<std::string> out;
  auto env = TestEnv(3);
  BuildChain(*env, &out);

  JobExecutionResult result = env->Execute("chain-3");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Sorted: three chains (one per share of the sequence) write concurrently.
  Strings expected = ExpectedChainOutput();
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(out.Sorted(), expected);
}

TEST(DataStreamChainTest, DisabledChainingGivesTheSameResults) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->DisableOperatorChaining();
  BuildChain(*env, &out);

  JobExecutionResult result = env->Execute("chain-off");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Parallelism 1 everywhere: one channel between each pair of tasks, so the order holds.
  EXPECT_EQ(out.Values(), ExpectedChainOutput());
}

// Adds one, and counts the records for which its RuntimeContext is not its own: each operator
// of a chain reaches its context through the task's slot for it.
class AddOneInOwnContext final : public RichMapFunction<int64_t, int64_t> {
 public:
  AddOneInOwnContext(std::string name, std::atomic<int>* wrong_context)
      : name_(std::move(name)), wrong_context_(wrong_context) {}
  int64_t Map(int64_t value) override {
    if (GetRuntimeContext().GetTaskName() != name_) ++*wrong_context_;
    return value + 1;
  }

 private:
  std::string name_;
  std::atomic<int>* wrong_context_;
};

TEST(DataStreamChainTest, ChainOfFortyOperatorsRunsWithEachOperatorInItsOwnContext) {
  constexpr int kMaps = 40;  // one task: the source and 40 maps chained, then the sink
  Collected<int64_t> out;
  std::atomic<int> wrong_context{0};
  auto env = TestEnv(1);
  DataStream<int64_t> stream = env->GenerateSequence(1, 1000);
  for (int i = 0; i < kMaps; ++i) {
    std::string name = "add-one-" + std::to_string(i);
    stream = stream.Map(AddOneInOwnContext(name, &wrong_context)).Name(name);
  }
  stream.AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("chain-40");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), Range(1 + kMaps, 1000 + kMaps));
  EXPECT_EQ(wrong_context.load(), 0);
}

// ---- bounded sources ----

TEST(DataStreamSourceTest, FromElementsKeepsTheOrderAtParallelism1) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->FromElements<std::string>("c", "a", "b", "a").AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("from-elements");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (Strings{"c", "a", "b", "a"}));
}

TEST(DataStreamSourceTest, FromCollectionKeepsTheOrderAtParallelism1) {
  Ints input;
  for (int64_t i = 5000; i > 0; --i) input.push_back(i * 7 % 1001);  // more than one poll batch
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->FromCollection<int64_t>(input).AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("from-collection");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), input);
}

TEST(DataStreamSourceTest, FromCollectionOfNothingFinishes) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->FromCollection<int64_t>({}).AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("from-nothing");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.size(), 0u);
}

TEST(DataStreamSourceTest, FromElementsRunsAtParallelism1UnderAParallelEnvironment) {
  Collected<std::pair<int32_t, int64_t>> out;
  auto env = TestEnv(3);
  // The map is chained to the source only if it has the source's parallelism; force that so
  // the tag is the source's instance.
  env->FromElements<int64_t>(1, 2, 3)
      .Map(TagWithSubtask<int64_t>())
      .SetParallelism(1)
      .AddSink(CollectSink<std::pair<int32_t, int64_t>>(&out));

  JobExecutionResult result = env->Execute("from-elements-p3");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Sorted: the three sink instances receive round robin and write concurrently.
  EXPECT_EQ(out.Sorted(), (std::vector<std::pair<int32_t, int64_t>>{{0, 1}, {0, 2}, {0, 3}}));
}

TEST(DataStreamSourceTest, GenerateSequenceSplitAcrossThreeInstancesEmitsEveryNumberOnce) {
  Collected<std::pair<int32_t, int64_t>> out;
  auto env = TestEnv(3);
  env->GenerateSequence(1, 10000)
      .Map(TagWithSubtask<int64_t>())  // chained: the tag is the source instance
      .AddSink(CollectSink<std::pair<int32_t, int64_t>>(&out));

  JobExecutionResult result = env->Execute("sequence");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::map<int32_t, Ints> by_subtask = BySubtask(out.Values());
  ASSERT_EQ(by_subtask.size(), 3u) << "every instance emits a share";
  Ints all;
  for (auto& [subtask, values] : by_subtask) {
    // Each instance emits its share in order.
    EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << "subtask " << subtask;
    all.insert(all.end(), values.begin(), values.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, Range(1, 10000));
}

// ---- Union ----

TEST(DataStreamUnionTest, UnionOfThreeStreamsDeliversEveryRecordOnce) {
  Collected<int64_t> out;
  auto env = TestEnv(2);
  DataStream<int64_t> a = env->FromCollection<int64_t>(Range(1, 100));
  DataStream<int64_t> b = env->GenerateSequence(101, 200);
  DataStream<int64_t> c =
      env->FromElements<int64_t>(201, 202, 203).Map([](int64_t n) { return n; });
  a.Union(b, c).Map([](int64_t n) { return n; }).AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("union");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Sorted: the inputs of a union are interleaved in no defined order.
  EXPECT_EQ(out.Sorted(), Range(1, 203));
}

}  // namespace
}  // namespace sluice::apitest
