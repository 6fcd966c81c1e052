// KeyedStream behaviour, end to end: Reduce and the Sum/Min/Max aggregations (their running
// results per key), keyed state in Rich functions after KeyBy, and keyed state used where no
// key exists.
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {

struct Reading {
  std::string sensor;
  int64_t time = 0;
  int64_t value = 0;
  friend bool operator==(const Reading&, const Reading&) = default;
  friend auto operator<=>(const Reading&, const Reading&) = default;
};

inline void PrintTo(const Reading& r, std::ostream* os) {
  *os << "{" << r.sensor << ", " << r.time << ", " << r.value << "}";
}

}  // namespace sluice::apitest

namespace sluice {
template <>
struct TypeSerializer<apitest::Reading> {
  static constexpr std::uint32_t kVersion = 1;
  static void Serialize(const apitest::Reading& r, DataOutput& out) {
    out.WriteString(r.sensor);
    out.WriteVarI64(r.time);
    out.WriteVarI64(r.value);
  }
  static apitest::Reading Deserialize(DataInput& in, std::uint32_t) {
    apitest::Reading r;
    r.sensor = in.ReadString();
    r.time = in.ReadVarI64();
    r.value = in.ReadVarI64();
    return r;
  }
};
}  // namespace sluice

namespace sluice::apitest {
namespace {

using Ints = std::vector<int64_t>;
using Named = std::pair<std::string, int64_t>;

/// Output values grouped by key, each key's values in arrival order. Records of one key all
/// come from one source instance through one channel to one instance, so their order is
/// defined even though keys interleave.
template <typename T, typename F>
std::map<std::string, std::vector<T>> PerKey(const std::vector<T>& values, F key) {
  std::map<std::string, std::vector<T>> out;
  for (const T& v : values) out[key(v)].push_back(v);
  return out;
}

// ---- Reduce and aggregations ----

TEST(KeyedStreamReduceTest, ReduceEmitsTheRunningResultPerKeyAfterEveryElement) {
  Collected<Named> out;
  auto env = TestEnv(3);
  env->FromCollection<Named>({{"a", 1}, {"b", 10}, {"a", 2}, {"c", 100}, {"b", 20}, {"a", 3}})
      .KeyBy([](const Named& p) { return p.first; })
      .Reduce([](const Named& acc, const Named& v) {
        return Named{acc.first, acc.second * 10 + v.second};
      })
      .AddSink(CollectSink<Named>(&out));

  JobExecutionResult result = env->Execute("reduce");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto per_key = PerKey(out.Values(), [](const Named& p) { return p.first; });
  EXPECT_EQ(per_key["a"], (std::vector<Named>{{"a", 1}, {"a", 12}, {"a", 123}}));
  EXPECT_EQ(per_key["b"], (std::vector<Named>{{"b", 10}, {"b", 120}}));
  EXPECT_EQ(per_key["c"], (std::vector<Named>{{"c", 100}}));
  EXPECT_EQ(per_key.size(), 3u);
}

TEST(KeyedStreamReduceTest, SumOnAnArithmeticStreamKeyedByParity) {
  Collected<int64_t> out;
  auto env = TestEnv(2);
  env->GenerateSequence(1, 10)
      .SetParallelism(1)  // one source instance: each key's records arrive in order
      .KeyBy([](int64_t n) { return n % 2; })
      .Sum()
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("sum");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Odd: 1, 4, 9, 16, 25. Even: 2, 6, 12, 20, 30. Sorted: both keys' outputs interleave.
  EXPECT_EQ(out.Sorted(), (Ints{1, 2, 4, 6, 9, 12, 16, 20, 25, 30}));
  // Per key (the parity of a running sum of odd numbers alternates, so group by hand).
  Ints odd, even;
  for (int64_t v : out.Values())
    (v == 1 || v == 4 || v == 9 || v == 16 || v == 25 ? odd : even).push_back(v);
  EXPECT_EQ(odd, (Ints{1, 4, 9, 16, 25}));
  EXPECT_EQ(even, (Ints{2, 6, 12, 20, 30}));
}

TEST(KeyedStreamReduceTest, MinAndMaxOnAnArithmeticStream) {
  Collected<double> mins;
  Collected<double> maxs;
  auto env = TestEnv(1);
  DataStream<double> input = env->FromElements<double>(5.0, 3.0, 8.0, 1.0, 9.0);
  input.KeyBy([](double) { return 0; }).Min().AddSink(CollectSink<double>(&mins));
  input.KeyBy([](double) { return 0; }).Max().AddSink(CollectSink<double>(&maxs));

  JobExecutionResult result = env->Execute("min-max");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(mins.Values(), (std::vector<double>{5.0, 3.0, 3.0, 1.0, 1.0}));
  EXPECT_EQ(maxs.Values(), (std::vector<double>{5.0, 5.0, 8.0, 8.0, 9.0}));
}

std::vector<Reading> Readings() {
  return {{"a", 1, 10}, {"b", 2, 7}, {"a", 3, 5}, {"a", 4, 20}, {"b", 5, 9}};
}

TEST(KeyedStreamReduceTest, SumOfAStructFieldKeepsTheOtherFieldsOfTheFirstElement) {
  Collected<Reading> out;
  auto env = TestEnv(2);
  env->FromCollection<Reading>(Readings())
      .KeyBy([](const Reading& r) { return r.sensor; })
      .Sum(&Reading::value)
      .AddSink(CollectSink<Reading>(&out));

  JobExecutionResult result = env->Execute("sum-field");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto per_key = PerKey(out.Values(), [](const Reading& r) { return r.sensor; });
  EXPECT_EQ(per_key["a"], (std::vector<Reading>{{"a", 1, 10}, {"a", 1, 15}, {"a", 1, 35}}));
  EXPECT_EQ(per_key["b"], (std::vector<Reading>{{"b", 2, 7}, {"b", 2, 16}}));
}

TEST(KeyedStreamReduceTest, MinOfAStructFieldKeepsTheOtherFieldsOfTheFirstElement) {
  Collected<Reading> out;
  auto env = TestEnv(2);
  env->FromCollection<Reading>(Readings())
      .KeyBy([](const Reading& r) { return r.sensor; })
      .Min(&Reading::value)
      .AddSink(CollectSink<Reading>(&out));

  JobExecutionResult result = env->Execute("min-field");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto per_key = PerKey(out.Values(), [](const Reading& r) { return r.sensor; });
  EXPECT_EQ(per_key["a"], (std::vector<Reading>{{"a", 1, 10}, {"a", 1, 5}, {"a", 1, 5}}));
  EXPECT_EQ(per_key["b"], (std::vector<Reading>{{"b", 2, 7}, {"b", 2, 7}}));
}

TEST(KeyedStreamReduceTest, MaxOfAStructFieldKeepsTheOtherFieldsOfTheFirstElement) {
  Collected<Reading> out;
  auto env = TestEnv(2);
  env->FromCollection<Reading>(Readings())
      .KeyBy([](const Reading& r) { return r.sensor; })
      .Max(&Reading::value)
      .AddSink(CollectSink<Reading>(&out));

  JobExecutionResult result = env->Execute("max-field");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto per_key = PerKey(out.Values(), [](const Reading& r) { return r.sensor; });
  EXPECT_EQ(per_key["a"], (std::vector<Reading>{{"a", 1, 10}, {"a", 1, 10}, {"a", 1, 20}}));
  EXPECT_EQ(per_key["b"], (std::vector<Reading>{{"b", 2, 7}, {"b", 2, 9}}));
}

TEST(KeyedStreamReduceTest, SumOfThePairFieldWithIndex1) {
  Collected<Named> out;
  auto env = TestEnv(3);
  env->FromCollection<Named>({{"x", 1}, {"y", 2}, {"x", 3}, {"y", 4}, {"x", 5}})
      .KeyBy([](const Named& p) { return p.first; })
      .Sum<1>()
      .AddSink(CollectSink<Named>(&out));

  JobExecutionResult result = env->Execute("sum-pair");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto per_key = PerKey(out.Values(), [](const Named& p) { return p.first; });
  EXPECT_EQ(per_key["x"], (std::vector<Named>{{"x", 1}, {"x", 4}, {"x", 9}}));
  EXPECT_EQ(per_key["y"], (std::vector<Named>{{"y", 2}, {"y", 6}}));
}

// ---- keyed state in Rich functions ----

// "<sum>/<count>" of the inputs: an AggregatingState's result differs from its accumulator.
class SumAndCount final
    : public AggregateFunction<int64_t, std::pair<int64_t, int64_t>, std::string> {
 public:
  std::pair<int64_t, int64_t> CreateAccumulator() override { return {0, 0}; }
  std::pair<int64_t, int64_t> Add(const int64_t& value, std::pair<int64_t, int64_t> acc) override {
    return {acc.first + value, acc.second + 1};
  }
  std::string GetResult(const std::pair<int64_t, int64_t>& acc) override {
    return std::to_string(acc.first) + "/" + std::to_string(acc.second);
  }
  std::pair<int64_t, int64_t> Merge(std::pair<int64_t, int64_t> a,
                                    std::pair<int64_t, int64_t> b) override {
    return {a.first + b.first, a.second + b.second};
  }
};

// Uses every kind of keyed state; emits
// "<key> count=<n> list=<values> distinct=<n> max=<m> agg=<sum>/<count>".
class AllKindsOfState final : public RichMapFunction<Named, std::string> {
 public:
  void Open() override {
    RuntimeContext& ctx = GetRuntimeContext();
    count_ = &ctx.GetState(ValueStateDescriptor<int64_t>("count", 0));
    history_ = &ctx.GetListState(ListStateDescriptor<int64_t>("history"));
    seen_ = &ctx.GetMapState(MapStateDescriptor<int64_t, int64_t>("seen"));
    max_ = &ctx.GetReducingState(ReducingStateDescriptor<int64_t>(
        "max", [](const int64_t& a, const int64_t& b) { return std::max(a, b); }));
    agg_ = &ctx.GetAggregatingState(
        AggregatingStateDescriptor<int64_t, std::pair<int64_t, int64_t>, std::string>(
            "agg", SumAndCount()));
  }
  std::string Map(Named in) override {
    count_->Update(count_->Value().value() + 1);
    history_->Add(in.second);
    seen_->Put(in.second, seen_->Get(in.second).value_or(0) + 1);
    max_->Add(in.second);
    agg_->Add(in.second);
    std::string list;
    for (int64_t v : history_->Get()) list += (list.empty() ? "" : ",") + std::to_string(v);
    return in.first + " count=" + std::to_string(*count_->Value()) + " list=" + list +
           " distinct=" + std::to_string(seen_->Entries().size()) +
           " max=" + std::to_string(*max_->Get()) + " agg=" + agg_->Get().value();
  }

