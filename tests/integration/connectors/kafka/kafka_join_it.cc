// Joins of two Kafka topics against the real broker: orders and payments, each on its own topic
// of two partitions, read by bounded KafkaSources with event time from the records, joined by an
// interval join (a payment within [0, 10 s) of its order) and a window join (order and payment in
// the same minute), and the results checked exactly against what the produced records imply;
// and the same joins stopped with a savepoint while orders wait in their state, restored at
// another parallelism, joining the payments produced meanwhile.
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "connectors/kafka/kafka_it_support.h"
#include "kafka_test_env.h"

namespace sluice::testing {
namespace {

using kafka::OffsetsInitializer;

constexpr int64_t kOrders = 200;

struct Order {
  int64_t id = 0;
  int64_t time = 0;
};
struct Payment {
  int64_t order_id = 0;
  int64_t time = 0;
  int64_t cents = 0;
};

}  // namespace
}  // namespace sluice::testing

// The joins keep both inputs in keyed state: their element types need serializers.
namespace sluice {
template <>
struct TypeSerializer<testing::Order> {
  static constexpr std::uint32_t kVersion = 1;
  static void Serialize(const testing::Order& o, DataOutput& out) {
    out.WriteVarI64(o.id);
    out.WriteVarI64(o.time);
  }
  static testing::Order Deserialize(DataInput& in, std::uint32_t) {
    testing::Order o;
    o.id = in.ReadVarI64();
    o.time = in.ReadVarI64();
    return o;
  }
};
template <>
struct TypeSerializer<testing::Payment> {
  static constexpr std::uint32_t kVersion = 1;
  static void Serialize(const testing::Payment& p, DataOutput& out) {
    out.WriteVarI64(p.order_id);
    out.WriteVarI64(p.time);
    out.WriteVarI64(p.cents);
  }
  static testing::Payment Deserialize(DataInput& in, std::uint32_t) {
    testing::Payment p;
    p.order_id = in.ReadVarI64();
    p.time = in.ReadVarI64();
    p.cents = in.ReadVarI64();
    return p;
  }
};
}  // namespace sluice

