// How records travel between operators, end to end: Rebalance, Shuffle, Broadcast, Forward,
// PartitionCustom and KeyBy. Each test tags records with the index of the instance that
// received them (a Rich map after the partitioning) and checks where they went.
#include <sluice/sluice.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <sluice/testing/status_matchers.h>

#include "unit/api/job_test_support.h"

using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;

namespace sluice::apitest {
namespace {

using Ints = std::vector<int64_t>;
using Tagged = std::pair<int32_t, int64_t>;

Ints Range(int64_t from, int64_t to) {
  Ints out(static_cast<size_t>(to - from + 1));
  std::iota(out.begin(), out.end(), from);
  return out;
}

Ints SortedValues(const std::vector<Tagged>& tagged) {
  Ints values;
  for (const auto& [subtask, value] : tagged) values.push_back(value);
  std::sort(values.begin(), values.end());
  return values;
}

TEST(PartitioningTest, RebalanceSendsRecordsRoundRobinToEveryInstance) {
  Collected<Tagged> out;
  auto env = TestEnv(3);
  env->FromCollection<int64_t>(Range(0, 29))  // one producer: its round robin is the whole story
      .Rebalance()
      .Map(TagWithSubtask<int64_t>())
      .AddSink(CollectSink<Tagged>(&out));

  JobExecutionResult result = env->Execute("rebalance");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::map<int64_t, int32_t> instance_of;
  for (const auto& [subtask, value] : out.Values()) instance_of[value] = subtask;
  ASSERT_EQ(instance_of.size(), 30u);
  std::map<int32_t, Ints> by_subtask = BySubtask(out.Values());
  ASSERT_EQ(by_subtask.size(), 3u);
  for (auto& [subtask, values] : by_subtask) EXPECT_EQ(values.size(), 10u) << "subtask " << subtask;
  // Round robin: consecutive records go to consecutive instances, whichever one it starts at.
  for (int64_t n = 0; n < 30; ++n) {
    EXPECT_EQ(instance_of[n], (instance_of[0] + n) % 3) << "record " << n;
  }
}

TEST(PartitioningTest, ShuffleDeliversEveryRecordOnceSpreadOverSeveralInstances) {
  Collected<Tagged> out;
  auto env = TestEnv(3);
  env->GenerateSequence(1, 3000)
      .SetParallelism(1)
      .Shuffle()
      .Map(TagWithSubtask<int64_t>())
      .AddSink(CollectSink<Tagged>(&out));

  JobExecutionResult result = env->Execute("shuffle");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(SortedValues(out.Values()), Range(1, 3000));
  // Random choice: all 3000 landing on one instance has probability 3 * 3^-3000.
  EXPECT_GT(BySubtask(out.Values()).size(), 1u);
}

TEST(PartitioningTest, BroadcastSendsEveryRecordToEveryInstance) {
  Collected<Tagged> out;
  auto env = TestEnv(3);
  env->FromElements<int64_t>(1, 2, 3, 4, 5)
      .Broadcast()
      .Map(TagWithSubtask<int64_t>())
      .AddSink(CollectSink<Tagged>(&out));

  JobExecutionResult result = env->Execute("broadcast");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::map<int32_t, Ints> by_subtask = BySubtask(out.Values());
  ASSERT_EQ(by_subtask.size(), 3u);
  // One producer, one channel per instance: each instance sees the records in order.
  for (auto& [subtask, values] : by_subtask)
    EXPECT_EQ(values, (Ints{1, 2, 3, 4, 5})) << "subtask " << subtask;
}

// (source instance, receiving instance) for each record.
class TagTwice final : public RichMapFunction<Tagged, std::pair<Tagged, int32_t>> {
 public:
  std::pair<Tagged, int32_t> Map(Tagged in) override {
    return {in, GetRuntimeContext().GetIndexOfThisSubtask()};
  }
};

void ForwardKeepsTheInstance(bool chaining) {
  Collected<std::pair<Tagged, int32_t>> out;
  auto env = TestEnv(3);
  if (!chaining) env->DisableOperatorChaining();
  env->GenerateSequence(1, 3000)
      .Map(TagWithSubtask<int64_t>())
      .Forward()
      .Map(TagTwice())
      .AddSink(CollectSink<std::pair<Tagged, int32_t>>(&out));

  JobExecutionResult result = env->Execute("forward");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::vector<std::pair<Tagged, int32_t>> values = out.Values();
  ASSERT_EQ(values.size(), 3000u);
  std::set<int32_t> used;
  for (const auto& [tagged, receiver] : values) {
    EXPECT_EQ(tagged.first, receiver) << "record " << tagged.second;
    used.insert(receiver);
  }
  EXPECT_EQ(used.size(), 3u);
}

TEST(PartitioningTest, ForwardWithEqualParallelismKeepsEachRecordOnItsInstance) {
  ForwardKeepsTheInstance(true);
}

TEST(PartitioningTest, ForwardOverTheNetworkKeepsEachRecordOnItsInstance) {
  ForwardKeepsTheInstance(false);
}

TEST(PartitioningTest, ForwardBetweenDifferentParallelismsFailsExecuteNamingForward) {
  Collected<int64_t> out;
  auto env = TestEnv(3);
  env->GenerateSequence(1, 10)
      .SetParallelism(2)
      .Forward()
      .Map([](int64_t n) { return n; })
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("bad-forward");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(result.failure.message(), HasSubstr("Forward()")) << result.failure.ToString();
  EXPECT_THAT(result.failure.message(), HasSubstr("parallelism 2")) << result.failure.ToString();
  EXPECT_THAT(result.failure.message(), HasSubstr("parallelism 3")) << result.failure.ToString();
  EXPECT_EQ(out.size(), 0u);
}

int32_t PickInstance(const int64_t& key, int num_partitions) {
  return static_cast<int32_t>((key * 7 + 1) % num_partitions);
}

TEST(PartitioningTest, PartitionCustomSendsEachRecordToTheInstanceTheFunctionChose) {
  Collected<Tagged> out;
  auto env = TestEnv(3);
  env->GenerateSequence(0, 299)
      .PartitionCustom(&PickInstance, [](const int64_t& n) { return n / 10; })
      .Map(TagWithSubtask<int64_t>())
      .AddSink(CollectSink<Tagged>(&out));

  JobExecutionResult result = env->Execute("partition-custom");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::vector<Tagged> values = out.Values();
  EXPECT_EQ(SortedValues(values), Range(0, 299));
  for (const auto& [subtask, value] : values)
    EXPECT_EQ(subtask, PickInstance(value / 10, 3)) << "record " << value;
}

TEST(PartitioningTest, PartitionCustomReturningAnInvalidInstanceFailsTheJob) {
  Collected<int64_t> out;
  auto env = TestEnv(3);
  env->FromElements<int64_t>(1, 2)
      .PartitionCustom([](const int64_t&, int num_partitions) { return num_partitions; },
                       [](const int64_t& n) { return n; })
      .Map([](int64_t n) { return n; })
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("partition-custom-bad");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure.message(),
              HasSubstr("PartitionCustom function returned partition 3 for 3 partitions"))
      << result.failure.ToString();
}

TEST(PartitioningTest, KeyBySendsAllRecordsOfAKeyToOneInstanceAsFlinkDoes) {
  Collected<Tagged> out;
  auto env = TestEnv(3);
  env->GenerateSequence(1, 3000)
      .KeyBy([](int64_t n) { return n % 17; })
      .Map(TagWithSubtask<int64_t>())
      .AddSink(CollectSink<Tagged>(&out));

  JobExecutionResult result = env->Execute("keyby");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::vector<Tagged> values = out.Values();
  EXPECT_EQ(SortedValues(values), Range(1, 3000));
  std::map<int64_t, std::set<int32_t>> instances_of_key;
  for (const auto& [subtask, value] : values) instances_of_key[value % 17].insert(subtask);
  std::set<int32_t> used;
  for (const auto& [key, instances] : instances_of_key) {
    ASSERT_EQ(instances.size(), 1u) << "key " << key;
    // Flink's placement: murmur(hashCode) -> key group -> operator index.
    int32_t key_group = detail::KeyGroupForKeyHash(KeyHash<int64_t>::HashCode(key), 128);
    EXPECT_EQ(*instances.begin(), detail::OperatorIndexForKeyGroup(128, 3, key_group))
        << "key " << key;
    used.insert(*instances.begin());
  }
  EXPECT_EQ(used.size(), 3u) << "17 keys spread over all three instances";
}

}  // namespace
}  // namespace sluice::apitest
