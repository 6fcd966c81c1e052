// TypeSerializer<T>: how a value of type T is written into, and read back from, checkpointed
// state. It is the one place to teach sluice a new type.
//
// A specialisation provides:
//   static constexpr std::uint32_t kVersion;
//       0: the format never changes and no version is written.
//       >= 1: SerializeValue writes kVersion as a varint before each value, and
//       DeserializeValue hands the version it finds to Deserialize, so a type can change its
//       format and still read every older one. Pick >= 1 from the start for anything that may
//       change: going from 0 to 1 later cannot work, because bytes written under 0 carry no
//       version to tell them apart.
//   static void Serialize(const T& value, DataOutput& out);
//   static T Deserialize(DataInput& in, std::uint32_t version);
//       `version` is 0 for kVersion 0, else between 1 and kVersion (checked before the call).
//   static std::string TypeName();   (optional for user types)
//       A stable name written into snapshot metadata, so restoring state whose declared type
//       changed (map<string,int64> -> map<string,int32>) fails with both names instead of
//       reading garbage. Without it, TypeNameOf<T>() uses the demangled C++ name of T, e.g.
//       "app::Position": stable for GCC and Clang as long as the type keeps its name and
//       namespace. Define TypeName to keep restoring old snapshots across a rename. The name
//       deliberately does not include kVersion: a version bump is a compatible change, and
//       old snapshots of the type must still be accepted.
//
// Specialising for a user type: in namespace sluice, after the type's definition and before
// anything asks for its serializer (HasTypeSerializer is cached per type, as any concept):
//
//   namespace app {
//   struct Position {
//     std::string symbol;
//     std::int64_t quantity = 0;
//     std::int64_t average_price_micros = 0;  // added in format version 2
//   };
//   }  // namespace app
//
//   namespace sluice {
//   template <>
//   struct TypeSerializer<app::Position> {
//     // 1: symbol, quantity.  2: symbol, quantity, average_price_micros.
//     static constexpr std::uint32_t kVersion = 2;
//     static std::string TypeName() { return "app.Position"; }
//     static void Serialize(const app::Position& p, DataOutput& out) {
//       out.WriteString(p.symbol);
//       out.WriteVarI64(p.quantity);
//       out.WriteVarI64(p.average_price_micros);
//     }
//     static app::Position Deserialize(DataInput& in, std::uint32_t version) {
//       app::Position p;
//       p.symbol = in.ReadString();
//       p.quantity = in.ReadVarI64();
//       if (version >= 2) p.average_price_micros = in.ReadVarI64();  // version 1: stays 0
//       return p;
//     }
//   };
//   }  // namespace sluice
//
// Fields that are themselves serializable types (a std::vector<Order>, another user struct)
// are written with SerializeValue(field, out) and read with DeserializeValue<Field>(in), so
// each keeps its own version.
//
// Built-in formats (all kVersion 0, so these bytes are fixed forever; the exact-byte tests in
// tests/unit/state/type_serializer_test.cc pin them). Integers are chosen by width and
// signedness, not by name: long and long long are both "int64" on LP64.
//
//   C++ type                            TypeName                  bytes
//   bool                                bool                      1 byte, 0 or 1 (else rejected)
//   char, char8_t, std::byte            char, char8, byte         1 byte
//   signed char, unsigned char          int8, uint8               1 byte
//   16-bit ints, char16_t               int16, uint16, char16     2 bytes, little-endian
//   32/64-bit unsigned ints, char32_t   uint32, uint64, char32    LEB128 varint
//   32/64-bit signed ints               int32, int64              zigzag, then LEB128 varint
//   float, double                       float, double             IEEE-754 bits, 4/8 bytes LE
//   std::string                         string                    varint length, bytes
//   sluice::Bytes                       bytes                     varint length, bytes
//   enum E with underlying type U       enum<U>                   as U
//   std::vector<T>                      vector<T>                 varint count, count values
//   std::set<T>, std::unordered_set<T>  set<T>, unordered_set<T>  varint count, count values
//   std::map<K,V>, unordered_map<K,V>   map<K,V>, unordered_map.. varint count, count x (K, V)
//   std::pair<A,B>                      pair<A,B>                 A, B
//   std::tuple<Ts...>                   tuple<Ts...>              each element in order
//   std::optional<T>                    optional<T>               bool present, then T if so
//   std::array<T,N>                     array<T,N>                N values, no count
//
// "value" means written by SerializeValue: a nested type with kVersion >= 1 carries its
// version varint in front of every element (one byte each for versions below 128).
// 32/64-bit integers are varints because state is mostly counters, ids and small sums:
// most take 1-3 bytes instead of 4 or 8, at worst 5 or 10; zigzag keeps small negative
// numbers as short as small positive ones. 8/16-bit values gain nothing from a varint.
// Unordered containers are written in iteration order, so two equal maps may give different
// bytes: compare decoded values, never snapshot bytes.
// Deliberately unsupported (HasTypeSerializer is false): wchar_t and long double, whose width
// differs between platforms so their bytes would not move between machines; pointers;
// std::string_view (it cannot own what it would read back).
//
// Thread safety: serializers are stateless and their functions may be called from any thread
// (user specialisations should keep it so). The DataOutput/DataInput passed in is not shared.
// Errors: Deserialize throws SerializationError for truncated or corrupt input, a duplicate
// key in a map or set, and a version newer than kVersion; Serialize throws only what
// allocation throws.
#pragma once

