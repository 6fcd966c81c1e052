// Which subtask of a Kafka source reads a partition: Flink's KafkaTopicPartitionAssigner
// formula, shared by its legacy FlinkKafkaConsumer and its KafkaSource enumerator, so that a
// sluice source spreads partitions over its subtasks as a Flink source of the same
// parallelism does.
//
// Thread safety: a pure function; call it from any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::internal {

/// The subtask in [0, parallelism) that owns `partition` of `topic`:
///
///   start   = ((JavaStringHashCode(topic) * 31) & 0x7FFFFFFF) % parallelism
///   subtask = (start + partition) % parallelism
///
/// with Java int arithmetic (wrap-around, remainder truncated towards zero). The topic's
/// start index spreads the first partitions of different topics over different subtasks; the
/// partitions of one topic then go round-robin from there. Partitions discovered later land
/// on the subtask the same formula picks, so no other subtask needs to be told.
///
/// Preconditions: parallelism >= 1 (asserted in debug builds) and partition >= 0. As in
/// Flink, a partition so large that start + partition overflows (within parallelism of
/// INT32_MAX; Kafka never creates such partitions) yields a negative result.
int32_t AssignPartitionToSubtask(std::string_view topic, int32_t partition, int32_t parallelism);

}  // namespace sluice::internal
