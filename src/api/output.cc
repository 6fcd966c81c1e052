// The out-of-line part of side outputs (include/sluice/detail/output.h).
#include <sluice/detail/output.h>

#include <stdexcept>

namespace sluice::detail {

void SideOutputs::ThrowTypeMismatch(const std::string& id) {
  throw std::logic_error("side output '" + id +
                         "' is emitted with another element type than the stream that reads it "
                         "(GetSideOutput) has; use one OutputTag type per id");
}

}  // namespace sluice::detail
