// EnsureChangelogTopics against the real broker: missing topics are created compacted with the
// partition count asked for; existing ones are validated (partition count, cleanup.policy);
// an unreachable broker or refused credentials fail within bounded time.
#include "connectors/kafka/changelog_topics.h"

#include <sluice/testing/status_matchers.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "changelog_it_support.h"
#include "kafka_test_env.h"

namespace sluice::kafka::internal {
namespace {

using ::sluice::testing::BootstrapServers;
using ::sluice::testing::DescribeTopic;
using ::sluice::testing::IsOk;
using ::sluice::testing::SaslBootstrapServers;
using ::sluice::testing::Scaled;
using ::sluice::testing::ScopedTopic;
using ::sluice::testing::StatusIs;
using ::sluice::testing::TopicDeleter;
using ::sluice::testing::UniqueName;
using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::map<std::string, std::string> Plain() { return {{"bootstrap.servers", BootstrapServers()}}; }

ChangelogTopicOptions Options(milliseconds timeout = Scaled(milliseconds(30'000))) {
  ChangelogTopicOptions options;
  options.timeout = timeout;
  return options;
}

TEST(ChangelogTopicsIT, CreatesMissingTopicsCompactedWithTheirPartitionCounts) {
  const std::string keyed = UniqueName("changelog-keyed");
  const std::string plain = UniqueName("changelog-operator");
  TopicDeleter delete_keyed(keyed);
  TopicDeleter delete_plain(plain);

  ASSERT_THAT(EnsureChangelogTopics(Plain(), {{keyed, 12}, {plain, 1}}, Options()), IsOk());

  const ::sluice::testing::TopicFacts keyed_facts = DescribeTopic(keyed);
  EXPECT_EQ(keyed_facts.partitions, 12);
  EXPECT_EQ(keyed_facts.cleanup_policy, "compact");
  const ::sluice::testing::TopicFacts plain_facts = DescribeTopic(plain);
  EXPECT_EQ(plain_facts.partitions, 1);
  EXPECT_EQ(plain_facts.cleanup_policy, "compact");

  // A second start finds them right and leaves them alone.
  EXPECT_THAT(EnsureChangelogTopics(Plain(), {{keyed, 12}, {plain, 1}}, Options()), IsOk());
}

TEST(ChangelogTopicsIT, CreatedTopicsGetTheChangelogConfigs) {
  const std::string name = UniqueName("changelog-configs");
  TopicDeleter delete_topic(name);
  ChangelogTopicOptions options = Options();
  options.configs = ChangelogTopicConfigs({{"sluice.changelog.topic.segment.ms", "600000"}});
  ASSERT_THAT(EnsureChangelogTopics(Plain(), {{name, 2}}, options), IsOk());
  const ::sluice::testing::TopicFacts facts = DescribeTopic(name);
  EXPECT_EQ(facts.cleanup_policy, "compact");
  EXPECT_EQ(facts.configs.at("segment.ms"), "600000");
  EXPECT_EQ(facts.configs.at("segment.bytes"), "67108864");
}

TEST(ChangelogTopicsIT, CreatesOnlyWhatIsMissingInABatch) {
  ScopedTopic existing("changelog-existing", 4, {{"cleanup.policy", "compact"}});
  const std::string missing = UniqueName("changelog-missing");
  TopicDeleter delete_missing(missing);

  ASSERT_THAT(EnsureChangelogTopics(Plain(), {{existing.name(), 4}, {missing, 3}}, Options()),
              IsOk());
  EXPECT_EQ(DescribeTopic(missing).partitions, 3);
  EXPECT_EQ(DescribeTopic(existing.name()).partitions, 4);
}

TEST(ChangelogTopicsIT, WorksOnTheCallersClientHandle) {
  const std::string name = UniqueName("changelog-handle");
  TopicDeleter delete_topic(name);
  ::sluice::testing::KafkaPtr producer =
      ::sluice::testing::NewClient(RD_KAFKA_PRODUCER, {{"allow.auto.create.topics", "true"}});

  ASSERT_THAT(EnsureChangelogTopics(producer.get(), {{name, 5}}, Options()), IsOk());
  EXPECT_EQ(DescribeTopic(name).partitions, 5);
  EXPECT_THAT(EnsureChangelogTopics(producer.get(), {{name, 5}}, Options()), IsOk());
  EXPECT_THAT(EnsureChangelogTopics(producer.get(), {{name, 6}}, Options()),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr(name)));
}

TEST(ChangelogTopicsIT, RefusesAnExistingTopicWithAnotherPartitionCount) {
  ScopedTopic topic("changelog-wrong-count", 3, {{"cleanup.policy", "compact"}});

  Status status = EnsureChangelogTopics(Plain(), {{topic.name(), 8}}, Options());

  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition,
                               AllOf(HasSubstr("'" + topic.name() + "' has 3 partitions"),
                                     HasSubstr("needs 8"), HasSubstr("max parallelism"),
                                     HasSubstr("--delete --topic " + topic.name()))));
  EXPECT_FALSE(IsRestartable(status));
  EXPECT_EQ(DescribeTopic(topic.name()).partitions, 3) << "an existing topic is never altered";
}

TEST(ChangelogTopicsIT, RefusesAnExistingTopicThatDoesNotCompact) {
  ScopedTopic topic("changelog-delete-only", 2, {{"cleanup.policy", "delete"}});

  Status status = EnsureChangelogTopics(Plain(), {{topic.name(), 2}}, Options());

  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition,
                               AllOf(HasSubstr("'" + topic.name() + "' has cleanup.policy=delete"),
                                     HasSubstr("kafka-configs.sh"),
                                     HasSubstr("--entity-name " + topic.name()),
                                     HasSubstr("--add-config cleanup.policy=compact"))));
  EXPECT_EQ(DescribeTopic(topic.name()).cleanup_policy, "delete");
}

