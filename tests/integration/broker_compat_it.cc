// Proves that librdkafka (the version sluice links) and the Apache Kafka broker of
// scripts/kafka work together for everything sluice relies on. If a broker upgrade breaks one
// of these, docs/kafka-compat.md records it and the broker version stays back.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kafka_test_env.h"

extern char** environ;

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<std::string> Values(const std::vector<Record>& records) {
  std::vector<std::string> values;
  for (const Record& r : records) values.push_back(r.value.value_or("<null>"));
  return values;
}

std::vector<std::pair<std::string, std::string>> Numbered(const std::string& prefix, int count) {
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = 0; i < count; ++i) {
    records.emplace_back("k" + std::to_string(i), prefix + std::to_string(i));
  }
  return records;
}

const Properties kReadCommitted{{"isolation.level", "read_committed"}};
const Properties kReadUncommitted{{"isolation.level", "read_uncommitted"}};

int TimeoutMs(milliseconds base) { return static_cast<int>(Scaled(base).count()); }

KafkaPtr NewTransactionalProducer(const std::string& transactional_id) {
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {{"transactional.id", transactional_id},
                                                    {"transaction.timeout.ms", "60000"}});
  ThrowIfError(rd_kafka_init_transactions(producer.get(), TimeoutMs(seconds(30))),
               "init_transactions " + transactional_id);
  return producer;
}

TEST(BrokerCompatIT, LinksLibrdkafka202OrNewer) {
  // The design's workarounds (no KIP-939, no transaction resume) are written for 2.0.2.
  EXPECT_GE(rd_kafka_version(), 0x020002ff) << rd_kafka_version_str();
  std::printf("librdkafka %s\n", rd_kafka_version_str());
}

TEST(BrokerCompatIT, ProducesAndConsumesKeysValuesHeadersAndTombstones) {
  ScopedTopic topic("compat-produce", 3);
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {{"enable.idempotence", "true"}});
  for (int32_t p = 0; p < 3; ++p) {
    ProduceAndWait(producer.get(), topic.name(), p, Numbered("p" + std::to_string(p) + "-", 10));
  }
  // A record with headers and a tombstone (null value).
  rd_kafka_headers_t* headers = rd_kafka_headers_new(2);
  rd_kafka_header_add(headers, "origin", -1, "test", 4);
  rd_kafka_header_add(headers, "empty", -1, "", 0);
  ASSERT_EQ(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.name().c_str()),
                              RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_KEY("hk", 2),
                              RD_KAFKA_V_VALUE(const_cast<char*>("hv"), 2),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
                              RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.name().c_str()),
                              RD_KAFKA_V_PARTITION(1), RD_KAFKA_V_KEY("gone", 4),
                              RD_KAFKA_V_VALUE(nullptr, 0), RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(rd_kafka_flush(producer.get(), TimeoutMs(seconds(30))), RD_KAFKA_RESP_ERR_NO_ERROR);

  std::vector<Record> records = ReadToEnd(topic.name(), 3);
  ASSERT_EQ(records.size(), 32u);
  std::map<int32_t, std::vector<Record>> by_partition;
  for (Record& r : records) by_partition[r.partition].push_back(std::move(r));
  for (int32_t p = 0; p < 3; ++p) {
    const auto& part = by_partition[p];
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(part[static_cast<size_t>(i)].offset, i);
      EXPECT_EQ(part[static_cast<size_t>(i)].key, "k" + std::to_string(i));
      EXPECT_EQ(part[static_cast<size_t>(i)].value,
                "p" + std::to_string(p) + "-" + std::to_string(i));
    }
  }
  const Record& with_headers = by_partition[0].back();
  EXPECT_EQ(with_headers.value, "hv");
  ASSERT_EQ(with_headers.headers.size(), 2u);
  EXPECT_EQ(with_headers.headers[0], std::make_pair(std::string("origin"), std::string("test")));
  EXPECT_EQ(with_headers.headers[1], std::make_pair(std::string("empty"), std::string()));
  const Record& tombstone = by_partition[1].back();
  EXPECT_EQ(tombstone.key, "gone");
  EXPECT_FALSE(tombstone.value.has_value());
}

