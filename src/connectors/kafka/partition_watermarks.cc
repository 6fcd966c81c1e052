#include "connectors/kafka/partition_watermarks.h"

#include <algorithm>

namespace sluice::kafka::internal {

PartitionWatermarks::PartitionWatermarks(GeneratorFactory factory, int64_t idle_timeout_ms,
                                         std::function<int64_t()> clock)
    : factory_(std::move(factory)), idle_timeout_ms_(idle_timeout_ms), clock_(std::move(clock)) {}

size_t PartitionWatermarks::AddPartition() {
  auto slot = std::make_unique<Slot>();
  if (factory_) slot->generator = factory_();
  // The idle clock starts at assignment: a partition that never brings data stops holding
  // the watermark back after the timeout, like one that went quiet.
  slot->last_record_ms = clock_();
  slots_.push_back(std::move(slot));
  return slots_.size() - 1;
}

void PartitionWatermarks::FinishPartition(size_t slot) { slots_[slot]->finished = true; }

void PartitionWatermarks::OnRecord(size_t index) {
  Slot& slot = *slots_[index];
  slot.timed_out = false;
  // No clock read per record (it cost 5% of the read path): the next periodic emission stamps it.
  slot.record_since_emit = true;
}

void PartitionWatermarks::OnEvent(size_t index, int64_t timestamp) {
  Slot& slot = *slots_[index];
  if (slot.generator != nullptr) slot.generator->OnEvent(timestamp, slot);
}

void PartitionWatermarks::OnPeriodicEmit(WatermarkOutput& output) {
  int64_t now = clock_();
  bool any_active = false;
  int64_t merged = kMaxWatermark;
  for (auto& slot : slots_) {
    if (slot->finished) continue;
    if (slot->generator != nullptr) slot->generator->OnPeriodicEmit(*slot);
    if (slot->record_since_emit) {
      slot->last_record_ms = now;
      slot->record_since_emit = false;
    }
    if (idle_timeout_ms_ > 0 && now - slot->last_record_ms >= idle_timeout_ms_)
      slot->timed_out = true;
    if (!slot->Active()) continue;
    any_active = true;
    merged = std::min(merged, slot->watermark);
  }
  if (!any_active) {
    output.MarkIdle();
    return;
  }
  output.MarkActive();
  if (merged > emitted_) {
    emitted_ = merged;
    output.EmitWatermark(merged);
  }
}

}  // namespace sluice::kafka::internal
