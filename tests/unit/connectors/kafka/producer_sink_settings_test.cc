// KafkaProducerSink (the legacy shape): the settings Sink::Validate resolves for a job, the
// legacy defaults, and every mistake refused with the setting and the fix. No broker needed:
// Validate never connects.
#include <sluice/connectors/kafka/kafka_producer_sink.h>
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::Not;

namespace sluice::kafka {
namespace {

static_assert(std::same_as<KafkaProducerSink<std::string>::Semantic, Semantic>,
              "both spellings of Semantic name one type");

const Properties kProps{{"bootstrap.servers", "127.0.0.1:19092"}};

SinkValidationContext Checkpointing(std::string job = "orders-job") {
  SinkValidationContext context;
  context.checkpointing_enabled = true;
  context.checkpoint_interval_ms = 1000;
  context.checkpoint_timeout_ms = 60'000;
  context.job_name = std::move(job);
  return context;
}

SinkValidationContext NoCheckpointing(std::string job = "orders-job") {
  SinkValidationContext context;
  context.job_name = std::move(job);
  return context;
}

const detail::KafkaSinkSettings& Resolved(const KafkaProducerSink<std::string>& sink) {
  auto resolved = sink.ResolvedSink();
  if (resolved == nullptr) throw std::runtime_error("Validate did not resolve the sink");
  return resolved->settings();  // the sink keeps `resolved` alive
}

std::string ValidateError(const KafkaProducerSink<std::string>& sink,
                          const SinkValidationContext& job) {
  Status status = sink.Validate(job);
  EXPECT_THAT(status, Not(IsOk()));
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(sink.ResolvedSink(), nullptr) << "a refused configuration leaves nothing to write with";
  return status.message();
}

// Counts how often `needle` appears in what `fn` writes to stderr (where sluice logs).
template <typename Fn>
int StderrCount(const std::string& needle, Fn fn) {
  ::testing::internal::CaptureStderr();
  fn();
  std::string err = ::testing::internal::GetCapturedStderr();
  int count = 0;
  for (size_t at = err.find(needle); at != std::string::npos; at = err.find(needle, at + 1))
    ++count;
  return count;
}

class Uppercase final : public SerializationSchema<std::string> {
 public:
  bool Serialize(const std::string& element, std::string& out) override {
    for (char c : element)
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return true;
  }
};

class AlwaysPartitionZero final : public KafkaPartitioner<std::string> {
 public:
  int32_t Partition(const std::string&, std::optional<std::string_view>,
                    std::optional<std::string_view>, const std::string&,
                    const std::vector<int32_t>&) override {
    return 0;
  }
};

TEST(KafkaProducerSinkSettingsTest, DefaultIsAtLeastOnceWithAnIdempotentProducer) {
  KafkaProducerSink<std::string> sink("orders", SimpleStringSchema(), kProps);
  ASSERT_THAT(sink.Validate(Checkpointing()), IsOk());
  const auto& settings = Resolved(sink);
  EXPECT_EQ(settings.guarantee, DeliveryGuarantee::kAtLeastOnce);
  EXPECT_EQ(settings.producer_properties.at("enable.idempotence"), "true");
  EXPECT_FALSE(settings.log_failures_only);
  EXPECT_EQ(sink.GetCheckpointParticipant(), nullptr);
}

TEST(KafkaProducerSinkSettingsTest, WithoutCheckpointingEverySemanticIsNoneAndSaysSoOnce) {
  for (Semantic semantic : {Semantic::kNone, Semantic::kAtLeastOnce, Semantic::kExactlyOnce}) {
    SCOPED_TRACE(std::string(DeliveryGuaranteeName(semantic)));
    KafkaProducerSink<std::string> sink("orders", SimpleStringSchema(), kProps, semantic);
    int lines = StderrCount("checkpointing is off, so Semantic",
                            [&] { ASSERT_THAT(sink.Validate(NoCheckpointing()), IsOk()); });
    EXPECT_EQ(lines, semantic == Semantic::kNone ? 0 : 1);
    EXPECT_EQ(Resolved(sink).guarantee, DeliveryGuarantee::kNone);
    EXPECT_EQ(sink.GetCheckpointParticipant(), nullptr) << "no transactions without checkpoints";
  }
}

TEST(KafkaProducerSinkSettingsTest, ExactlyOnceDefaultPrefixComesFromTheJobName) {
  KafkaProducerSink<std::string> a("orders", SimpleStringSchema(), kProps, Semantic::kExactlyOnce);
  KafkaProducerSink<std::string> b("invoices", Uppercase(), kProps, Semantic::kExactlyOnce);
  ASSERT_THAT(a.Validate(Checkpointing("kafka - test001")), IsOk());
  ASSERT_THAT(b.Validate(Checkpointing("kafka - test001")), IsOk());
  const auto& settings = Resolved(a);
  EXPECT_EQ(settings.guarantee, DeliveryGuarantee::kExactlyOnce);
  EXPECT_EQ(settings.transactional_id_prefix, "sluice-kafka_-_test001");
  EXPECT_EQ(settings.control_topic, "sluice-kafka_-_test001.sluice-control");
  ASSERT_NE(a.GetCheckpointParticipant(), nullptr);
  EXPECT_EQ(a.GetCheckpointParticipant(), b.GetCheckpointParticipant())
      << "legacy sinks of one job share one transactional pair";

  KafkaProducerSink<std::string> other_job("orders", SimpleStringSchema(), kProps,
                                           Semantic::kExactlyOnce);
  ASSERT_THAT(other_job.Validate(Checkpointing("another job")), IsOk());
  EXPECT_NE(other_job.GetCheckpointParticipant(), a.GetCheckpointParticipant());
}

TEST(KafkaProducerSinkSettingsTest, PrefixComesFromTheSetterThenTheProperty) {
  Properties props = kProps;
  props["sluice.transactional.id.prefix"] = "from-property";
  KafkaProducerSink<std::string> by_property("orders", SimpleStringSchema(), props,
                                             Semantic::kExactlyOnce);
  ASSERT_THAT(by_property.Validate(Checkpointing()), IsOk());
  EXPECT_EQ(Resolved(by_property).transactional_id_prefix, "from-property");
  EXPECT_EQ(Resolved(by_property).producer_properties.count("sluice.transactional.id.prefix"), 0u)
      << "the sink's own key is not handed to librdkafka";

  KafkaProducerSink<std::string> by_setter("orders", SimpleStringSchema(), props,
                                           Semantic::kExactlyOnce);
  by_setter.SetTransactionalIdPrefix("from-setter");
  ASSERT_THAT(by_setter.Validate(Checkpointing()), IsOk());
  EXPECT_EQ(Resolved(by_setter).transactional_id_prefix, "from-setter");

  // Harmless with other semantics: the property is simply not used.
  KafkaProducerSink<std::string> at_least_once("orders", SimpleStringSchema(), props);
  ASSERT_THAT(at_least_once.Validate(Checkpointing()), IsOk());
  EXPECT_EQ(Resolved(at_least_once).producer_properties.count("sluice.transactional.id.prefix"),
            0u);
}

TEST(KafkaProducerSinkSettingsTest, PropertiesPassThroughUnchanged) {
  Properties props = kProps;
  props["security.protocol"] = "SASL_PLAINTEXT";
  props["sasl.kerberos.service.name"] = "kafka";
  props["linger.ms"] = "7";
  KafkaProducerSink<std::string> sink("flink001", SimpleStringSchema(), props,
                                      kKafkaDefaultPartitioning);
  ASSERT_THAT(sink.Validate(Checkpointing()), IsOk());
  const auto& produced = Resolved(sink).producer_properties;
  EXPECT_EQ(produced.at("security.protocol"), "SASL_PLAINTEXT");
  EXPECT_EQ(produced.at("sasl.kerberos.service.name"), "kafka");
  EXPECT_EQ(produced.at("linger.ms"), "7");
}

TEST(KafkaProducerSinkSettingsTest, EveryConstructorShapeValidates) {
  KafkaProducerSink<std::string> custom("t", SimpleStringSchema(), kProps, AlwaysPartitionZero());
  KafkaProducerSink<std::string> kafka_own("t", SimpleStringSchema(), kProps, Semantic::kNone,
                                           kKafkaDefaultPartitioning);
  KafkaProducerSink<std::string> fixed("t", Uppercase(), kProps, Semantic::kNone,
                                       FixedPartitioner<std::string>());
  for (const auto* sink : {&custom, &kafka_own, &fixed})
    EXPECT_THAT(sink->Validate(Checkpointing()), IsOk());
  EXPECT_EQ(Resolved(custom).guarantee, DeliveryGuarantee::kAtLeastOnce);
  EXPECT_EQ(Resolved(kafka_own).guarantee, DeliveryGuarantee::kNone);
}

TEST(KafkaProducerSinkSettingsTest, BadTopicsAreRefusedWithTheFix) {
  EXPECT_NE(ValidateError(KafkaProducerSink<std::string>("", SimpleStringSchema(), kProps),
                          Checkpointing())
                .find("the topic is empty"),
            std::string::npos);
  std::string invalid = ValidateError(
      KafkaProducerSink<std::string>("my topic", SimpleStringSchema(), kProps), Checkpointing());
  EXPECT_NE(invalid.find("'my topic' is not a valid Kafka topic name"), std::string::npos)
      << invalid;
  EXPECT_NE(invalid.find("letters, digits"), std::string::npos) << invalid;
}

TEST(KafkaProducerSinkSettingsTest, BadPropertiesAreRefusedNamingThem) {
  std::string no_servers =
      ValidateError(KafkaProducerSink<std::string>("orders", SimpleStringSchema(), Properties{}),
                    NoCheckpointing());
  EXPECT_NE(no_servers.find("bootstrap.servers"), std::string::npos) << no_servers;
  EXPECT_NE(no_servers.find("orders"), std::string::npos) << no_servers;

  Properties typo = kProps;
  typo["linger.mss"] = "5";
  std::string unknown = ValidateError(
      KafkaProducerSink<std::string>("orders", SimpleStringSchema(), typo), Checkpointing());
  EXPECT_NE(unknown.find("linger.mss"), std::string::npos) << unknown;

  Properties bad_value = kProps;
  bad_value["acks"] = "some";
  std::string refused = ValidateError(
      KafkaProducerSink<std::string>("orders", SimpleStringSchema(), bad_value), Checkpointing());
  EXPECT_NE(refused.find("acks=some"), std::string::npos) << refused;

  Properties by_hand = kProps;
  by_hand["transactional.id"] = "mine";
  std::string transactional =
      ValidateError(KafkaProducerSink<std::string>("orders", SimpleStringSchema(), by_hand,
                                                   Semantic::kExactlyOnce),
                    Checkpointing());
  EXPECT_NE(transactional.find("transactional.id"), std::string::npos) << transactional;
}

TEST(KafkaProducerSinkSettingsTest, ExactlyOnceChecksTheTransactionTimeoutAgainstTheJob) {
  Properties props = kProps;
  props["transaction.timeout.ms"] = "30000";
  std::string message = ValidateError(
      KafkaProducerSink<std::string>("orders", SimpleStringSchema(), props, Semantic::kExactlyOnce),
      Checkpointing());
  EXPECT_NE(message.find("transaction.timeout.ms"), std::string::npos) << message;
  // Without checkpointing the sink is NONE, and the timeout does not matter.
  KafkaProducerSink<std::string> none("orders", SimpleStringSchema(), props,
                                      Semantic::kExactlyOnce);
  EXPECT_THAT(none.Validate(NoCheckpointing()), IsOk());
}

TEST(KafkaProducerSinkSettingsTest, LogFailuresOnlyWarnsOnceAndIsRefusedWithExactlyOnce) {
  KafkaProducerSink<std::string> sink("orders", SimpleStringSchema(), kProps);
  sink.SetLogFailuresOnly(true);
  int warnings =
      StderrCount("data can be lost", [&] { ASSERT_THAT(sink.Validate(Checkpointing()), IsOk()); });
  EXPECT_EQ(warnings, 1);
  EXPECT_TRUE(Resolved(sink).log_failures_only);

  KafkaProducerSink<std::string> exactly_once("orders", SimpleStringSchema(), kProps,
                                              Semantic::kExactlyOnce);
  exactly_once.SetLogFailuresOnly(true);
  std::string message = ValidateError(exactly_once, Checkpointing());
  EXPECT_NE(message.find("SetLogFailuresOnly(true)"), std::string::npos) << message;
  EXPECT_NE(message.find("EXACTLY_ONCE"), std::string::npos) << message;
}

TEST(KafkaProducerSinkSettingsTest, AWriterBeforeValidateIsAProgrammingError) {
  KafkaProducerSink<std::string> sink("orders", SimpleStringSchema(), kProps);
  EXPECT_THROW(sink.CreateWriter(TaskInfo{}), std::logic_error);
  ASSERT_THAT(sink.Validate(Checkpointing()), IsOk());
  KafkaProducerSink<std::string> copy = sink;
  EXPECT_EQ(copy.ResolvedSink(), nullptr) << "a copy is resolved by its own Validate";
}

TEST(KafkaProducerSinkSettingsTest, AddSinkTakesItLikeFlink) {
  auto env = StreamExecutionEnvironment::Create();
  KafkaProducerSink<std::string> sink("orders", SimpleStringSchema(), kProps);
  sink.SetWriteTimestampToKafka(true);
  env->FromElements(std::string("a")).AddSink(sink).Name("kafka").Uid("kafka-sink");
  SUCCEED();
}

}  // namespace
}  // namespace sluice::kafka
