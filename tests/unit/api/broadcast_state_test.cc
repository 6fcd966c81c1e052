// Broadcast state: DataStream::Broadcast(descriptors...), Connect(broadcast).Process with a
// BroadcastProcessFunction or KeyedBroadcastProcessFunction; read-only broadcast state on the
// element side, writable on the broadcast side, ApplyToKeyedState, timers, side outputs and
// snapshots, through the two-input operator harness and in real jobs.
#include <sluice/sluice.h>
#include <sluice/testing/operator_harness.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {
namespace {

using Strings = std::vector<std::string>;
using Rule = std::pair<std::string, int64_t>;   // kind, factor
using Event = std::pair<std::string, int64_t>;  // kind, value
using testing::TwoInputHarnessOf;

const MapStateDescriptor<std::string, int64_t> kRules("rules");
const MapStateDescriptor<std::string, int64_t> kOther("other");
const OutputTag<std::string> kUnmatched("unmatched");

// The element side's context hands out broadcast state read-only; the broadcast side's writable.
static_assert(std::is_same_v<
              decltype(std::declval<BroadcastProcessFunction<int, int, int>::ReadOnlyContext&>()
                           .GetBroadcastState(kRules)),
              const ReadOnlyBroadcastState<std::string, int64_t>&>);
static_assert(
    std::is_same_v<decltype(std::declval<BroadcastProcessFunction<int, int, int>::Context&>()
                                .GetBroadcastState(kRules)),
                   BroadcastState<std::string, int64_t>&>);
static_assert(
    std::is_same_v<
        decltype(std::declval<KeyedBroadcastProcessFunction<int, int, int, int>::ReadOnlyContext&>()
                     .GetBroadcastState(kRules)),
        const ReadOnlyBroadcastState<std::string, int64_t>&>);

// ---- BroadcastProcessFunction ----

// Multiplies each event by its kind's factor; events without a rule go to a side output.
class ApplyRules final : public BroadcastProcessFunction<Event, Rule, std::string> {
 public:
  void ProcessElement(Event e, ReadOnlyContext& ctx, Collector<std::string>& out) override {
    const ReadOnlyBroadcastState<std::string, int64_t>& rules = ctx.GetBroadcastState(kRules);
    if (auto factor = rules.Get(e.first)) {
      out.Collect(e.first + "=" + std::to_string(e.second * *factor) + " (" +
                  std::to_string(rules.ImmutableEntries().size()) + " rules, wm " +
                  std::to_string(ctx.CurrentWatermark()) + ")");
    } else {
      ctx.Output(kUnmatched, e.first + "@" + std::to_string(ctx.Timestamp()));
    }
  }
  void ProcessBroadcastElement(Rule r, Context& ctx, Collector<std::string>& out) override {
    BroadcastState<std::string, int64_t>& rules = ctx.GetBroadcastState(kRules);
    if (r.second == 0) {
      rules.Remove(r.first);
      out.Collect("removed " + r.first);
      ctx.Output(kUnmatched,
                 "no rule for " + r.first + " from @" + std::to_string(ctx.Timestamp()));
    } else {
      rules.Put(r.first, r.second);
    }
  }
};

auto RulesJob(StreamExecutionEnvironment& env) {
  return env.FromElements<Event>(Event{"a", 1})
      .Connect(env.FromElements<Rule>(Rule{"a", 1}).Broadcast(kRules))
      .Process(ApplyRules());
}

TEST(BroadcastStateTest, TheElementSideReadsWhatTheBroadcastSideWrote) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Event, Rule>(RulesJob(*env));
  const auto& unmatched = harness.SideOutput(kUnmatched);
  harness.Open();
  harness.ProcessElement1({"a", 3}, 5);  // no rule yet
  harness.ProcessElement2({"a", 10});
  harness.ProcessElement2({"b", 2});
  harness.ProcessWatermark1(7);
  harness.ProcessWatermark2(9);
  harness.ProcessElement1({"a", 3}, 10);
  harness.ProcessElement1({"b", 4}, 11);
  harness.ProcessElement2({"a", 0}, 11);  // removes a
  harness.ProcessElement1({"a", 5}, 12);
  EXPECT_EQ(harness.TakeOutputValues(),
            (Strings{"a=30 (2 rules, wm 7)", "b=8 (2 rules, wm 7)", "removed a"}));
  ASSERT_EQ(unmatched.size(), 3u);
  EXPECT_EQ(unmatched[0].value, "a@5");
  EXPECT_EQ(unmatched[0].timestamp, 5);
  EXPECT_EQ(unmatched[1].value, "no rule for a from @11");  // from the broadcast side
  EXPECT_EQ(unmatched[1].timestamp, 11);
  EXPECT_EQ(unmatched[2].value, "a@12");
}

