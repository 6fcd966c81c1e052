// State descriptors: the name (unique per operator, the identity of the state across restarts)
// and the type of a piece of state. The type needs a sluice::TypeSerializer
// (sluice/state/type_serializer.h); a type without one does not compile.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>

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

}  // namespace sluice