#include <sluice/state/data_io.h>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace sluice {

/// Opaque bytes in state. An alias, not a wrapper struct: std::byte already tells raw bytes
/// apart from text (std::string) and from small numbers (std::vector<std::uint8_t>), and a
/// plain std::vector works with std::span, std::as_bytes and every container algorithm
/// without conversions. Written like a string (varint length, bytes), in one copy.
using Bytes = std::vector<std::byte>;

namespace detail {
// Instantiated only when a type without a serializer is used; the text is the diagnostic.
template <typename T>
constexpr std::uint32_t NoTypeSerializer() {
  static_assert(!std::is_same_v<T, T>,
                "sluice: no TypeSerializer for this type; specialise sluice::TypeSerializer<T> "
                "(see sluice/state/type_serializer.h). For a container, pair, tuple or "
                "optional, it is an element type that has none.");
  return 0;
}
}  // namespace detail

/// The specialisation point: see the top of this file. The primary template is what a type
/// without a serializer gets; any use of it fails to compile with the message above.
template <typename T, typename Enable = void>
struct TypeSerializer {
  // Marks "no specialisation": HasTypeSerializer<T> is false exactly when this is present.
  // The members below are instantiated only when used, so asking HasTypeSerializer about an
  // unsupported type compiles; only using its serializer fails.
  using SluiceUnspecialisedTag = void;

  static constexpr std::uint32_t kVersion = detail::NoTypeSerializer<T>();
  template <typename U = T>
  static void Serialize(const U&, DataOutput&) {
    detail::NoTypeSerializer<U>();
  }
  template <typename U = T>
  static U Deserialize(DataInput&, std::uint32_t) {
    detail::NoTypeSerializer<U>();
    std::abort();
  }
  template <typename U = T>
  static std::string TypeName() {
    detail::NoTypeSerializer<U>();
    std::abort();
  }
};

/// True when T has a complete TypeSerializer: kVersion as a constant expression, Serialize and
/// Deserialize with the signatures above. For containers, true iff their elements have one.
template <typename T>
concept HasTypeSerializer = !requires {
  typename TypeSerializer<T>::SluiceUnspecialisedTag;
} && requires(const T& value, DataOutput& out, DataInput& in, std::uint32_t version) {
  typename std::integral_constant<std::uint32_t, TypeSerializer<T>::kVersion>;
  TypeSerializer<T>::Serialize(value, out);
  { TypeSerializer<T>::Deserialize(in, version) } -> std::same_as<T>;
};