TEST(BroadcastStateTest, BroadcastStateIsInTheSnapshotAndRestored) {
  auto env = TestEnv(1);
  testing::OperatorSnapshot snapshot;
  {
    auto harness = TwoInputHarnessOf<Event, Rule>(RulesJob(*env));
    harness.Open();
    harness.ProcessElement2({"a", 10});
    harness.ProcessElement2({"b", 2});
    snapshot = harness.Snapshot(1);
  }
  auto restored = TwoInputHarnessOf<Event, Rule>(RulesJob(*env), &snapshot);
  restored.Open();
  restored.ProcessElement1({"b", 4});
  restored.ProcessElement1({"a", 1});
  EXPECT_EQ(restored.TakeOutputValues(),
            (Strings{"b=8 (2 rules, wm " + std::to_string(kMinWatermark) + ")",
                     "a=10 (2 rules, wm " + std::to_string(kMinWatermark) + ")"}));
}

TEST(BroadcastStateTest, EveryDeclaredStateIsInTheSnapshotEvenUnused) {
  auto env = TestEnv(1);
  auto two_states = env->FromElements<Event>(Event{"a", 1})
                        .Connect(env->FromElements<Rule>(Rule{"a", 1}).Broadcast(kRules, kOther))
                        .Process(ApplyRules());
  auto harness = TwoInputHarnessOf<Event, Rule>(two_states);
  harness.Open();
  EXPECT_EQ(harness.operator_state().StateNames(), (Strings{"other", "rules"}));
}

// Asks for a broadcast state the stream did not declare, or with other types.
class AsksForUndeclared final : public BroadcastProcessFunction<Event, Rule, std::string> {
 public:
  void ProcessElement(Event e, ReadOnlyContext& ctx, Collector<std::string>&) override {
    if (e.first == "undeclared") ctx.GetBroadcastState(kOther);
    if (e.first == "types")
      ctx.GetBroadcastState(MapStateDescriptor<std::string, int32_t>("rules"));
  }
  void ProcessBroadcastElement(Rule, Context&, Collector<std::string>&) override {}
};

TEST(BroadcastStateTest, AskingForAStateNotGivenToBroadcastIsAnError) {
  auto env = TestEnv(1);
  auto stream = env->FromElements<Event>(Event{"a", 1})
                    .Connect(env->FromElements<Rule>(Rule{"a", 1}).Broadcast(kRules))
                    .Process(AsksForUndeclared());
  auto harness = TwoInputHarnessOf<Event, Rule>(stream);
  harness.Open();
  try {
    harness.ProcessElement1({"undeclared", 0});
    ADD_FAILURE() << "an undeclared broadcast state was handed out";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("'other'"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("Broadcast(...)"), std::string::npos) << error.what();
  }
  EXPECT_THROW(harness.ProcessElement1({"types", 0}), std::logic_error);
}

TEST(BroadcastStateTest, TwoDescriptorsOfOneNameAreRefused) {
  auto env = TestEnv(1);
  auto rules = env->FromElements<Rule>(Rule{"a", 1});
  EXPECT_THROW(rules.Broadcast(kRules, MapStateDescriptor<std::string, int32_t>("rules")),
               std::invalid_argument);
}

