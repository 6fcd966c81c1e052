// Source offsets inside the exactly-once transaction (DESIGN.md section 5): a job with a
// Kafka source that has a group id and an EXACTLY_ONCE sink on the same cluster commits the
// group's offsets with send_offsets_to_transaction in the transaction that completes each
// checkpoint, so the group's committed offsets always match the committed output.
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "connectors/kafka/transaction_participant.h"
#include "kafka_test_env.h"

using ::sluice::testing::IsOk;

namespace sluice::testing {
namespace {

using kafka::DeliveryGuarantee;
using kafka::KafkaRecordSerializationSchema;
using kafka::KafkaSink;
using kafka::KafkaSource;
using kafka::OffsetsInitializer;
using kafka::SimpleStringSchema;

TEST(KafkaSinkSourceOffsetsIT, TheCheckpointsTransactionCommitsTheSourceGroupsOffsets) {
  const std::string prefix = UniqueName("sink-offsets-txn");
  const std::string group = UniqueName("sink-offsets-group");
  const std::string job_name = UniqueName("sink-offsets-job");
  const auto checkpoints = std::filesystem::temp_directory_path() / UniqueName("sink-offsets-chk");
  ScopedTopic in("sink-offsets-in", 2);
  ScopedTopic out("sink-offsets-out", 2);
  {
    KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
    for (int32_t p = 0; p < 2; ++p) {
      std::vector<std::pair<std::string, std::string>> records;
      for (int i = 0; i < 500; ++i) records.emplace_back("", std::to_string(p * 500 + i));
      ProduceAndWait(producer.get(), in.name(), p, records);
    }
  }
  auto source = KafkaSource<std::string>::Builder()
                    .SetBootstrapServers(BootstrapServers())
                    .SetTopics(in.name())
                    .SetGroupId(group)
                    .SetStartingOffsets(OffsetsInitializer::Earliest())
                    .SetBounded(OffsetsInitializer::Latest())
                    .SetValueOnlyDeserializer(SimpleStringSchema())
                    .Build();
  ASSERT_THAT(source, IsOk());
  auto sink = KafkaSink<std::string>::Builder()
                  .SetBootstrapServers(BootstrapServers())
                  .SetRecordSerializer(KafkaRecordSerializationSchema<std::string>::Builder()
                                           .SetTopic(out.name())
                                           .SetValueSerializationSchema(SimpleStringSchema())
                                           .Build())
                  .SetDeliveryGuarantee(DeliveryGuarantee::kExactlyOnce)
                  .SetTransactionalIdPrefix(prefix)
                  .Build();
  ASSERT_THAT(sink, IsOk());
  auto participant = std::dynamic_pointer_cast<kafka::internal::KafkaTransactionParticipant>(
      (*sink)->GetCheckpointParticipant());
  ASSERT_NE(participant, nullptr);

  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  // Longer than the job: only the final checkpoint commits, so its transaction must carry
  // the offsets.
  env->EnableCheckpointing(std::chrono::seconds(60));
  env->GetCheckpointConfig().SetCheckpointStorage(checkpoints.string());
  env->FromSource(*source, WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .Uid("source")
      .Map([](const std::string& v) { return v; })
      .Uid("map")
      .SinkTo(*sink)
      .Uid("sink");
  JobExecutionResult result = env->Execute(job_name);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();

  std::map<int32_t, int64_t> committed = CommittedOffsets(group, in.name(), 2);
  EXPECT_EQ(committed[0], 500);
  EXPECT_EQ(committed[1], 500);
  EXPECT_GE(participant->offset_commits(), 1)
      << "the offsets went through send_offsets_to_transaction";
  std::map<std::string, int> seen;
  for (const Record& r : ReadToEnd(out.name(), 2, {{"isolation.level", "read_committed"}})) {
    if (r.value) ++seen[*r.value];
  }
  EXPECT_EQ(seen.size(), 1000u);
  for (const auto& [value, count] : seen) EXPECT_EQ(count, 1) << value;
  DeleteTopic(prefix + ".sluice-control");
  std::error_code ignored;
  std::filesystem::remove_all(checkpoints, ignored);
}

}  // namespace
}  // namespace sluice::testing