namespace detail {

// Turns "cannot serialize T" into one readable static_assert instead of a cascade of errors.
// Returns whether the caller may go on.
template <typename T>
consteval bool CheckTypeSerializer() {
  if constexpr (requires { typename TypeSerializer<T>::SluiceUnspecialisedTag; }) {
    NoTypeSerializer<T>();
    return false;
  } else {
    static_assert(HasTypeSerializer<T>,
                  "sluice: TypeSerializer<T> is specialised but incomplete: it needs "
                  "static constexpr std::uint32_t kVersion, static void Serialize(const T&, "
                  "DataOutput&) and static T Deserialize(DataInput&, std::uint32_t) "
                  "(see sluice/state/type_serializer.h)");
    return HasTypeSerializer<T>;
  }
}

/// The readable form of a name from typeid(T).name(), or the name itself when the platform
/// has no demangler. Out of line so that no header includes <cxxabi.h>.
std::string Demangle(const char* mangled);

template <typename T>
std::string DemangledName() {
#if defined(__cpp_rtti) || defined(__GXX_RTTI)
  return Demangle(typeid(T).name());
#else
  // Without RTTI there is no name to take; such types should define TypeName().
  return "user";
#endif
}

}  // namespace detail

/// The TypeName of T (see the top of this file), or its demangled C++ name when the
/// specialisation defines none.
template <typename T>
std::string TypeNameOf() {
  if constexpr (detail::CheckTypeSerializer<T>()) {
    if constexpr (requires {
                    { TypeSerializer<T>::TypeName() } -> std::convertible_to<std::string>;
                  }) {
      return TypeSerializer<T>::TypeName();
    } else {
      return detail::DemangledName<T>();
    }
  } else {
    return {};
  }
}

/// Writes one value: its version varint if TypeSerializer<T>::kVersion != 0, then the value.
/// Use it for state values and for every nested value inside a serializer.
template <typename T>
void SerializeValue(const T& value, DataOutput& out) {
  if constexpr (detail::CheckTypeSerializer<T>()) {
    using Serializer = TypeSerializer<T>;
    constexpr auto kVersion = static_cast<std::uint32_t>(Serializer::kVersion);
    if constexpr (kVersion != 0) out.WriteVarU32(kVersion);
    Serializer::Serialize(value, out);
  }
}

namespace detail {
[[noreturn]] inline void ThrowUnsupportedVersion(std::string_view type_name, std::size_t offset,
                                                 std::uint32_t found, std::uint32_t newest) {
  const std::string problem =
      found == 0
          ? "format version 0 is never written for a versioned type (corrupt input, or "
            "the type was written with kVersion 0)"
          : "format version " + std::to_string(found) + " is newer than this program reads (1 to " +
                std::to_string(newest) + "); was it written by a newer release?";
  ThrowSerializationError(type_name, offset, problem);
}
}  // namespace detail

/// Reads one value written by SerializeValue<T>. Throws SerializationError on truncated or
/// corrupt input and when the version found is newer than TypeSerializer<T>::kVersion (the
/// message names the type). After a throw the input's position is unspecified: drop it.
template <typename T>
T DeserializeValue(DataInput& in) {
  if constexpr (detail::CheckTypeSerializer<T>()) {
    using Serializer = TypeSerializer<T>;
    constexpr auto kVersion = static_cast<std::uint32_t>(Serializer::kVersion);
    if constexpr (kVersion == 0) {
      return Serializer::Deserialize(in, 0);
    } else {
      const std::size_t offset = in.position();
      const std::uint32_t version = in.ReadVarU32();
      if (version == 0 || version > kVersion) [[unlikely]] {
        detail::ThrowUnsupportedVersion(TypeNameOf<T>(), offset, version, kVersion);
      }
      return Serializer::Deserialize(in, version);
    }
  }
}

// ---- built-in specialisations ----

