// The source behind StreamExecutionEnvironment::FromCollection / FromElements: emits the
// elements in order, from one instance. Its checkpointed state is the number of elements
// already emitted, so a restored job neither repeats nor skips one.
//
// Threads: the reader runs on its task thread. Ownership: the elements are shared, read-only,
// by every reader of the source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <sluice/api/runtime_context.h>
#include <sluice/api/source.h>
#include <sluice/api/strong_id.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>

namespace sluice::detail {

/// FromCollection: emits the elements in order; the checkpointed state is how many were emitted.
template <typename T>
class CollectionSource final : public Source<T> {
 public:
  explicit CollectionSource(std::vector<T> elements)
      : elements_(std::make_shared<const std::vector<T>>(std::move(elements))) {}
  bool IsBounded() const override { return true; }
  std::unique_ptr<SourceReader<T>> CreateReader(const TaskInfo&) const override {
    return std::make_unique<Reader>(elements_);
  }

 private:
  class Reader final : public SourceReader<T> {
   public:
    explicit Reader(std::shared_ptr<const std::vector<T>> elements)
        : elements_(std::move(elements)) {}
    void Open(SourceReaderContext& ctx) override {
      state_ =
          &ctx.GetRuntimeContext().GetOperatorListState(ListStateDescriptor<int64_t>("emitted"));
      for (int64_t n : state_->Get()) next_ += static_cast<size_t>(n);
    }
    InputStatus PollNext(ReaderOutput<T>& output) override {
      for (int i = 0; i < 1024 && next_ < elements_->size(); ++i)
        output.Collect((*elements_)[next_++]);
      return next_ < elements_->size() ? InputStatus::kMoreAvailable : InputStatus::kEndOfInput;
    }
    void SnapshotState(CheckpointId) override { state_->Update({static_cast<int64_t>(next_)}); }

   private:
    std::shared_ptr<const std::vector<T>> elements_;
    ListState<int64_t>* state_ = nullptr;
    size_t next_ = 0;
  };

  std::shared_ptr<const std::vector<T>> elements_;
};

}  // namespace sluice::detail
