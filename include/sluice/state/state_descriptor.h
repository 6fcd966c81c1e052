// State descriptors: the name (unique per operator, the identity of the state across restarts)
// and the type of a piece of state. The type needs a sluice::TypeSerializer
// (sluice/state/type_serializer.h); a type without one does not compile.
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <sluice/state/aggregate_function.h>

#include <sluice/state/type_serializer.h>

namespace sluice {

template <typename T>
class ValueStateDescriptor {
  static_assert(HasTypeSerializer<T>, "ValueState<T> needs a sluice::TypeSerializer<T>");

 public:
  explicit ValueStateDescriptor(std::string name) : name_(std::move(name)) {}
  ValueStateDescriptor(std::string name, T default_value)
      : name_(std::move(name)), default_value_(std::move(default_value)) {}
  const std::string& name() const { return name_; }
  const std::optional<T>& default_value() const { return default_value_; }

 private:
  std::string name_;
  std::optional<T> default_value_;
};

template <typename T>
class ListStateDescriptor {
  static_assert(HasTypeSerializer<T>, "ListState<T> needs a sluice::TypeSerializer<T>");

 public:
  explicit ListStateDescriptor(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

template <typename UK, typename UV>
class MapStateDescriptor {
  static_assert(HasTypeSerializer<UK> && HasTypeSerializer<UV>,
                "MapState<UK, UV> needs a sluice::TypeSerializer for UK and for UV");

 public:
  explicit MapStateDescriptor(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

template <typename T>
class ReducingStateDescriptor {
  static_assert(HasTypeSerializer<T>, "ReducingState<T> needs a sluice::TypeSerializer<T>");

 public:
  using ReduceFunction = std::function<T(const T&, const T&)>;
  ReducingStateDescriptor(std::string name, ReduceFunction reduce)
      : name_(std::move(name)), reduce_(std::move(reduce)) {}
  const std::string& name() const { return name_; }
  const ReduceFunction& reduce() const { return reduce_; }

 private:
  std::string name_;
  ReduceFunction reduce_;
};

/// AggregatingState<In, Out> with accumulator Acc, stored per key (it needs the TypeSerializer).
/// The function is shared by the copies of the descriptor and called on the task thread only.
template <typename In, typename Acc, typename Out>
class AggregatingStateDescriptor {
  static_assert(HasTypeSerializer<Acc>,
                "AggregatingState needs a sluice::TypeSerializer for its accumulator type");

 public:
  using Function = AggregateFunction<In, Acc, Out>;
  /// Null `function`: std::invalid_argument.
  AggregatingStateDescriptor(std::string name, std::shared_ptr<Function> function)
      : name_(std::move(name)), function_(std::move(function)) {
    if (function_ == nullptr)
      throw std::invalid_argument("AggregatingStateDescriptor '" + name_ + "': null function");
  }
  /// As Flink: new AggregatingStateDescriptor<>("name", new MyAggregate(), ...).
  template <typename F>
    requires std::derived_from<F, Function>
  AggregatingStateDescriptor(std::string name, F function)
      : AggregatingStateDescriptor(std::move(name), std::make_shared<F>(std::move(function))) {}
  const std::string& name() const { return name_; }
  const std::shared_ptr<Function>& function() const { return function_; }

 private:
  std::string name_;
  std::shared_ptr<Function> function_;
};

}  // namespace sluice