namespace detail {

// wchar_t and 128-bit integers are integral too but have no portable width; see the top.
template <typename T>
inline constexpr bool kIsPortableInteger = std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                           !std::is_same_v<T, wchar_t> && sizeof(T) <= 8;

// How much to reserve for `count` decoded elements. An element takes at least one byte unless
// its type is empty (tuple<>, array<T,0>), so capping at the bytes left keeps a corrupt count
// from reserving more than the input could hold; the loop then fails on truncation.
inline std::size_t ReserveHint(std::uint64_t count, const DataInput& in) {
  return count < in.remaining() ? static_cast<std::size_t>(count) : in.remaining();
}

template <typename... Ts>
std::string JoinTypeNames() {
  std::string joined;
  ((joined += TypeNameOf<Ts>(), joined += ','), ...);
  if (!joined.empty()) joined.pop_back();
  return joined;
}

// Shared by set and unordered_set: count, then the elements. TypeNameFn is the name of the
// specialisation deriving from this, asked for only to word an error.
template <typename Set, std::string (*TypeNameFn)()>
struct SetSerializer {
  using Element = typename Set::value_type;
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const Set& value, DataOutput& out) {
    out.WriteVarU64(value.size());
    for (const Element& element : value) SerializeValue(element, out);
  }
  static Set Deserialize(DataInput& in, std::uint32_t) {
    const std::uint64_t count = in.ReadVarU64();
    Set result;
    if constexpr (requires { result.reserve(std::size_t{}); }) {
      result.reserve(ReserveHint(count, in));
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::size_t offset = in.position();
      // Sorted input (std::set) makes the end() hint exact; unordered sets ignore it.
      const std::size_t size_before = result.size();
      result.emplace_hint(result.end(), DeserializeValue<Element>(in));
      if (result.size() == size_before) [[unlikely]] {
        ThrowSerializationError(TypeNameFn(), offset, "duplicate element (corrupt input)");
      }
    }
    return result;
  }
};

// Shared by map and unordered_map: count, then key and value per entry. TypeNameFn as above.
template <typename Map, std::string (*TypeNameFn)()>
struct MapSerializer {
  using Key = typename Map::key_type;
  using Mapped = typename Map::mapped_type;
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const Map& value, DataOutput& out) {
    out.WriteVarU64(value.size());
    for (const auto& [key, mapped] : value) {
      SerializeValue(key, out);
      SerializeValue(mapped, out);
    }
  }
  static Map Deserialize(DataInput& in, std::uint32_t) {
    const std::uint64_t count = in.ReadVarU64();
    Map result;
    if constexpr (requires { result.reserve(std::size_t{}); }) {
      result.reserve(ReserveHint(count, in));
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::size_t offset = in.position();
      Key key = DeserializeValue<Key>(in);
      Mapped mapped = DeserializeValue<Mapped>(in);
      const std::size_t size_before = result.size();
      result.emplace_hint(result.end(), std::move(key), std::move(mapped));
      if (result.size() == size_before) [[unlikely]] {
        ThrowSerializationError(TypeNameFn(), offset, "duplicate key (corrupt input)");
      }
    }
    return result;
  }
};

}  // namespace detail

template <>
struct TypeSerializer<bool> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const bool& value, DataOutput& out) { out.WriteBool(value); }
  static bool Deserialize(DataInput& in, std::uint32_t) { return in.ReadBool(); }
  static std::string TypeName() { return "bool"; }
};

template <typename T>
  requires detail::kIsPortableInteger<T>
struct TypeSerializer<T> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const T& value, DataOutput& out) {
    if constexpr (sizeof(T) == 1) {
      out.WriteU8(static_cast<std::uint8_t>(value));
    } else if constexpr (sizeof(T) == 2) {
      out.WriteU16(static_cast<std::uint16_t>(value));
    } else if constexpr (std::is_signed_v<T>) {
      out.WriteVarI64(static_cast<std::int64_t>(value));
    } else {
      out.WriteVarU64(static_cast<std::uint64_t>(value));
    }
  }
  static T Deserialize(DataInput& in, std::uint32_t) {
    if constexpr (sizeof(T) == 1) {
      return static_cast<T>(in.ReadU8());
    } else if constexpr (sizeof(T) == 2) {
      return static_cast<T>(in.ReadU16());
    } else if constexpr (sizeof(T) == 4) {
      // The 32-bit readers reject values written by a wider type.
      if constexpr (std::is_signed_v<T>)
        return static_cast<T>(in.ReadVarI32());
      else
        return static_cast<T>(in.ReadVarU32());
    } else {
      if constexpr (std::is_signed_v<T>)
        return static_cast<T>(in.ReadVarI64());
      else
        return static_cast<T>(in.ReadVarU64());
    }
  }
  static std::string TypeName() {
    if constexpr (std::is_same_v<T, char>)
      return "char";
    else if constexpr (std::is_same_v<T, char8_t>)
      return "char8";
    else if constexpr (std::is_same_v<T, char16_t>)
      return "char16";
    else if constexpr (std::is_same_v<T, char32_t>)
      return "char32";
    else
      return (std::is_signed_v<T> ? "int" : "uint") + std::to_string(sizeof(T) * 8);
  }
};