// ---- KeyedBroadcastProcessFunction ----

// Per kind (the key): events wait in keyed state until their kind has a rule; a rule applies
// itself to the waiting events of its kind (ApplyToKeyedState). The total per key is reported
// by an event-time timer at the first event's timestamp + 100; "reset" clears every key's total.
class KeyedRules final
    : public KeyedBroadcastProcessFunction<std::string, Event, Rule, std::string> {
 public:
  /// `timer_at`: report at that time instead of the first event's timestamp + 100.
  explicit KeyedRules(std::optional<int64_t> timer_at = std::nullopt) : timer_at_(timer_at) {}
  void Open() override {
    waiting_ = &GetRuntimeContext().GetListState(kWaiting);
    total_ = &GetRuntimeContext().GetState(kTotal);
  }
  void ProcessElement(Event e, ReadOnlyContext& ctx, Collector<std::string>&) override {
    if (!total_->Value() && waiting_->Get().empty())
      ctx.TimerService().RegisterEventTimeTimer(timer_at_.value_or(ctx.Timestamp() + 100));
    if (auto factor = ctx.GetBroadcastState(kRules).Get(ctx.GetCurrentKey())) {
      total_->Update(total_->Value().value_or(0) + e.second * *factor);
    } else {
      waiting_->Add(e.second);
    }
  }
  void ProcessBroadcastElement(Rule r, Context& ctx, Collector<std::string>& out) override {
    if (r.first == "reset") {
      ctx.ApplyToKeyedState(kTotal, [&](const std::string& key, ValueState<int64_t>& total) {
        out.Collect("reset " + key + " from " + std::to_string(total.Value().value_or(0)));
        total.Clear();
      });
      return;
    }
    ctx.GetBroadcastState(kRules).Put(r.first, r.second);
    ctx.ApplyToKeyedState(kWaiting, [&](const std::string& key, ListState<int64_t>& waiting) {
      if (key != r.first) return;
      int64_t sum = 0;
      for (int64_t v : waiting.Get()) sum += v;
      waiting.Clear();
      // Other keyed state of the visited key is current too.
      total_->Update(total_->Value().value_or(0) + sum * r.second);
    });
  }
  void OnTimer(int64_t time, OnTimerContext& ctx, Collector<std::string>& out) override {
    const bool has_rule = ctx.GetBroadcastState(kRules).Contains(ctx.GetCurrentKey());
    ctx.Output(kUnmatched, "timer " + ctx.GetCurrentKey());
    out.Collect(ctx.GetCurrentKey() + " total " + std::to_string(total_->Value().value_or(0)) +
                " waiting " + std::to_string(waiting_->Get().size()) + " at " +
                std::to_string(time) + (has_rule ? "" : " without rule") +
                (ctx.GetTimeDomain() == TimeDomain::kEventTime ? "" : " (processing)"));
  }

  static inline const ListStateDescriptor<int64_t> kWaiting{"waiting"};
  static inline const ValueStateDescriptor<int64_t> kTotal{"total"};

 private:
  std::optional<int64_t> timer_at_;
  ListState<int64_t>* waiting_ = nullptr;
  ValueState<int64_t>* total_ = nullptr;
};

auto KeyedRulesJob(StreamExecutionEnvironment& env) {
  return env.FromElements<Event>(Event{"a", 1})
      .KeyBy([](const Event& e) { return e.first; })
      .Connect(env.FromElements<Rule>(Rule{"a", 1}).Broadcast(kRules))
      .Process(KeyedRules());
}

