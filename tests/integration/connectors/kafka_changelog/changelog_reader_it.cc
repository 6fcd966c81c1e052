// ChangelogReader against the real broker: exactly the committed records in [base, end) of each
// partition, with transactions committed and aborted around them, and a clear, non-restartable
// error whenever Kafka no longer holds what the checkpoint needs.
#include "connectors/kafka/changelog_reader.h"

#include <sluice/testing/status_matchers.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "changelog_it_support.h"
#include "kafka_test_env.h"

namespace sluice::kafka::internal {
namespace {

using ::sluice::testing::BootstrapServers;
using ::sluice::testing::CreateTopic;
using ::sluice::testing::DeleteRecordsBefore;
using ::sluice::testing::DeleteTopic;
using ::sluice::testing::HighWatermark;
using ::sluice::testing::IsOk;
using ::sluice::testing::Scaled;
using ::sluice::testing::ScopedTopic;
using ::sluice::testing::StatusIs;
using ::sluice::testing::TopicDeleter;
using ::sluice::testing::TxnProducer;
using ::sluice::testing::UniqueName;
using ::sluice::testing::Written;
using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

const ::sluice::testing::Properties kCompact = {{"cleanup.policy", "compact"}};

// What the reader delivered, copied out of the views.
struct Seen {
  int64_t offset;
  std::string key;
  std::optional<std::string> value;
  friend bool operator==(const Seen&, const Seen&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Seen& s) {
    return os << "{" << s.offset << ", " << s.key << ", " << (s.value ? *s.value : "<null>") << "}";
  }
};
using ByPartition = std::map<int32_t, std::vector<Seen>>;

std::unique_ptr<ChangelogReader> OpenReader(
    std::map<std::string, std::string> properties = {{"bootstrap.servers", BootstrapServers()}},
    milliseconds timeout = Scaled(milliseconds(30'000))) {
  Result<std::unique_ptr<ChangelogReader>> reader = ChangelogReader::Open(properties, timeout);
  if (!reader.ok()) throw std::runtime_error(reader.status().ToString());
  return std::move(reader).value();
}

// Reads `ranges` and returns every record by partition; checks the order per partition.
Status ReadAll(ChangelogReader& reader, const std::string& topic,
               const std::vector<ChangelogPartitionRange>& ranges, ByPartition* seen,
               CheckpointId checkpoint = CheckpointId(7)) {
  return reader.Read(topic, ranges, checkpoint, [&](const ChangelogRecord& record) {
    std::vector<Seen>& partition = (*seen)[record.partition];
    EXPECT_TRUE(partition.empty() || partition.back().offset < record.offset)
        << "partition " << record.partition << ": offset " << record.offset << " after "
        << partition.back().offset;
    partition.push_back({record.offset, std::string(record.key),
                         record.value ? std::optional<std::string>(*record.value) : std::nullopt});
    return Status::Ok();
  });
}

// The committed records of `transactions` with base <= offset < end, by partition.
ByPartition Expected(const std::vector<std::vector<Written>>& transactions,
                     const std::map<int32_t, std::pair<int64_t, int64_t>>& ranges) {
  ByPartition expected;
  for (const auto& transaction : transactions) {
    for (const Written& w : transaction) {
      auto range = ranges.find(w.partition);
      if (range == ranges.end()) continue;
      if (w.offset >= range->second.first && w.offset < range->second.second)
        expected[w.partition].push_back({w.offset, w.key, w.value});
    }
  }
  for (auto& [partition, records] : expected) {
    std::sort(records.begin(), records.end(),
              [](const Seen& a, const Seen& b) { return a.offset < b.offset; });
  }
  return expected;
}

// The offset after the last record a transaction wrote to `partition` (what a commit marker
// records), or `otherwise` when it wrote none there.
int64_t EndAfter(const std::vector<Written>& transaction, int32_t partition, int64_t otherwise) {
  int64_t end = otherwise;
  for (const Written& w : transaction) {
    if (w.partition == partition) end = std::max(end, w.offset + 1);
  }
  return end;
}

TEST(ChangelogReaderIT, ReadsExactlyTheCommittedRecordsUpToEnd) {
  ScopedTopic topic("changelog-read", 3, kCompact);
  TxnProducer txn(topic.name());

  txn.Begin();
  for (int i = 0; i < 5; ++i) txn.Put(0, "k" + std::to_string(i), "v1-" + std::to_string(i));
  for (int i = 0; i < 3; ++i) txn.Put(1, "k" + std::to_string(i), "v1-" + std::to_string(i));
  std::vector<Written> first = txn.Commit();

  txn.Begin();
  for (int32_t p = 0; p < 3; ++p) txn.Put(p, "k0", "aborted");
  txn.Abort();

  txn.Begin();
  txn.Put(0, "k1", std::nullopt);  // a cleared key: a tombstone
  txn.Put(0, "k5", "");            // an empty value, which is not a tombstone
  txn.Put(2, "k0", "v3-0");
  txn.Put(2, "k1", std::nullopt);
  std::vector<Written> third = txn.Commit();

  // After the checkpoint: neither an aborted nor a later committed transaction may show.
  txn.Begin();
  for (int32_t p = 0; p < 3; ++p) txn.Put(p, "k0", "aborted-after-end");
  txn.Abort();
  txn.Begin();
  for (int32_t p = 0; p < 3; ++p) txn.Put(p, "k0", "committed-after-end");
  txn.Commit();

  std::map<int32_t, std::pair<int64_t, int64_t>> ranges;
  std::vector<ChangelogPartitionRange> request;
  for (int32_t p = 0; p < 3; ++p) {
    const int64_t end = EndAfter(third, p, EndAfter(first, p, 0));
    ranges[p] = {0, end};
    request.push_back({p, 0, end});
  }
  ByPartition seen;
  ASSERT_THAT(ReadAll(*OpenReader(), topic.name(), request, &seen), IsOk());

  ByPartition expected = Expected({first, third}, ranges);
  for (int32_t p = 0; p < 3; ++p) {
    EXPECT_THAT(seen[p], ElementsAreArray(expected[p])) << "partition " << p;
  }
  ASSERT_EQ(seen[0].size(), 7u);
  EXPECT_EQ(seen[0][5].key, "k1");
  EXPECT_EQ(seen[0][5].value, std::nullopt) << "a tombstone comes as null";
  EXPECT_EQ(seen[0][6].value, std::optional<std::string>("")) << "an empty value is a value";
}

TEST(ChangelogReaderIT, FinishesWhenTheOffsetsBeforeEndAreAbortedOrControlRecords) {
  ScopedTopic topic("changelog-control-end", 1, kCompact);
  TxnProducer txn(topic.name());
  txn.Begin();
  for (int i = 0; i < 3; ++i) txn.Put(0, "k" + std::to_string(i), "v" + std::to_string(i));
  std::vector<Written> committed = txn.Commit();
  txn.Begin();
  for (int i = 0; i < 3; ++i) txn.Put(0, "k" + std::to_string(i), "aborted");
  txn.Abort();
  // The end lies after the commit marker, three aborted records and the abort marker: the
  // reader sees no record at or past it and must finish on the partition's end.
  const int64_t end = HighWatermark(topic.name(), 0);
  ASSERT_EQ(end, 8) << "3 records, commit marker, 3 aborted records, abort marker";
  const ByPartition expected = Expected({committed}, {{0, {0, end}}});
  std::unique_ptr<ChangelogReader> reader = OpenReader();

  ByPartition seen;
  ASSERT_THAT(ReadAll(*reader, topic.name(), {{0, 0, end}}, &seen), IsOk());
  EXPECT_EQ(seen, expected);

  // Another producer's transaction open right after `end`: the read_committed end stays at
  // `end`, which is enough.
  TxnProducer open(topic.name());
  open.Begin();
  open.Put(0, "k0", "open");
  open.Flush();
  seen.clear();
  ASSERT_THAT(ReadAll(*reader, topic.name(), {{0, 0, end}}, &seen), IsOk());
  EXPECT_EQ(seen, expected);
  open.Abort();

  // Committed records after `end`: the first of them finishes the partition.
  txn.Begin();
  txn.Put(0, "k0", "later");
  txn.Commit();
  seen.clear();
  ASSERT_THAT(ReadAll(*reader, topic.name(), {{0, 0, end}}, &seen), IsOk());
  EXPECT_EQ(seen, expected);
}

TEST(ChangelogReaderIT, ReadsFromBaseToAnEndInTheMiddle) {
  ScopedTopic topic("changelog-middle", 2, kCompact);
  TxnProducer txn(topic.name());
  txn.Begin();
  for (int i = 0; i < 10; ++i) txn.Put(0, "k" + std::to_string(i), "v" + std::to_string(i));
  for (int i = 0; i < 4; ++i) txn.Put(1, "k" + std::to_string(i), "v" + std::to_string(i));
  std::vector<Written> written = txn.Commit();

  ByPartition seen;
  // Partition 1 with base == end reads nothing.
  ASSERT_THAT(ReadAll(*OpenReader(), topic.name(), {{0, 3, 7}, {1, 2, 2}}, &seen), IsOk());

  EXPECT_EQ(seen, Expected({written}, {{0, {3, 7}}}));
  ASSERT_EQ(seen[0].size(), 4u);
  EXPECT_EQ(seen[0].front().key, "k3");
  EXPECT_EQ(seen[0].back().key, "k6");
}

TEST(ChangelogReaderIT, RecordsDeletedBeforeBaseAreTheRetentionError) {
  // Kafka refuses DeleteRecords on a compact-only topic; compact,delete is what retention can
  // cut, and EnsureChangelogTopics accepts it with a warning.
  ScopedTopic topic("changelog-cut", 1, {{"cleanup.policy", "compact,delete"}});
  TxnProducer txn(topic.name());
  txn.Begin();
  for (int i = 0; i < 10; ++i) txn.Put(0, "k" + std::to_string(i), "v" + std::to_string(i));
  std::vector<Written> written = txn.Commit();
  ASSERT_EQ(DeleteRecordsBefore(topic.name(), 0, 4), 4);
  std::unique_ptr<ChangelogReader> reader = OpenReader();

  ByPartition seen;
  Status status = ReadAll(*reader, topic.name(), {{0, 0, 10}}, &seen, CheckpointId(42));

  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition,
                               AllOf(HasSubstr("partition 0 of the changelog topic '" +
                                               topic.name() + "' starts at offset 4"),
                                     HasSubstr("from offset 0"), HasSubstr("retention"),
                                     HasSubstr("checkpoint 42 cannot be restored"))));
  EXPECT_FALSE(IsRestartable(status));
  EXPECT_TRUE(seen.empty()) << "nothing is delivered from partial state";

  // What is still there can be read.
  ASSERT_THAT(ReadAll(*reader, topic.name(), {{0, 4, 10}}, &seen), IsOk());
  EXPECT_EQ(seen, Expected({written}, {{0, {4, 10}}}));
}

TEST(ChangelogReaderIT, ATopicRecreatedShorterIsAnError) {
  const std::string name = UniqueName("changelog-recreated");
  TopicDeleter delete_topic(name);
  CreateTopic(name, 2, kCompact);
  int64_t end = 0;
  {
    TxnProducer txn(name);
    txn.Begin();
    for (int i = 0; i < 10; ++i) txn.Put(1, "k" + std::to_string(i), "v" + std::to_string(i));
    end = EndAfter(txn.Commit(), 1, 0);
  }
  DeleteTopic(name);
  CreateTopic(name, 2, kCompact);
  {
    TxnProducer txn(name);
    txn.Begin();
    for (int i = 0; i < 3; ++i) txn.Put(1, "k" + std::to_string(i), "new");
    txn.Commit();
  }
  ByPartition seen;

  Status status = ReadAll(*OpenReader(), name, {{0, 0, 0}, {1, 0, end}}, &seen, CheckpointId(9));

  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition,
                               AllOf(HasSubstr("partition 1 of the changelog topic '" + name +
                                               "' ends at offset 4, before offset 10"),
                                     HasSubstr("shorter than the committed checkpoint says"),
                                     HasSubstr("deleted and recreated"))));
  EXPECT_TRUE(seen.empty());
}