TEST(ChangelogTopicsIT, AcceptsCompactAndDelete) {
  ScopedTopic topic("changelog-compact-delete", 2, {{"cleanup.policy", "compact,delete"}});
  EXPECT_THAT(EnsureChangelogTopics(Plain(), {{topic.name(), 2}}, Options()), IsOk());
}

TEST(ChangelogTopicsIT, ConcurrentCreatorsBothSucceed) {
  // Two instances starting at once: whichever loses the race gets TOPIC_ALREADY_EXISTS (or
  // finds the topic at its first look) and must accept the topic the other created.
  const std::string name = UniqueName("changelog-race");
  TopicDeleter delete_topic(name);
  Status first;
  Status second;
  std::thread other([&] { second = EnsureChangelogTopics(Plain(), {{name, 6}}, Options()); });
  first = EnsureChangelogTopics(Plain(), {{name, 6}}, Options());
  other.join();

  EXPECT_THAT(first, IsOk());
  EXPECT_THAT(second, IsOk());
  EXPECT_EQ(DescribeTopic(name).partitions, 6);
}

TEST(ChangelogTopicsIT, PassesExtraConfigsToCreatedTopics) {
  const std::string name = UniqueName("changelog-configs");
  TopicDeleter delete_topic(name);
  ChangelogTopicOptions options = Options();
  options.replication_factor = 1;
  options.configs = {{"segment.ms", "3600000"}, {"cleanup.policy", "delete"}};

  ASSERT_THAT(EnsureChangelogTopics(Plain(), {{name, 2}}, options), IsOk());
  EXPECT_EQ(DescribeTopic(name).cleanup_policy, "compact") << "the policy is not overridable";
}

TEST(ChangelogTopicsIT, RefusesBadSpecs) {
  EXPECT_THAT(EnsureChangelogTopics(Plain(), {{"x", 0}}, Options()),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(EnsureChangelogTopics(Plain(), {{"x", 1}, {"x", 1}}, Options()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("twice")));
  EXPECT_THAT(EnsureChangelogTopics(Plain(), {}, Options()), IsOk());
}

TEST(ChangelogTopicsIT, UnreachableBrokerIsUnavailableWithinTheTimeout) {
  // Nothing listens on port 1 of the loopback interface.
  const std::string nowhere = "127.0.0.1:1";
  const milliseconds timeout(2'000);
  const auto start = std::chrono::steady_clock::now();

  Status owned = EnsureChangelogTopics({{"bootstrap.servers", nowhere}},
                                       {{UniqueName("changelog-nowhere"), 2}}, Options(timeout));

  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_THAT(owned,
              StatusIs(StatusCode::kUnavailable, AllOf(HasSubstr("bootstrap.servers=" + nowhere),
                                                       HasSubstr("sluice.broker.timeout.ms"))));
  EXPECT_LT(took, timeout + Scaled(milliseconds(5'000)));

  ::sluice::testing::KafkaPtr client =
      ::sluice::testing::NewClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", nowhere}});
  // NewClient's bootstrap.servers default does not override the one given.
  EXPECT_THAT(
      EnsureChangelogTopics(client.get(), {{UniqueName("changelog-nowhere"), 2}}, Options(timeout)),
      StatusIs(StatusCode::kUnavailable, HasSubstr("bootstrap.servers=" + nowhere)));
}

TEST(ChangelogTopicsIT, RefusedCredentialsFailAtOnce) {
  const milliseconds timeout = Scaled(milliseconds(30'000));
  const auto start = std::chrono::steady_clock::now();

  Status status = EnsureChangelogTopics({{"bootstrap.servers", SaslBootstrapServers()},
                                         {"security.protocol", "SASL_PLAINTEXT"},
                                         {"sasl.mechanism", "PLAIN"},
                                         {"sasl.username", "alice"},
                                         {"sasl.password", "not-the-password"}},
                                        {{UniqueName("changelog-refused"), 2}}, Options(timeout));

  EXPECT_THAT(status, StatusIs(StatusCode::kUnauthenticated, HasSubstr("sasl.password")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, timeout / 2)
      << "a refused login must not wait for the timeout";
}

TEST(ChangelogTopicsIT, WorksOverSasl) {
  const std::string name = UniqueName("changelog-sasl");
  TopicDeleter delete_topic(name);
  EXPECT_THAT(EnsureChangelogTopics({{"bootstrap.servers", SaslBootstrapServers()},
                                     {"security.protocol", "SASL_PLAINTEXT"},
                                     {"sasl.mechanism", "PLAIN"},
                                     {"sasl.username", "alice"},
                                     {"sasl.password", "alice-secret"}},
                                    {{name, 2}}, Options()),
              IsOk());
  EXPECT_EQ(DescribeTopic(name).partitions, 2);
}

}  // namespace
}  // namespace sluice::kafka::internal