template <>
struct TypeSerializer<float> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const float& value, DataOutput& out) { out.WriteFloat(value); }
  static float Deserialize(DataInput& in, std::uint32_t) { return in.ReadFloat(); }
  static std::string TypeName() { return "float"; }
};

template <>
struct TypeSerializer<double> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const double& value, DataOutput& out) { out.WriteDouble(value); }
  static double Deserialize(DataInput& in, std::uint32_t) { return in.ReadDouble(); }
  static std::string TypeName() { return "double"; }
};

template <>
struct TypeSerializer<std::string> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const std::string& value, DataOutput& out) { out.WriteString(value); }
  static std::string Deserialize(DataInput& in, std::uint32_t) { return in.ReadString(); }
  static std::string TypeName() { return "string"; }
};

template <typename E>
  requires std::is_enum_v<E> && HasTypeSerializer<std::underlying_type_t<E>>
struct TypeSerializer<E> {
  using Underlying = std::underlying_type_t<E>;
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const E& value, DataOutput& out) {
    TypeSerializer<Underlying>::Serialize(static_cast<Underlying>(value), out);
  }
  // Any value of the underlying type is accepted: C++ allows enums to hold values without a
  // name, and only the user's own serializer could know which ones are invalid.
  static E Deserialize(DataInput& in, std::uint32_t) {
    return static_cast<E>(TypeSerializer<Underlying>::Deserialize(in, 0));
  }
  static std::string TypeName() { return "enum<" + TypeNameOf<Underlying>() + ">"; }
};

// std::byte is an enum; without this it would be "enum<uint8>", same bytes.
template <>
struct TypeSerializer<std::byte> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const std::byte& value, DataOutput& out) {
    out.WriteU8(static_cast<std::uint8_t>(value));
  }
  static std::byte Deserialize(DataInput& in, std::uint32_t) { return std::byte{in.ReadU8()}; }
  static std::string TypeName() { return "byte"; }
};

// Same bytes as vector<byte> would produce element by element, written in one copy.
template <>
struct TypeSerializer<Bytes> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const Bytes& value, DataOutput& out) {
    out.WriteVarU64(value.size());
    out.WriteBytes(value.data(), value.size());
  }
  static Bytes Deserialize(DataInput& in, std::uint32_t) {
    const std::string_view bytes = in.ReadStringView();
    const auto* begin = reinterpret_cast<const std::byte*>(bytes.data());
    return Bytes(begin, begin + bytes.size());
  }
  static std::string TypeName() { return "bytes"; }
};

template <typename T, typename Alloc>
  requires HasTypeSerializer<T>
struct TypeSerializer<std::vector<T, Alloc>> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const std::vector<T, Alloc>& value, DataOutput& out) {
    out.WriteVarU64(value.size());
    // auto&& and an explicit T: vector<bool> yields proxies, not bools.
    for (auto&& element : value) SerializeValue<T>(element, out);
  }
  static std::vector<T, Alloc> Deserialize(DataInput& in, std::uint32_t) {
    const std::uint64_t count = in.ReadVarU64();
    std::vector<T, Alloc> result;
    result.reserve(detail::ReserveHint(count, in));
    for (std::uint64_t i = 0; i < count; ++i) result.push_back(DeserializeValue<T>(in));
    return result;
  }
  static std::string TypeName() { return "vector<" + TypeNameOf<T>() + ">"; }
};

namespace detail {
template <typename T>
std::string SetTypeName() {
  return "set<" + TypeNameOf<T>() + ">";
}
template <typename T>
std::string UnorderedSetTypeName() {
  return "unordered_set<" + TypeNameOf<T>() + ">";
}
template <typename K, typename V>
std::string MapTypeName() {
  return "map<" + JoinTypeNames<K, V>() + ">";
}
template <typename K, typename V>
std::string UnorderedMapTypeName() {
  return "unordered_map<" + JoinTypeNames<K, V>() + ">";
}
}  // namespace detail

template <typename T, typename Compare, typename Alloc>
  requires HasTypeSerializer<T>