TEST(ChangelogReaderIT, ATopicWithFewerPartitionsIsAnError) {
  ScopedTopic topic("changelog-fewer", 2, kCompact);
  ByPartition seen;

  Status status = ReadAll(*OpenReader(), topic.name(), {{0, 0, 0}, {3, 0, 0}}, &seen);

  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition,
                               AllOf(HasSubstr("'" + topic.name() + "' has 2 partitions"),
                                     HasSubstr("partition 3"),
                                     HasSubstr("recreated with another partition count"))));
}

TEST(ChangelogReaderIT, AMissingTopicIsNotFound) {
  const std::string name = UniqueName("changelog-missing");
  ByPartition seen;

  Status status = ReadAll(*OpenReader(), name, {{0, 0, 5}}, &seen, CheckpointId(3));

  EXPECT_THAT(status, StatusIs(StatusCode::kNotFound,
                               AllOf(HasSubstr("the changelog topic '" + name + "' is missing"),
                                     HasSubstr("checkpoint 3 cannot be restored from Kafka"))));
}

TEST(ChangelogReaderIT, AnOpenTransactionBeforeEndIsUnavailable) {
  ScopedTopic topic("changelog-open", 1, kCompact);
  TxnProducer open(topic.name());
  open.Begin();
  for (int i = 0; i < 3; ++i) open.Put(0, "k" + std::to_string(i), "open");
  open.Flush();
  ByPartition seen;

  Status status = ReadAll(*OpenReader(), topic.name(), {{0, 0, 3}}, &seen);

  EXPECT_THAT(status, StatusIs(StatusCode::kUnavailable, HasSubstr("open transaction")));
  EXPECT_TRUE(IsRestartable(status));
  open.Abort();
}