TEST(BroadcastStateTest, KeyedBroadcastKeepsKeyedStateAndAppliesRulesToEveryKey) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Event, Rule>(KeyedRulesJob(*env));
  const auto& side = harness.SideOutput(kUnmatched);
  harness.Open();
  harness.ProcessElement1({"a", 1}, 10);  // waits; timer at 110
  harness.ProcessElement1({"b", 2}, 20);  // waits; timer at 120
  harness.ProcessElement1({"a", 3}, 30);
  harness.ProcessElement2({"a", 10});     // applies to a's 1 + 3
  harness.ProcessElement1({"a", 5}, 40);  // applied at once
  EXPECT_EQ((harness.ValueStateOf<std::string, int64_t>("a", "total")), 90);
  EXPECT_EQ((harness.ValueStateOf<std::string, int64_t>("b", "total")), std::nullopt);

  harness.ProcessWatermark1(200);
  EXPECT_TRUE(harness.output().empty()) << "fired before the broadcast input's watermark";
  harness.ProcessWatermark2(115);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a total 90 waiting 0 at 110"}));
  harness.ProcessWatermark2(kMaxWatermark);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"b total 0 waiting 1 at 120 without rule"}));
  ASSERT_EQ(side.size(), 2u);
  EXPECT_EQ(side[1].value, "timer b");
  EXPECT_EQ(side[1].timestamp, 120);

  harness.ProcessElement2({"b", 3});  // b's waiting 2 -> total 6
  harness.ProcessElement2({"reset", 0});
  Strings resets = harness.TakeOutputValues();
  std::sort(resets.begin(), resets.end());
  EXPECT_EQ(resets, (Strings{"reset a from 90", "reset b from 6"}));
  EXPECT_EQ((harness.ValueStateOf<std::string, int64_t>("a", "total")), std::nullopt);
  EXPECT_TRUE(harness.keyed_state_backend()->GetKeys("total").empty());
}

TEST(BroadcastStateTest, KeyedBroadcastStateTimersAndKeyedStateSurviveASnapshot) {
  auto env = TestEnv(1);
  testing::OperatorSnapshot snapshot;
  {
    auto harness = TwoInputHarnessOf<Event, Rule>(KeyedRulesJob(*env));
    harness.Open();
    harness.ProcessElement2({"a", 10});
    harness.ProcessElement1({"a", 1}, 10);  // total 10, timer at 110
    harness.ProcessElement1({"b", 2}, 20);  // waiting, timer at 120
    snapshot = harness.Snapshot(1);
  }
  auto restored = TwoInputHarnessOf<Event, Rule>(KeyedRulesJob(*env), &snapshot);
  restored.Open();
  restored.ProcessElement1({"a", 2}, 30);  // the restored rule applies: total 30
  restored.ProcessElement2({"b", 5});      // the restored waiting 2: total 10
  restored.ProcessWatermark1(kMaxWatermark);
  restored.ProcessWatermark2(kMaxWatermark);
  EXPECT_EQ(restored.TakeOutputValues(),
            (Strings{"a total 30 waiting 0 at 110", "b total 10 waiting 0 at 120"}));
}

// Keeps the average value per key in AggregatingState; a broadcast "report" reads every key's.
class Averages final : public AggregateFunction<int64_t, std::pair<int64_t, int64_t>, int64_t> {
 public:
  std::pair<int64_t, int64_t> CreateAccumulator() override { return {0, 0}; }
  std::pair<int64_t, int64_t> Add(const int64_t& value, std::pair<int64_t, int64_t> acc) override {
    return {acc.first + value, acc.second + 1};
  }
  int64_t GetResult(const std::pair<int64_t, int64_t>& acc) override {
    return acc.first / acc.second;
  }
  std::pair<int64_t, int64_t> Merge(std::pair<int64_t, int64_t> a,
                                    std::pair<int64_t, int64_t> b) override {
    return {a.first + b.first, a.second + b.second};
  }
};

class ReportAverages final
    : public KeyedBroadcastProcessFunction<std::string, Event, Rule, std::string> {
 public:
  void ProcessElement(Event e, ReadOnlyContext&, Collector<std::string>&) override {
    GetRuntimeContext().GetAggregatingState(kAverage).Add(e.second);
  }
  void ProcessBroadcastElement(Rule, Context& ctx, Collector<std::string>& out) override {
    ctx.ApplyToKeyedState(kAverage,
                          [&](const std::string& key, AggregatingState<int64_t, int64_t>& avg) {
                            out.Collect(key + " " + std::to_string(avg.Get().value_or(-1)));
                          });
  }
  static inline const AggregatingStateDescriptor<int64_t, std::pair<int64_t, int64_t>, int64_t>
      kAverage{"average", Averages()};
};