struct TypeSerializer<std::set<T, Compare, Alloc>>
    : detail::SetSerializer<std::set<T, Compare, Alloc>, &detail::SetTypeName<T>> {
  static std::string TypeName() { return detail::SetTypeName<T>(); }
};

template <typename T, typename Hash, typename Equal, typename Alloc>
  requires HasTypeSerializer<T>
struct TypeSerializer<std::unordered_set<T, Hash, Equal, Alloc>>
    : detail::SetSerializer<std::unordered_set<T, Hash, Equal, Alloc>,
                            &detail::UnorderedSetTypeName<T>> {
  static std::string TypeName() { return detail::UnorderedSetTypeName<T>(); }
};

template <typename K, typename V, typename Compare, typename Alloc>
  requires HasTypeSerializer<K> && HasTypeSerializer<V>
struct TypeSerializer<std::map<K, V, Compare, Alloc>>
    : detail::MapSerializer<std::map<K, V, Compare, Alloc>, &detail::MapTypeName<K, V>> {
  static std::string TypeName() { return detail::MapTypeName<K, V>(); }
};

template <typename K, typename V, typename Hash, typename Equal, typename Alloc>
  requires HasTypeSerializer<K> && HasTypeSerializer<V>
struct TypeSerializer<std::unordered_map<K, V, Hash, Equal, Alloc>>
    : detail::MapSerializer<std::unordered_map<K, V, Hash, Equal, Alloc>,
                            &detail::UnorderedMapTypeName<K, V>> {
  static std::string TypeName() { return detail::UnorderedMapTypeName<K, V>(); }
};

template <typename A, typename B>
  requires HasTypeSerializer<A> && HasTypeSerializer<B>
struct TypeSerializer<std::pair<A, B>> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const std::pair<A, B>& value, DataOutput& out) {
    SerializeValue(value.first, out);
    SerializeValue(value.second, out);
  }
  static std::pair<A, B> Deserialize(DataInput& in, std::uint32_t) {
    // Two statements: the order of evaluation of function arguments is unspecified.
    A first = DeserializeValue<A>(in);
    B second = DeserializeValue<B>(in);
    return {std::move(first), std::move(second)};
  }
  static std::string TypeName() { return "pair<" + detail::JoinTypeNames<A, B>() + ">"; }
};

template <typename... Ts>
  requires(HasTypeSerializer<Ts> && ...)
struct TypeSerializer<std::tuple<Ts...>> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const std::tuple<Ts...>& value, DataOutput& out) {
    std::apply([&](const Ts&... elements) { (SerializeValue(elements, out), ...); }, value);
  }
  static std::tuple<Ts...> Deserialize(DataInput& in, std::uint32_t) {
    // Elements of a braced initializer list are evaluated left to right, unlike arguments.
    return std::tuple<Ts...>{DeserializeValue<Ts>(in)...};
  }
  static std::string TypeName() { return "tuple<" + detail::JoinTypeNames<Ts...>() + ">"; }
};

template <typename T>
  requires HasTypeSerializer<T>
struct TypeSerializer<std::optional<T>> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const std::optional<T>& value, DataOutput& out) {
    out.WriteBool(value.has_value());
    if (value.has_value()) SerializeValue(*value, out);
  }
  static std::optional<T> Deserialize(DataInput& in, std::uint32_t) {
    if (!in.ReadBool()) return std::nullopt;
    return DeserializeValue<T>(in);
  }
  static std::string TypeName() { return "optional<" + TypeNameOf<T>() + ">"; }
};

template <typename T, std::size_t N>
  requires HasTypeSerializer<T>
struct TypeSerializer<std::array<T, N>> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const std::array<T, N>& value, DataOutput& out) {
    for (const T& element : value) SerializeValue(element, out);
  }
  static std::array<T, N> Deserialize(DataInput& in, std::uint32_t) {
    // Built in place rather than assigned, so T need not be default-constructible.
    return [&in]<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<T, N>{{(static_cast<void>(I), DeserializeValue<T>(in))...}};
    }(std::make_index_sequence<N>());
  }
  static std::string TypeName() {
    return "array<" + TypeNameOf<T>() + "," + std::to_string(N) + ">";
  }
};

}  // namespace sluice

#undef SLUICE_DETAIL_HAS_CXXABI