TEST(ChangelogReaderIT, AnUnreachableBrokerIsUnavailableWithinTheTimeout) {
  const std::string nowhere = "127.0.0.1:1";  // nothing listens on port 1
  const milliseconds timeout(2'000);
  std::unique_ptr<ChangelogReader> reader = OpenReader({{"bootstrap.servers", nowhere}}, timeout);
  ByPartition seen;
  const auto start = std::chrono::steady_clock::now();

  Status status = ReadAll(*reader, "changelog-nowhere", {{0, 0, 5}}, &seen);

  EXPECT_THAT(status,
              StatusIs(StatusCode::kUnavailable, AllOf(HasSubstr("bootstrap.servers=" + nowhere),
                                                       HasSubstr("sluice.broker.timeout.ms"))));
  EXPECT_LT(std::chrono::steady_clock::now() - start, timeout + Scaled(milliseconds(5'000)));
}

TEST(ChangelogReaderIT, TheCallbacksErrorStopsTheReadAndTheReaderCanReadAgain) {
  ScopedTopic topic("changelog-callback", 1, kCompact);
  TxnProducer txn(topic.name());
  txn.Begin();
  for (int i = 0; i < 10; ++i) txn.Put(0, "k" + std::to_string(i), "v");
  txn.Commit();
  std::unique_ptr<ChangelogReader> reader = OpenReader();
  int calls = 0;

  Status status =
      reader->Read(topic.name(), {{0, 0, 10}}, CheckpointId(1), [&](const ChangelogRecord&) {
        return ++calls == 3 ? Status::Corruption("bad state bytes") : Status::Ok();
      });

  EXPECT_EQ(status, Status::Corruption("bad state bytes"));
  EXPECT_EQ(calls, 3);
  ByPartition seen;
  ASSERT_THAT(ReadAll(*reader, topic.name(), {{0, 0, 10}}, &seen), IsOk());
  EXPECT_EQ(seen[0].size(), 10u);
}

TEST(ChangelogReaderIT, RefusesBadRanges) {
  std::unique_ptr<ChangelogReader> reader = OpenReader();
  ByPartition seen;
  EXPECT_THAT(ReadAll(*reader, "any", {{0, 5, 4}}, &seen), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadAll(*reader, "any", {{0, 0, 4}, {0, 0, 4}}, &seen),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadAll(*reader, "any", {{-1, 0, 4}}, &seen), StatusIs(StatusCode::kInvalidArgument));
}

// Not a benchmark (nothing is asserted about time): it reads a million records, with an aborted
// transaction among them, and logs the rate for the module's README.
TEST(ChangelogReaderIT, ReadsAMillionRecordsAndLogsTheRate) {
  constexpr int32_t kPartitions = 4;
  constexpr int kPerPartition = 250'000;
  constexpr int kTransactions = 5;
  ScopedTopic topic("changelog-million", kPartitions, kCompact);
  TxnProducer txn(topic.name());
  const std::string value(100, 'v');
  const auto produce_start = std::chrono::steady_clock::now();
  int64_t committed_bytes = 0;
  for (int t = 0; t < kTransactions; ++t) {
    txn.Begin();
    for (int i = t * kPerPartition / kTransactions; i < (t + 1) * kPerPartition / kTransactions;
         ++i) {
      for (int32_t p = 0; p < kPartitions; ++p) {
        const std::string key = "key-" + std::to_string(i);
        txn.PutUntracked(p, key, value);
        committed_bytes += static_cast<int64_t>(key.size() + value.size());
      }
    }
    txn.Commit();
    if (t == 2) {  // aborted records among the committed ones
      txn.Begin();
      for (int i = 0; i < 10'000; ++i) {
        for (int32_t p = 0; p < kPartitions; ++p) txn.PutUntracked(p, "aborted", value);
      }
      txn.Abort();
    }
  }
  const double produce_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - produce_start).count();
  std::vector<ChangelogPartitionRange> ranges;
  for (int32_t p = 0; p < kPartitions; ++p)
    ranges.push_back({p, 0, HighWatermark(topic.name(), p)});
  std::unique_ptr<ChangelogReader> reader = OpenReader();

  int64_t records = 0;
  int64_t bytes = 0;
  int64_t aborted = 0;
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  Status status =
      reader->Read(topic.name(), ranges, CheckpointId(1), [&](const ChangelogRecord& r) {
        ++records;
        bytes += static_cast<int64_t>(r.key.size() + (r.value ? r.value->size() : 0));
        if (r.key == "aborted") ++aborted;
        return Status::Ok();
      });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;  // librdkafka's threads and the callback's

  ASSERT_THAT(status, IsOk());
  EXPECT_EQ(records, int64_t{kPartitions} * kPerPartition);
  EXPECT_EQ(bytes, committed_bytes);
  EXPECT_EQ(aborted, 0);
  std::printf(
      "[ changelog ] produced %lld records transactionally in %.2f s; read them back "
      "(read_committed,"
      " %d partitions, 40000 aborted records skipped) in %.3f s: %.0f records/s, %.1f MB/s, "
      "%.2f CPU us/record (process)\n",
      static_cast<long long>(records), produce_seconds, kPartitions, seconds,
      static_cast<double>(records) / seconds, static_cast<double>(bytes) / seconds / 1e6,
      cpu * 1e6 / static_cast<double>(records));
  RecordProperty("records_per_second",
                 std::to_string(static_cast<int64_t>(static_cast<double>(records) / seconds)));
}

}  // namespace
}  // namespace sluice::kafka::internal