TEST(BroadcastStateTest, ApplyToKeyedStateVisitsAggregatingStateToo) {
  auto env = TestEnv(1);
  auto reported = env->FromElements<Event>(Event{"a", 1})
                      .KeyBy([](const Event& e) { return e.first; })
                      .Connect(env->FromElements<Rule>(Rule{"a", 1}).Broadcast(kRules))
                      .Process(ReportAverages());
  auto harness = TwoInputHarnessOf<Event, Rule>(reported);
  harness.Open();
  harness.ProcessElement1({"a", 2});
  harness.ProcessElement1({"b", 10});
  harness.ProcessElement1({"a", 4});
  harness.ProcessElement2({"report", 0});
  Strings lines = harness.TakeOutputValues();
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (Strings{"a 3", "b 10"}));
}

// ---- in real jobs ----

// Reports, per broadcast element, which instance saw it.
class WhoSawIt final : public BroadcastProcessFunction<int64_t, Rule, std::string> {
 public:
  void ProcessElement(int64_t, ReadOnlyContext&, Collector<std::string>&) override {}
  void ProcessBroadcastElement(Rule r, Context& ctx, Collector<std::string>& out) override {
    ctx.GetBroadcastState(kRules).Put(r.first, r.second);
    out.Collect(r.first + " on " + std::to_string(GetRuntimeContext().GetIndexOfThisSubtask()) +
                " with " + std::to_string(ctx.GetBroadcastState(kRules).ImmutableEntries().size()));
  }
};

TEST(BroadcastStateTest, EveryParallelInstanceSeesEveryBroadcastElementInOrder) {
  Collected<std::string> out;
  auto env = TestEnv(3);
  auto rules = env->FromCollection<Rule>({{"a", 1}, {"b", 2}, {"c", 3}});
  env->GenerateSequence(1, 1000)
      .Connect(rules.Broadcast(kRules))
      .Process(WhoSawIt())
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("broadcast");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  Strings expected;
  for (int i = 0; i < 3; ++i) {
    expected.push_back("a on " + std::to_string(i) + " with 1");
    expected.push_back("b on " + std::to_string(i) + " with 2");
    expected.push_back("c on " + std::to_string(i) + " with 3");
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(out.Sorted(), expected);
}

TEST(BroadcastStateTest, AKeyedBroadcastJobGivesTheSameTotalsWhateverTheArrivalOrder) {
  Collected<std::string> out;
  auto env = TestEnv(3);
  env->SetMaxParallelism(16);
  auto rules = env->FromCollection<Rule>({{"a", 1}, {"b", 10}, {"c", 100}});
  env->GenerateSequence(0, 299)
      .SetParallelism(2)
      .Map([](int64_t n) { return Event{std::string(1, static_cast<char>('a' + n % 3)), n}; })
      .SetParallelism(2)
      .KeyBy([](const Event& e) { return e.first; })
      .Connect(rules.Broadcast(kRules))
      .Process(KeyedRules(/*timer_at=*/1'000'000))  // fired by the end of input
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("keyed-broadcast");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::map<std::string, int64_t> sums;
  for (int64_t n = 0; n < 300; ++n) sums[std::string(1, static_cast<char>('a' + n % 3))] += n;
  EXPECT_EQ(out.Sorted(),
            (Strings{"a total " + std::to_string(sums["a"]) + " waiting 0 at 1000000",
                     "b total " + std::to_string(sums["b"] * 10) + " waiting 0 at 1000000",
                     "c total " + std::to_string(sums["c"] * 100) + " waiting 0 at 1000000"}));
}

}  // namespace
}  // namespace sluice::apitest
