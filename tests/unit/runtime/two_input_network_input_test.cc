// The input of a task whose head has two inputs: barriers aligned over the channels of both
// inputs (a checkpoint cuts both at one barrier), watermarks merged per input and then
// combined, end of input per channel. Driven by hand, element by element, without threads.
#include <sluice/detail/two_input_network_input.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sluice/detail/two_input_operator.h>

namespace sluice::detail {
namespace {

using Log = std::vector<std::string>;

// Logs what reaches it: records of both inputs, the combined watermark and status.
class LoggingOperator final : public TwoInputOperator<int64_t, std::string, std::string> {
 public:
  explicit LoggingOperator(Log* log) : log_(log) {}
  void ProcessElement1(StreamRecord<int64_t>&& record) override {
    log_->push_back("1:" + std::to_string(record.value));
  }
  void ProcessElement2(StreamRecord<std::string>&& record) override {
    log_->push_back("2:" + record.value);
  }
  void ProcessWatermark(Watermark watermark) override {
    log_->push_back("wm " + std::to_string(watermark.timestamp));
  }
  void ProcessWatermarkStatus(WatermarkStatus status) override {
    log_->push_back(status.idle ? "idle" : "active");
  }

 private:
  Log* log_;
};

class LoggingHooks final : public TaskHooks {
 public:
  explicit LoggingHooks(Log* log) : log_(log) {}
  void PerformCheckpoint(const CheckpointBarrier& barrier) override {
    log_->push_back("checkpoint " + std::to_string(barrier.checkpoint_id));
  }
  void AbortCheckpointOnBarrier(int64_t id) override {
    log_->push_back("abort " + std::to_string(id));
  }
  Notifier& notifier() override { return notifier_; }

 private:
  Log* log_;
  Notifier notifier_;
};

// Input 1 has two channels (numbers), input 2 one (texts).
struct Fixture {
  Log log;
  LoggingOperator op{&log};
  LoggingHooks hooks{&log};
  std::shared_ptr<Channel<int64_t>> a = std::make_shared<Channel<int64_t>>(16);
  std::shared_ptr<Channel<int64_t>> b = std::make_shared<Channel<int64_t>>(16);
  std::shared_ptr<Channel<std::string>> c = std::make_shared<Channel<std::string>>(16);
  TwoInputNetworkInput<int64_t, std::string> input{{a, b}, {c}, &op, &op, &hooks};

  template <typename T>
  static void Push(Channel<T>& channel, StreamElement<T> element) {
    Batch<T> batch;
    batch.push_back(std::move(element));
    channel.Push(std::move(batch));
  }
  // Processes until nothing is left that may be read; returns the log and clears it.
  Log Drain() {
    while (input.ProcessSome() == TaskInput::Status::kMoreAvailable) {
    }
    return std::exchange(log, {});
  }
};

CheckpointBarrier Barrier(int64_t id) { return CheckpointBarrier{id, 0}; }

TEST(TwoInputNetworkInputTest, ACheckpointCutsBothInputsAtTheSameBarrier) {
  Fixture f;
  Fixture::Push<int64_t>(*f.a, StreamRecord<int64_t>{1});
  Fixture::Push<int64_t>(*f.a, Barrier(7));
  Fixture::Push<int64_t>(*f.a, StreamRecord<int64_t>{2});  // after the barrier: held
  Fixture::Push<int64_t>(*f.b, StreamRecord<int64_t>{3});
  Fixture::Push<std::string>(*f.c, StreamRecord<std::string>{"x"});
  Fixture::Push<std::string>(*f.c, Barrier(7));
  Fixture::Push<std::string>(*f.c, StreamRecord<std::string>{"y"});  // after the barrier: held
  Log before = f.Drain();
  std::sort(before.begin(), before.end());
  EXPECT_EQ(before, (Log{"1:1", "1:3", "2:x"})) << "records after a barrier went through";

  // The last channel's barrier completes the alignment: the checkpoint comes before anything
  // that followed a barrier on any channel of either input.
  Fixture::Push<int64_t>(*f.b, Barrier(7));
  Fixture::Push<int64_t>(*f.b, StreamRecord<int64_t>{4});
  Log after = f.Drain();
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(after.front(), "checkpoint 7");
  std::sort(after.begin() + 1, after.end());
  EXPECT_EQ(after, (Log{"checkpoint 7", "1:2", "1:4", "2:y"}));
}

TEST(TwoInputNetworkInputTest, AnInputThatEndedNoLongerHoldsAnAlignment) {
  Fixture f;
  Fixture::Push<std::string>(*f.c, StreamRecord<std::string>{"x"});
  Fixture::Push<std::string>(*f.c, EndOfInput{});
  Fixture::Push<int64_t>(*f.a, Barrier(3));
  Fixture::Push<int64_t>(*f.b, Barrier(3));
  EXPECT_EQ(f.input.ProcessSome(), TaskInput::Status::kMoreAvailable);
  Log log = f.Drain();
  EXPECT_NE(std::find(log.begin(), log.end(), "checkpoint 3"), log.end());
  Fixture::Push<int64_t>(*f.a, EndOfInput{});
  Fixture::Push<int64_t>(*f.b, EndOfInput{});
  EXPECT_EQ(f.input.ProcessSome(), TaskInput::Status::kEndOfInput);
}

TEST(TwoInputNetworkInputTest, WatermarksAreMergedPerInputThenCombinedWithIdlenessLeftOut) {
  Fixture f;
  Fixture::Push<int64_t>(*f.a, Watermark{10});
  Fixture::Push<int64_t>(*f.b, Watermark{20});
  EXPECT_EQ(f.Drain(), Log{});  // input 1 at 10, input 2 has none: nothing yet
  Fixture::Push<std::string>(*f.c, Watermark{5});
  EXPECT_EQ(f.Drain(), (Log{"wm 5"}));
  Fixture::Push<std::string>(*f.c, Watermark{30});
  EXPECT_EQ(f.Drain(), (Log{"wm 10"}));  // input 1's slower channel
  Fixture::Push<int64_t>(*f.a, WatermarkStatus{true});
  EXPECT_EQ(f.Drain(), (Log{"wm 20"}));  // channel a idle: input 1 is at b's 20
  Fixture::Push<int64_t>(*f.b, WatermarkStatus{true});
  // All of input 1 idle: input 2 alone counts.
  EXPECT_EQ(f.Drain(), (Log{"wm 30"}));
  Fixture::Push<std::string>(*f.c, WatermarkStatus{true});
  EXPECT_EQ(f.Drain(), (Log{"idle"}));
  // Input 1 active again (channel b, ahead): active first, then the watermark.
  Fixture::Push<int64_t>(*f.b, WatermarkStatus{false});
  Fixture::Push<int64_t>(*f.b, Watermark{40});
  EXPECT_EQ(f.Drain(), (Log{"active", "wm 40"}));
}

}  // namespace
}  // namespace sluice::detail