TEST(BrokerCompatIT, CommitsGroupOffsetsAndFetchesThemBackWithCommitted) {
  ScopedTopic topic("compat-commit", 3);
  const std::string group = UniqueName("compat-group");
  {
    KafkaPtr consumer =
        NewClient(RD_KAFKA_CONSUMER, {{"group.id", group}, {"enable.auto.commit", "false"}});
    PartitionListPtr offsets(rd_kafka_topic_partition_list_new(3));
    for (int32_t p = 0; p < 3; ++p) {
      rd_kafka_topic_partition_t* tp =
          rd_kafka_topic_partition_list_add(offsets.get(), topic.name().c_str(), p);
      tp->offset = 50 + p;
      // Offset metadata carries sluice's checkpoint id in the design; it must survive.
      std::string metadata = "chk-" + std::to_string(p);
      tp->metadata = strdup(metadata.c_str());
      tp->metadata_size = metadata.size();
    }
    ASSERT_EQ(rd_kafka_commit(consumer.get(), offsets.get(), 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_consumer_close(consumer.get());
  }
  KafkaPtr other = NewClient(RD_KAFKA_CONSUMER, {{"group.id", group}});
  PartitionListPtr wanted(rd_kafka_topic_partition_list_new(4));
  for (int32_t p = 0; p < 3; ++p)
    rd_kafka_topic_partition_list_add(wanted.get(), topic.name().c_str(), p);
  ScopedTopic uncommitted("compat-uncommitted", 1);
  rd_kafka_topic_partition_list_add(wanted.get(), uncommitted.name().c_str(), 0);
  ASSERT_EQ(rd_kafka_committed(other.get(), wanted.get(), TimeoutMs(seconds(30))),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  for (int i = 0; i < 3; ++i) {
    const rd_kafka_topic_partition_t& tp = wanted->elems[i];
    EXPECT_EQ(tp.err, RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(tp.offset, 50 + tp.partition);
    EXPECT_EQ(std::string(static_cast<const char*>(tp.metadata), tp.metadata_size),
              "chk-" + std::to_string(tp.partition));
  }
  EXPECT_EQ(wanted->elems[3].offset, RD_KAFKA_OFFSET_INVALID)
      << "a partition never committed has no offset";
  rd_kafka_consumer_close(other.get());
}

TEST(BrokerCompatIT, OffsetsForTimesFindsTheFirstRecordAtOrAfterTheTimestamp) {
  ScopedTopic topic("compat-times", 1);
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  const int64_t base = 1'700'000'000'000;
  for (int i = 0; i < 5; ++i) {  // offsets 0..4 with timestamps base, base+1000, ...
    ProduceAndWait(producer.get(), topic.name(), 0, {{"k", "v" + std::to_string(i)}},
                   base + 1000 * i);
  }
  auto lookup = [&](int64_t timestamp) {
    PartitionListPtr query(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(query.get(), topic.name().c_str(), 0)->offset = timestamp;
    EXPECT_EQ(rd_kafka_offsets_for_times(producer.get(), query.get(), TimeoutMs(seconds(30))),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    return query->elems[0].offset;
  };
  EXPECT_EQ(lookup(base - 1), 0);
  EXPECT_EQ(lookup(base), 0);
  EXPECT_EQ(lookup(base + 1), 1);
  EXPECT_EQ(lookup(base + 2500), 3);
  EXPECT_EQ(lookup(base + 4000), 4);
  // No record at or after the timestamp: the broker answers "end" (-1), which Flink maps to
  // the latest offset.
  EXPECT_EQ(lookup(base + 4001), RD_KAFKA_OFFSET_END);
}

TEST(BrokerCompatIT, ReadCommittedSeesCommittedRecordsAndNeverAbortedOnes) {
  ScopedTopic topic("compat-txn", 2);
  KafkaPtr producer = NewTransactionalProducer(UniqueName("compat-txn"));
  for (const char* outcome : {"commit", "abort", "commit", "abort"}) {
    ThrowIfError(rd_kafka_begin_transaction(producer.get()), "begin_transaction");
    for (int32_t p = 0; p < 2; ++p) {
      ProduceAndWait(producer.get(), topic.name(), p, Numbered(std::string(outcome) + "-", 3));
    }
    if (std::string(outcome) == "commit") {
      ThrowIfError(rd_kafka_commit_transaction(producer.get(), TimeoutMs(seconds(30))),
                   "commit_transaction");
    } else {
      ThrowIfError(rd_kafka_abort_transaction(producer.get(), TimeoutMs(seconds(30))),
                   "abort_transaction");
    }
  }
  std::vector<Record> committed = ReadToEnd(topic.name(), 2, kReadCommitted);
  ASSERT_EQ(committed.size(), 12u);
  for (const Record& r : committed) EXPECT_EQ(r.value->rfind("commit-", 0), 0u) << *r.value;
  // The control test: read_uncommitted does see the aborted records, so the filter above is
  // the broker's and librdkafka's doing, not an artefact of the test.
  std::vector<Record> everything = ReadToEnd(topic.name(), 2, kReadUncommitted);
  EXPECT_EQ(everything.size(), 24u);
}

TEST(BrokerCompatIT, SendOffsetsToTransactionWithGroupMetadataFromAGroupNameWhileAssigned) {
  ScopedTopic input("compat-eos-in", 2);
  ScopedTopic output("compat-eos-out", 1);
  const std::string group = UniqueName("compat-eos-group");
  KafkaPtr seed = NewClient(RD_KAFKA_PRODUCER, {});
  ProduceAndWait(seed.get(), input.name(), 0, Numbered("a", 7));
  ProduceAndWait(seed.get(), input.name(), 1, Numbered("b", 4));

  // sluice's sources assign() partitions themselves: no subscribe(), no group membership.
  KafkaPtr consumer =
      NewClient(RD_KAFKA_CONSUMER, {{"group.id", group}, {"enable.auto.commit", "false"}});
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(2));
  for (int32_t p = 0; p < 2; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), input.name().c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  if (rd_kafka_assign(consumer.get(), assignment.get()) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("assign failed");
  std::map<int32_t, int64_t> next_offset;
  int read = 0;
  auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(30));
  while (read < 11 && std::chrono::steady_clock::now() < deadline) {
    MessagePtr m(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    next_offset[m->partition] = m->offset + 1;
    ++read;
  }
  ASSERT_EQ(read, 11);

  KafkaPtr producer = NewTransactionalProducer(UniqueName("compat-eos"));
  ThrowIfError(rd_kafka_begin_transaction(producer.get()), "begin_transaction");
  ProduceAndWait(producer.get(), output.name(), 0, Numbered("out", 11));
  PartitionListPtr offsets(rd_kafka_topic_partition_list_new(2));
  for (auto [p, offset] : next_offset) {
    rd_kafka_topic_partition_list_add(offsets.get(), input.name().c_str(), p)->offset = offset;
  }
  rd_kafka_consumer_group_metadata_t* metadata =
      rd_kafka_consumer_group_metadata_new(group.c_str());
  rd_kafka_error_t* send_error = rd_kafka_send_offsets_to_transaction(
      producer.get(), offsets.get(), metadata, TimeoutMs(seconds(30)));
  rd_kafka_consumer_group_metadata_destroy(metadata);
  ThrowIfError(send_error, "send_offsets_to_transaction");
  ThrowIfError(rd_kafka_commit_transaction(producer.get(), TimeoutMs(seconds(30))),
               "commit_transaction");
  rd_kafka_consumer_close(consumer.get());

  // The group's committed offsets are exactly what the transaction carried.
  KafkaPtr checker = NewClient(RD_KAFKA_CONSUMER, {{"group.id", group}});
  PartitionListPtr wanted(rd_kafka_topic_partition_list_new(2));
  for (int32_t p = 0; p < 2; ++p)
    rd_kafka_topic_partition_list_add(wanted.get(), input.name().c_str(), p);
  ASSERT_EQ(rd_kafka_committed(checker.get(), wanted.get(), TimeoutMs(seconds(30))),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  std::map<int32_t, int64_t> committed;
  for (int i = 0; i < wanted->cnt; ++i)
    committed[wanted->elems[i].partition] = wanted->elems[i].offset;
  EXPECT_EQ(committed, (std::map<int32_t, int64_t>{{0, 7}, {1, 4}}));
  rd_kafka_consumer_close(checker.get());
  EXPECT_EQ(ReadToEnd(output.name(), 1, kReadCommitted).size(), 11u);
}

TEST(BrokerCompatIT, TwoTransactionalProducersAlternateTransactionsOnTheSamePartitions) {
  // The design's producer pair: while A commits epoch N, B already holds epoch N+1 open.
  ScopedTopic topic("compat-pair", 2);
  const std::string prefix = UniqueName("compat-pair");
  KafkaPtr a = NewTransactionalProducer(prefix + "-a");
  KafkaPtr b = NewTransactionalProducer(prefix + "-b");
  auto write = [&](rd_kafka_t* producer, const std::string& epoch) {
    for (int32_t p = 0; p < 2; ++p)
      ProduceAndWait(producer, topic.name(), p, Numbered(epoch + "-", 5));
  };
  auto commit = [&](rd_kafka_t* producer) {
    ThrowIfError(rd_kafka_commit_transaction(producer, TimeoutMs(seconds(30))),
                 "commit_transaction");
  };
  ThrowIfError(rd_kafka_begin_transaction(a.get()), "begin a");
  write(a.get(), "e1");
  ThrowIfError(rd_kafka_begin_transaction(b.get()), "begin b");
  write(b.get(), "e2");
  commit(a.get());
  // B's open transaction holds the last stable offset back: e1 records written after B's first
  // record are not readable yet, but the ones before are.
  ThrowIfError(rd_kafka_begin_transaction(a.get()), "begin a again");
  write(a.get(), "e3");
  commit(b.get());
  ThrowIfError(rd_kafka_begin_transaction(b.get()), "begin b again");
  write(b.get(), "e4");
  ThrowIfError(rd_kafka_abort_transaction(b.get(), TimeoutMs(seconds(30))), "abort b");
  commit(a.get());

  std::vector<Record> records = ReadToEnd(topic.name(), 2, kReadCommitted);
  std::map<std::string, int> per_epoch;
  for (const Record& r : records) ++per_epoch[r.value->substr(0, 2)];
  EXPECT_EQ(per_epoch, (std::map<std::string, int>{{"e1", 10}, {"e2", 10}, {"e3", 10}}));
}

TEST(BrokerCompatIT, InitTransactionsAbortsTheOpenTransactionOfADeadPreviousOwner) {
  ScopedTopic topic("compat-zombie", 1);
  const std::string transactional_id = UniqueName("compat-zombie");
  std::vector<std::string> args = {SLUICE_TXN_ZOMBIE_PATH, BootstrapServers(), transactional_id,
                                   topic.name(), "20"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "txn_zombie did not reach its open transaction (exit status " << wstatus << ")";

  // The dead owner's records are in the log, and its open transaction pins the LSO at 0.
  EXPECT_EQ(ReadToEnd(topic.name(), 1, kReadUncommitted).size(), 20u);
  EXPECT_EQ(ReadToEnd(topic.name(), 1, kReadCommitted).size(), 0u);

  // The new owner's init_transactions must abort the old transaction (the zombie asked for a
  // 10-minute timeout, far beyond this test), so its own commit becomes readable.
  KafkaPtr heir = NewTransactionalProducer(transactional_id);
  ThrowIfError(rd_kafka_begin_transaction(heir.get()), "begin_transaction");
  ProduceAndWait(heir.get(), topic.name(), 0, {{"k", "heir"}});
  ThrowIfError(rd_kafka_commit_transaction(heir.get(), TimeoutMs(seconds(30))),
               "commit_transaction");
  EXPECT_EQ(Values(ReadToEnd(topic.name(), 1, kReadCommitted)), std::vector<std::string>{"heir"});
}

KafkaPtr NewSaslClient(const std::string& user, const std::string& password,
                       void (*configure)(rd_kafka_conf_t*) = nullptr) {
  return NewClient(RD_KAFKA_PRODUCER,
                   {{"bootstrap.servers", SaslBootstrapServers()},
                    {"security.protocol", "SASL_PLAINTEXT"},
                    {"sasl.mechanism", "PLAIN"},
                    {"sasl.username", user},
                    {"sasl.password", password}},
                   configure);
}

TEST(BrokerCompatIT, SaslPlainWithTheRightPasswordProducesAndConsumes) {
  ScopedTopic topic("compat-sasl", 1);
  KafkaPtr producer = NewSaslClient("alice", "alice-secret");
  ProduceAndWait(producer.get(), topic.name(), 0, {{"k", "over-sasl"}});
  EXPECT_EQ(Values(ReadToEnd(topic.name(), 1,
                             {{"bootstrap.servers", SaslBootstrapServers()},
                              {"security.protocol", "SASL_PLAINTEXT"},
                              {"sasl.mechanism", "PLAIN"},
                              {"sasl.username", "admin"},
                              {"sasl.password", "admin-secret"}})),
            std::vector<std::string>{"over-sasl"});
}

// Collects the errors librdkafka reports through its error callback.
struct ErrorLog {
  std::mutex mutex;
  std::vector<rd_kafka_resp_err_t> errors;
  std::string first_reason;
};
ErrorLog sasl_errors;

TEST(BrokerCompatIT, SaslPlainWithAWrongPasswordFailsWithAnAuthenticationErrorWithin10s) {
  KafkaPtr producer = NewSaslClient("alice", "not-the-password", [](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t*, int err, const char* reason, void*) {
      std::lock_guard lock(sasl_errors.mutex);
      if (sasl_errors.errors.empty()) sasl_errors.first_reason = reason;
      sasl_errors.errors.push_back(static_cast<rd_kafka_resp_err_t>(err));
    });
  });
  // The error callback names authentication as the cause within 10 seconds of start...
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  bool authentication_failed = false;
  while (!authentication_failed && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_poll(producer.get(), 100);
    std::lock_guard lock(sasl_errors.mutex);
    authentication_failed =
        std::find(sasl_errors.errors.begin(), sasl_errors.errors.end(),
                  RD_KAFKA_RESP_ERR__AUTHENTICATION) != sasl_errors.errors.end();
  }
  // ...and a metadata request fails instead of hanging.
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(producer.get(), 0, nullptr, &metadata, 2000);
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  EXPECT_NE(err, RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_TRUE(authentication_failed) << "first error: " << sasl_errors.first_reason;
}

}  // namespace
}  // namespace sluice::testing
