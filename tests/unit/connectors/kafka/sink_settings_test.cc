// KafkaSinkBuilder::Build and Sink::Validate: every mistake is refused with the setting and
// the fix in the message.
#include <sluice/connectors/kafka/kafka_sink.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include <sluice/testing/status_matchers.h>

#include "connectors/kafka/transaction_marker.h"

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

namespace sluice::kafka {
namespace {

KafkaSinkBuilder<std::string> Valid() {
  KafkaSinkBuilder<std::string> builder = KafkaSink<std::string>::Builder();
  builder.SetBootstrapServers("127.0.0.1:19092")
      .SetRecordSerializer(KafkaRecordSerializationSchema<std::string>::Builder()
                               .SetTopic("out")
                               .SetValueSerializationSchema(SimpleStringSchema())
                               .Build());
  return builder;
}

std::string BuildError(const KafkaSinkBuilder<std::string>& builder) {
  auto sink = builder.Build();
  EXPECT_THAT(sink, Not(IsOk()));
  if (sink.ok()) return "";
  EXPECT_THAT(sink, StatusIs(StatusCode::kInvalidArgument));
  return sink.status().message();
}

TEST(KafkaSinkSettingsTest, DefaultsAreNoneMurmur2AndNoTransactions) {
  auto sink = Valid().Build();
  ASSERT_THAT(sink, IsOk());
  const auto& settings = (*sink)->settings();
  EXPECT_EQ(settings.guarantee, DeliveryGuarantee::kNone);
  EXPECT_EQ(settings.producer_properties.at("partitioner"), "murmur2_random");
  EXPECT_EQ((*sink)->GetCheckpointParticipant(), nullptr);
}

TEST(KafkaSinkSettingsTest, AtLeastOnceIsIdempotent) {
  auto sink = Valid().SetDeliveryGuarantee(DeliveryGuarantee::kAtLeastOnce).Build();
  ASSERT_THAT(sink, IsOk());
  EXPECT_EQ((*sink)->settings().producer_properties.at("enable.idempotence"), "true");
}

TEST(KafkaSinkSettingsTest, ReplicationFactorsAreTheSinksOwnKeysAndChecked) {
  // Found by the state changelog's setting: the control topic's factor used to reach
  // librdkafka, which refuses unknown properties.
  for (const char* key :
       {"sluice.control.topic.replication.factor", "sluice.changelog.replication.factor"}) {
    auto sink = Valid().SetProperty(key, "3").Build();
    ASSERT_THAT(sink, IsOk()) << key;
    EXPECT_EQ((*sink)->settings().properties.at(key), "3");
    EXPECT_EQ((*sink)->settings().producer_properties.count(key), 0u) << key;
    EXPECT_THAT(BuildError(Valid().SetProperty(key, "0")), HasSubstr(key));
  }
}

TEST(KafkaSinkSettingsTest, ChangelogTopicConfigsAreTheSinksOwnKeys) {
  auto sink = Valid().SetProperty("sluice.changelog.topic.segment.bytes", "1048576").Build();
  ASSERT_THAT(sink, IsOk());
  EXPECT_EQ((*sink)->settings().properties.at("sluice.changelog.topic.segment.bytes"), "1048576");
  EXPECT_EQ((*sink)->settings().producer_properties.count("sluice.changelog.topic.segment.bytes"),
            0u);
  // The changelog is compacted, always: a restore must never find state deleted by retention.
  EXPECT_THAT(BuildError(Valid().SetProperty("sluice.changelog.topic.cleanup.policy", "delete")),
              HasSubstr("cleanup.policy is always compact"));
  EXPECT_THAT(BuildError(Valid().SetProperty("sluice.changelog.topic.", "x")),
              HasSubstr("sluice.changelog.topic.<topic config>"));
}

TEST(KafkaSinkSettingsTest, TheStatePrefixOfAJobIsATopicName) {
  EXPECT_EQ(detail::StatePrefixForJob("WordCount"), "sluice-WordCount");
  EXPECT_EQ(detail::StatePrefixForJob("Word Count/v2:é"), "sluice-Word_Count_v2___");
}

TEST(KafkaSinkSettingsTest, AnAtLeastOnceSinkMakesAStateParticipantOnItsCluster) {
  auto sink = Valid().SetDeliveryGuarantee(DeliveryGuarantee::kAtLeastOnce).Build();
  ASSERT_THAT(sink, IsOk());
  SinkValidationContext job;
  job.checkpointing_enabled = true;
  job.checkpoint_interval_ms = 1000;
  job.checkpoint_timeout_ms = 60'000;
  job.job_name = "counts";
  auto participant = (*sink)->CreateStateParticipant(job);
  ASSERT_THAT(participant, IsOk());
  ASSERT_NE(*participant, nullptr);
  EXPECT_THAT((*participant)->Name(), HasSubstr("state changelog"));
  EXPECT_THAT((*participant)->Name(), HasSubstr("'sluice-counts'"));
  EXPECT_NE((*participant)->changelog(), nullptr);
  // The transactions must outlive a checkpoint: the sink's own check, for the state's sake.
  job.checkpoint_timeout_ms = 2'000'000;
  EXPECT_THAT((*sink)->CreateStateParticipant(job), StatusIs(StatusCode::kInvalidArgument));
}

TEST(KafkaSinkSettingsTest, MissingPiecesNameTheSetter) {
  EXPECT_NE(BuildError(KafkaSink<std::string>::Builder().SetBootstrapServers("x:1"))
                .find("SetRecordSerializer"),
            std::string::npos);
  auto no_servers = KafkaSink<std::string>::Builder().SetRecordSerializer(
      KafkaRecordSerializationSchema<std::string>::Builder()
          .SetTopic("t")
          .SetValueSerializationSchema(SimpleStringSchema())
          .Build());
  EXPECT_NE(BuildError(no_servers).find("SetBootstrapServers"), std::string::npos);
  auto no_topic = KafkaSink<std::string>::Builder().SetBootstrapServers("x:1").SetRecordSerializer(
      KafkaRecordSerializationSchema<std::string>::Builder()
          .SetValueSerializationSchema(SimpleStringSchema())
          .Build());
  EXPECT_NE(BuildError(no_topic).find("SetTopic"), std::string::npos);
  auto no_value = KafkaSink<std::string>::Builder().SetBootstrapServers("x:1").SetRecordSerializer(
      KafkaRecordSerializationSchema<std::string>::Builder().SetTopic("t").Build());
  EXPECT_NE(BuildError(no_value).find("SetValueSerializationSchema"), std::string::npos);
  EXPECT_NE(BuildError(Valid().SetProperty("linger.mss", "5")).find("linger.mss"),
            std::string::npos);
}

TEST(KafkaSinkSettingsTest, ExactlyOnceNeedsAPrefix) {
  std::string message = BuildError(Valid().SetDeliveryGuarantee(DeliveryGuarantee::kExactlyOnce));
  EXPECT_NE(message.find("SetTransactionalIdPrefix"), std::string::npos) << message;
  message = BuildError(Valid()
                           .SetDeliveryGuarantee(DeliveryGuarantee::kExactlyOnce)
                           .SetTransactionalIdPrefix("p")
                           .SetProperty("transactional.id", "x"));
  EXPECT_NE(message.find("transactional.id"), std::string::npos) << message;
}

TEST(KafkaSinkSettingsTest, ExactlyOnceDefaultsFitADefaultBrokerAndTenMinuteCheckpointTimeout) {
  auto sink = Valid()
                  .SetDeliveryGuarantee(DeliveryGuarantee::kExactlyOnce)
                  .SetTransactionalIdPrefix("job-x")
                  .Build();
  ASSERT_THAT(sink, IsOk());
  EXPECT_EQ((*sink)->settings().transaction_timeout_ms, 900'000)
      << "a default broker's transaction.max.timeout.ms";
  EXPECT_EQ((*sink)->settings().control_topic, "job-x.sluice-control");
  SinkValidationContext job{true, 60'000, 600'000, "j"};
  EXPECT_THAT((*sink)->Validate(job), IsOk());
}

TEST(KafkaSinkSettingsTest, ExactlyOnceWithoutCheckpointingIsRefused) {
  auto sink = Valid()
                  .SetDeliveryGuarantee(DeliveryGuarantee::kExactlyOnce)
                  .SetTransactionalIdPrefix("p")
                  .Build();
  ASSERT_THAT(sink, IsOk());
  Status status = (*sink)->Validate(SinkValidationContext{false, 0, 600'000, "j"});
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("EnableCheckpointing"));
}

TEST(KafkaSinkSettingsTest, TransactionTimeoutMustExceedIntervalPlusCheckpointTimeout) {
  auto sink = Valid()
                  .SetDeliveryGuarantee(DeliveryGuarantee::kExactlyOnce)
                  .SetTransactionalIdPrefix("p")
                  .SetProperty("transaction.timeout.ms", "60000")
                  .Build();
  ASSERT_THAT(sink, IsOk());
  Status status = (*sink)->Validate(SinkValidationContext{true, 1'000, 600'000, "j"});
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("transaction.timeout.ms"));
  EXPECT_THAT(status.message(), HasSubstr("SetCheckpointTimeout"));
  EXPECT_THAT((*sink)->Validate(SinkValidationContext{true, 1'000, 30'000, "j"}), IsOk());
}

TEST(KafkaSinkSettingsTest, SinksOfOneClusterAndPrefixShareOneParticipant) {
  auto eo = [](const std::string& servers, const std::string& prefix) {
    return Valid()
        .SetBootstrapServers(servers)
        .SetDeliveryGuarantee(DeliveryGuarantee::kExactlyOnce)
        .SetTransactionalIdPrefix(prefix)
        .Build();
  };
  auto a = eo("127.0.0.1:19092,127.0.0.2:19092", "p");
  auto b = eo("127.0.0.2:19092, 127.0.0.1:19092", "p");
  auto c = eo("127.0.0.1:19093", "p");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ((*a)->GetCheckpointParticipant(), (*b)->GetCheckpointParticipant())
      << "same cluster in another order";
  EXPECT_NE((*a)->GetCheckpointParticipant(), (*c)->GetCheckpointParticipant());
}

TEST(CommitMarkerTest, RoundTripsAndRefusesNewerVersions) {
  kafka::internal::CommitMarker marker{"job", 0, 42, "/tmp/chk-42", 1000, 2000, std::nullopt};
  auto decoded = kafka::internal::DecodeMarker(kafka::internal::EncodeMarker(marker));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->job, "job");
  EXPECT_EQ(decoded->checkpoint, 42);
  EXPECT_EQ(decoded->storage_path, "/tmp/chk-42");
  EXPECT_EQ(decoded->commit_time_ms, 2000);
  EXPECT_THAT(kafka::internal::DecodeMarker(
                  R"({"format_version":3,"job":"j","instance":0,"checkpoint":1,"storage_path":""})")
                  .status(),
              StatusIs(StatusCode::kCorruption));
  EXPECT_THAT(kafka::internal::DecodeMarker("nope"), StatusIs(StatusCode::kCorruption));
  EXPECT_EQ(kafka::internal::MarkerKey("job", 3), "job/instance-3");
}

TEST(CommitMarkerTest, WithoutAChangelogItIsStillFormatVersion1) {
  // Pinned: what sluice wrote before the changelog existed, and what older releases read.
  kafka::internal::CommitMarker marker{"job", 1, 7, "/chk-7", 10, 20, std::nullopt};
  EXPECT_EQ(kafka::internal::EncodeMarker(marker),
            R"({"checkpoint":7,"commit_time_ms":20,"format_version":1,"instance":1,)"
            R"("job":"job","storage_path":"/chk-7","trigger_time_ms":10})");
  auto decoded = kafka::internal::DecodeMarker(kafka::internal::EncodeMarker(marker));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_FALSE(decoded->changelog.has_value());
}

TEST(CommitMarkerTest, RoundTripsItsChangelogSectionAsFormatVersion2) {
  kafka::internal::CommitMarker marker{"job", 0, 9, "/chk-9", 1, 2, std::nullopt};
  kafka::internal::ChangelogSection::Operator counts;
  counts.op = ChangelogOperator{"counts", "Count words", true, 2, 128};
  counts.topic = "p.counts.changelog";
  counts.ranges = {{0, {0, 5}}, {127, {3, 40}}};
  kafka::internal::ChangelogSection::Operator source;
  source.op = ChangelogOperator{"source", "Kafka source", false, 4, 128};
  source.topic = "p.source.changelog";
  marker.changelog = kafka::internal::ChangelogSection{{counts, source}};
  const std::string bytes = kafka::internal::EncodeMarker(marker);
  EXPECT_NE(bytes.find(R"("format_version":2)"), std::string::npos);
  EXPECT_NE(bytes.find(R"("ranges":[[0,0,5],[127,3,40]])"), std::string::npos);
  auto decoded = kafka::internal::DecodeMarker(bytes);
  ASSERT_THAT(decoded, IsOk());
  ASSERT_TRUE(decoded->changelog.has_value());
  ASSERT_EQ(decoded->changelog->operators.size(), 2u);
  const auto& first = decoded->changelog->operators[0];
  EXPECT_EQ(first.op.uid, "counts");
  EXPECT_EQ(first.op.name, "Count words");
  EXPECT_TRUE(first.op.keyed);
  EXPECT_EQ(first.op.parallelism, 2);
  EXPECT_EQ(first.op.max_parallelism, 128);
  EXPECT_EQ(first.topic, "p.counts.changelog");
  EXPECT_EQ(first.ranges, counts.ranges);
  EXPECT_FALSE(decoded->changelog->operators[1].op.keyed);
  EXPECT_EQ(decoded->changelog->operators[1].op.partitions(), 1);
}

TEST(CommitMarkerTest, RefusesAChangelogRangeThatCannotBe) {
  for (const char* range : {"[128,0,1]", "[0,5,4]", "[-1,0,0]", "[0,-1,3]"}) {
    const std::string bytes =
        std::string(R"({"format_version":2,"job":"j","instance":0,"checkpoint":1,)"
                    R"("storage_path":"","changelog":{"operators":[{"uid":"u","keyed":true,)"
                    R"("parallelism":1,"max_parallelism":128,"topic":"t","ranges":[)") +
        range + "]}]}}";
    EXPECT_THAT(kafka::internal::DecodeMarker(bytes), StatusIs(StatusCode::kCorruption)) << range;
  }
}

}  // namespace
}  // namespace sluice::kafka
