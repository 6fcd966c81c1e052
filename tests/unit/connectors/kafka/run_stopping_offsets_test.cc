#include "connectors/kafka/run_stopping_offsets.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <vector>

namespace sluice::kafka::detail {
namespace {

using Offsets = std::map<TopicPartition, int64_t>;

// A broker whose end offsets the test moves; it counts the lookups.
struct FakeEnds {
  Offsets ends;
  int lookups = 0;
  RunStoppingOffsets::Resolver Resolver() {
    return [this](const std::vector<TopicPartition>& partitions) {
      ++lookups;
      Offsets out;
      for (const TopicPartition& tp : partitions) out[tp] = ends.at(tp);
      return out;
    };
  }
};

const TopicPartition kP0{"t", 0};
const TopicPartition kP1{"t", 1};

TEST(RunStoppingOffsetsTest, OneRunResolvesEachPartitionOnceAndKeepsItAcrossAttempts) {
  RunStoppingOffsets run;
  FakeEnds broker{{{kP0, 20}, {kP1, 20}}};
  EXPECT_EQ(run.Get(7, {kP0}, broker.Resolver()), (Offsets{{kP0, 20}}));
  broker.ends = {{kP0, 50}, {kP1, 50}};  // records arrive after the start
  // A failover (another reader, other partitions): the known one keeps its end.
  EXPECT_EQ(run.Get(7, {kP0, kP1}, broker.Resolver()), (Offsets{{kP0, 20}, {kP1, 50}}));
  EXPECT_EQ(run.Get(7, {kP0, kP1}, broker.Resolver()), (Offsets{{kP0, 20}, {kP1, 50}}));
  EXPECT_EQ(broker.lookups, 2);
}

TEST(RunStoppingOffsetsTest, ANewRunResolvesItsOwnEndOffsets) {
  RunStoppingOffsets run;
  FakeEnds broker{{{kP0, 20}}};
  EXPECT_EQ(run.Get(7, {kP0}, broker.Resolver()), (Offsets{{kP0, 20}}));
  broker.ends = {{kP0, 50}};
  EXPECT_EQ(run.Get(8, {kP0}, broker.Resolver()), (Offsets{{kP0, 50}}));
}

TEST(RunStoppingOffsetsTest, AFailedLookupRemembersNothing) {
  RunStoppingOffsets run;
  FakeEnds broker{{{kP0, 20}}};
  EXPECT_THROW(run.Get(7, {kP0},
                       [](const std::vector<TopicPartition>&) -> Offsets {
                         throw std::runtime_error("broker down");
                       }),
               std::runtime_error);
  EXPECT_EQ(run.Get(7, {kP0}, broker.Resolver()), (Offsets{{kP0, 20}}));
  EXPECT_EQ(broker.lookups, 1);
}

}  // namespace
}  // namespace sluice::kafka::detail