namespace sluice::testing {
namespace {

// Records are "<id>,<time>[,<cents>]": the event time travels in the value.
std::vector<int64_t> Fields(const std::string& value) {
  std::vector<int64_t> fields;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = std::min(value.find(',', start), value.size());
    fields.push_back(std::stoll(value.substr(start, comma - start)));
    start = comma + 1;
  }
  return fields;
}

std::vector<Order> MakeOrders() {
  std::vector<Order> orders;
  for (int64_t id = 0; id < kOrders; ++id) orders.push_back({id, id * 1000});
  return orders;
}
// Every order not divisible by 3 is paid 0, 2, ..., 12 s after it (so some beyond the 10 s
// bound), those divisible by 10 a second time after 500 ms.
std::vector<Payment> MakePayments() {
  std::vector<Payment> payments;
  for (int64_t id = 0; id < kOrders; ++id) {
    if (id % 3 != 0) payments.push_back({id, id * 1000 + (id % 7) * 2000, 100 + id});
    if (id % 10 == 0) payments.push_back({id, id * 1000 + 500, 7});
  }
  return payments;
}

// Each partition gets its records in event-time order (id % 2 picks it).
template <typename T, typename F>
void ProduceTo(const std::string& topic, const std::vector<T>& items, F to_value) {
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  for (int32_t partition = 0; partition < 2; ++partition) {
    std::vector<std::pair<std::string, std::string>> records;
    for (const T& item : items) {
      const std::string value = to_value(item);
      if (Fields(value)[0] % 2 == partition) records.emplace_back(std::to_string(partition), value);
    }
    ProduceAndWait(producer.get(), topic, partition, records);
  }
}

class PaidWithin final : public ProcessJoinFunction<Order, Payment, std::string> {
 public:
  void ProcessElement(const Order& order, const Payment& payment, Context& ctx,
                      Collector<std::string>& out) override {
    out.Collect("order " + std::to_string(order.id) + " paid " + std::to_string(payment.cents) +
                " after " + std::to_string(ctx.RightTimestamp() - ctx.LeftTimestamp()) + " ms");
  }
};

class SameMinute final : public JoinFunction<Order, Payment, std::string> {
 public:
  std::string Join(const Order& order, const Payment& payment) override {
    return "minute " + std::to_string(order.time / 60'000) + ": order " + std::to_string(order.id) +
           " paid " + std::to_string(payment.cents);
  }
};

std::vector<std::string> ExpectedInterval(const std::vector<Order>& orders,
                                          const std::vector<Payment>& payments) {
  std::vector<std::string> expected;
  for (const Payment& p : payments) {
    const Order& o = orders.at(static_cast<size_t>(p.order_id));
    const int64_t delta = p.time - o.time;
    if (delta >= 0 && delta < 10'000) {
      expected.push_back("order " + std::to_string(o.id) + " paid " + std::to_string(p.cents) +
                         " after " + std::to_string(delta) + " ms");
    }
  }
  return expected;
}

std::vector<std::string> ExpectedWindow(const std::vector<Order>& orders,
                                        const std::vector<Payment>& payments) {
  std::vector<std::string> expected;
  for (const Payment& p : payments) {
    const Order& o = orders.at(static_cast<size_t>(p.order_id));
    if (o.time / 60'000 == p.time / 60'000) {
      expected.push_back("minute " + std::to_string(o.time / 60'000) + ": order " +
                         std::to_string(o.id) + " paid " + std::to_string(p.cents));
    }
  }
  return expected;
}

std::string OrderValue(const Order& o) {
  return std::to_string(o.id) + "," + std::to_string(o.time);
}
std::string PaymentValue(const Payment& p) {
  return std::to_string(p.order_id) + "," + std::to_string(p.time) + "," + std::to_string(p.cents);
}

// Out of order by at most an hour (a reader may get both partitions of a topic): nothing is
// late, no buffer is cleaned and no window fires before the end of a bounded input, which fires
// every window and cleans every buffer.
WatermarkStrategy<std::string> ValueTime() {
  return WatermarkStrategy<std::string>::ForBoundedOutOfOrderness(std::chrono::hours(1))
      .WithTimestampAssigner([](const std::string& value, int64_t) { return Fields(value)[1]; });
}

// Orders and payments from their topics, joined both ways into the two sinks.
void BuildJoins(StreamExecutionEnvironment& env, const std::string& orders_topic,
                const std::string& payments_topic, bool bounded, Seen* interval_seen,
                Seen* window_seen) {
  auto orders_source = Builder(orders_topic);
  auto payments_source = Builder(payments_topic);
  if (bounded) {
    orders_source.SetBounded(OffsetsInitializer::Latest());
    payments_source.SetBounded(OffsetsInitializer::Latest());
  }
  auto orders = env.FromSource<std::string>(Built(orders_source), ValueTime(), "Orders")
                    .Uid("orders-source")
                    .Map([](const std::string& value) {
                      const auto f = Fields(value);
                      return Order{f[0], f[1]};
                    })
                    .Uid("orders");
  auto payments = env.FromSource<std::string>(Built(payments_source), ValueTime(), "Payments")
                      .Uid("payments-source")
                      .Map([](const std::string& value) {
                        const auto f = Fields(value);
                        return Payment{f[0], f[1], f[2]};
                      })
                      .Uid("payments");
  orders.KeyBy([](const Order& o) { return o.id; })
      .IntervalJoin(payments.KeyBy([](const Payment& p) { return p.order_id; }))
      .Between(std::chrono::milliseconds(0), std::chrono::seconds(10))
      .UpperBoundExclusive()
      .Process(PaidWithin())
      .Uid("paid-within")
      .AddSink(SeenSink(interval_seen))
      .Uid("interval-sink");
  orders.Join(payments)
      .Where([](const Order& o) { return o.id; })
      .EqualTo([](const Payment& p) { return p.order_id; })
      .Window(TumblingEventTimeWindows::Of(std::chrono::minutes(1)))
      .Apply(SameMinute())
      .Uid("same-minute")
      .AddSink(SeenSink(window_seen))
      .Uid("window-sink");
}

std::vector<std::string> Sorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  return values;
}

TEST(KafkaJoinIT, JoinsTwoTopicsByIntervalAndByWindowExactly) {
  ScopedTopic orders_topic("join-orders", 2);
  ScopedTopic payments_topic("join-payments", 2);
  const std::vector<Order> orders = MakeOrders();
  const std::vector<Payment> payments = MakePayments();
  ProduceTo(orders_topic.name(), orders,
            [](const Order& o) { return std::to_string(o.id) + "," + std::to_string(o.time); });
  ProduceTo(payments_topic.name(), payments, [](const Payment& p) {
    return std::to_string(p.order_id) + "," + std::to_string(p.time) + "," +
           std::to_string(p.cents);
  });

  Seen interval_seen;
  Seen window_seen;
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  BuildJoins(*env, orders_topic.name(), payments_topic.name(), /*bounded=*/true, &interval_seen,
             &window_seen);
  JobExecutionResult result = env->Execute("kafka-join");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();

  const std::vector<std::string> expected_interval = ExpectedInterval(orders, payments);
  const std::vector<std::string> expected_window = ExpectedWindow(orders, payments);
  // Both kinds of miss are in the data: beyond the bound, and across a minute boundary.
  ASSERT_LT(expected_interval.size(), payments.size());
  ASSERT_LT(expected_window.size(), payments.size());
  EXPECT_EQ(Sorted(interval_seen.Snapshot()), Sorted(expected_interval));
  EXPECT_EQ(Sorted(window_seen.Snapshot()), Sorted(expected_window));
}

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName(name);
  std::filesystem::create_directories(dir);
  return dir;
}

void RestoreBufferedOrders(int32_t from, int32_t to) {
  ScopedTopic orders_topic("join-orders", 2);
  ScopedTopic payments_topic("join-payments", 2);
  const std::vector<Order> orders = MakeOrders();
  std::vector<Payment> early;
  std::vector<Payment> later;
  for (const Payment& p : MakePayments()) (p.order_id < kOrders / 2 ? early : later).push_back(p);
  // Every order now, payments of the first half now and of the second half after the savepoint:
  // those can join only orders restored from the savepoint's buffers and windows.
  ProduceTo(orders_topic.name(), orders, &OrderValue);
  ProduceTo(payments_topic.name(), early, &PaymentValue);

  Seen interval_seen;
  Seen window_seen;
  const std::string checkpoints = TempDir("join-restore-chk").string();
  auto first = StreamExecutionEnvironment::Create();
  first->SetParallelism(from).SetHandleSignals(false);
  first->EnableCheckpointing(std::chrono::milliseconds(50));
  first->GetCheckpointConfig().SetCheckpointStorage(checkpoints);
  BuildJoins(*first, orders_topic.name(), payments_topic.name(), /*bounded=*/false, &interval_seen,
             &window_seen);
  std::unique_ptr<JobClient> client = first->ExecuteAsync("kafka-join-restore");
  const size_t early_pairs = ExpectedInterval(orders, early).size();
  ASSERT_GT(early_pairs, 0u);
  const bool joined = interval_seen.WaitForAtLeast(early_pairs, std::chrono::seconds(60));
  EXPECT_TRUE(joined) << interval_seen.Snapshot().size() << " of " << early_pairs << " pairs";
  Result<std::string> savepoint = client->StopWithSavepoint(TempDir("join-restore-sp").string());
  JobExecutionResult stopped = client->WaitForResult();
  ASSERT_TRUE(joined);
  ASSERT_TRUE(savepoint.ok()) << savepoint.status().ToString();
  EXPECT_EQ(stopped.status, JobStatus::kFinished) << stopped.failure.ToString();
  // The watermark trails by an hour: no window has fired yet.
  EXPECT_TRUE(window_seen.Snapshot().empty());

  ProduceTo(payments_topic.name(), later, &PaymentValue);
  auto second = StreamExecutionEnvironment::Create();
  second->SetParallelism(to).SetHandleSignals(false);
  second->EnableCheckpointing(std::chrono::milliseconds(50));
  second->GetCheckpointConfig().SetCheckpointStorage(checkpoints);
  BuildJoins(*second, orders_topic.name(), payments_topic.name(), /*bounded=*/true, &interval_seen,
             &window_seen);
  RestoreSettings restore;
  restore.savepoint_path = *savepoint;
  second->SetRestoreSettings(restore);
  JobExecutionResult result = second->Execute("kafka-join-restore");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  ASSERT_TRUE(result.restored_checkpoint.has_value());

  // Every pair exactly once: the early ones from the first run only (the sources resumed after
  // them), the later ones from orders that were in the restored state.
  const std::vector<Payment> payments = MakePayments();
  EXPECT_EQ(Sorted(interval_seen.Snapshot()), Sorted(ExpectedInterval(orders, payments)));
  EXPECT_EQ(Sorted(window_seen.Snapshot()), Sorted(ExpectedWindow(orders, payments)));
  ASSERT_FALSE(ExpectedInterval(orders, later).empty());
}

TEST(KafkaJoinIT, OrdersBufferedInASavepointAt2JoinLaterPaymentsAfterARestoreAt3) {
  RestoreBufferedOrders(2, 3);
}

TEST(KafkaJoinIT, OrdersBufferedInASavepointAt3JoinLaterPaymentsAfterARestoreAt2) {
  RestoreBufferedOrders(3, 2);
}

}  // namespace
}  // namespace sluice::testing