 private:
  ValueState<int64_t>* count_ = nullptr;
  ListState<int64_t>* history_ = nullptr;
  MapState<int64_t, int64_t>* seen_ = nullptr;
  ReducingState<int64_t>* max_ = nullptr;
  AggregatingState<int64_t, std::string>* agg_ = nullptr;
};

TEST(KeyedStreamStateTest, ValueListMapReducingAndAggregatingStateArePerKey) {
  Collected<std::string> out;
  auto env = TestEnv(3);
  env->FromCollection<Named>({{"a", 5}, {"b", 1}, {"a", 3}, {"a", 5}, {"b", 2}, {"c", 9}, {"a", 7}})
      .KeyBy([](const Named& p) { return p.first; })
      .Map(AllKindsOfState())
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("keyed-state");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto per_key = PerKey(out.Values(), [](const std::string& s) { return s.substr(0, 1); });
  EXPECT_EQ(per_key["a"],
            (std::vector<std::string>{"a count=1 list=5 distinct=1 max=5 agg=5/1",
                                      "a count=2 list=5,3 distinct=2 max=5 agg=8/2",
                                      "a count=3 list=5,3,5 distinct=2 max=5 agg=13/3",
                                      "a count=4 list=5,3,5,7 distinct=3 max=7 agg=20/4"}));
  EXPECT_EQ(per_key["b"],
            (std::vector<std::string>{"b count=1 list=1 distinct=1 max=1 agg=1/1",
                                      "b count=2 list=1,2 distinct=2 max=2 agg=3/2"}));
  EXPECT_EQ(per_key["c"], (std::vector<std::string>{"c count=1 list=9 distinct=1 max=9 agg=9/1"}));
}

TEST(KeyedStreamStateTest, KeyedStateInAFilterAfterKeyByDropsRepeats) {
  class FirstPerKey final : public RichFilterFunction<Named> {
   public:
    void Open() override {
      seen_ = &GetRuntimeContext().GetState(ValueStateDescriptor<bool>("seen"));
    }
    bool Filter(const Named&) override {
      if (seen_->Value().has_value()) return false;
      seen_->Update(true);
      return true;
    }

   private:
    ValueState<bool>* seen_ = nullptr;
  };
  Collected<Named> out;
  auto env = TestEnv(2);
  env->FromCollection<Named>({{"a", 1}, {"b", 2}, {"a", 3}, {"c", 4}, {"b", 5}})
      .KeyBy([](const Named& p) { return p.first; })
      .Filter(FirstPerKey())
      .AddSink(CollectSink<Named>(&out));

  JobExecutionResult result = env->Execute("dedup");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Sorted: the two instances write concurrently.
  EXPECT_EQ(out.Sorted(), (std::vector<Named>{{"a", 1}, {"b", 2}, {"c", 4}}));
}

class NeedsKeyedState final : public RichMapFunction<int64_t, int64_t> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("running-count"));
  }
  int64_t Map(int64_t value) override { return value; }

 private:
  ValueState<int64_t>* count_ = nullptr;
};

TEST(KeyedStreamStateTest, KeyedStateOnANonKeyedStreamFailsTheJobNamingStateAndOperator) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->FromElements<int64_t>(1, 2, 3)
      .Map(NeedsKeyedState())
      .Name("counting-map")
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("no-keys");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  const std::string& message = result.failure.message();
  EXPECT_NE(message.find("keyed state 'running-count'"), std::string::npos) << message;
  EXPECT_NE(message.find("operator 'counting-map'"), std::string::npos) << message;
  EXPECT_NE(message.find("KeyBy"), std::string::npos) << message;
  EXPECT_EQ(out.size(), 0u);
}

}  // namespace
}  // namespace sluice::apitest
