// KeyHash<K>: the 32-bit hash a KeyBy key contributes to key-group assignment.
//
// sluice places keys exactly as Flink does: key_group = murmur(hash) % max_parallelism. For
// that to send a key to the same key group in a sluice job and in a Flink job, `hash` must be
// the Java hashCode() of the equivalent Java value, and that is what KeyHash computes:
//
//   C++ key type                         Java value         hash
//   ------------------------------------ ------------------ ---------------------------------
//   signed integers up to 32 bits        Byte/Short/Integer the value
//   unsigned integers up to 16 bits      Integer            the value
//   signed 64-bit, unsigned 32/64-bit    Long               (int) (v ^ (v >>> 32)); uint32_t
//                                                           widened to long, uint64_t taken
//                                                           as the long with the same bits
//   bool                                 Boolean            1231 (true) / 1237 (false)
//   char, char8_t                        Character          the byte as 0..255 (the
//                                                           ISO-8859-1 character)
//   char16_t                             Character          the UTF-16 code unit
//   char32_t, wchar_t                    Integer            the code point
//   float / double                       Float / Double     floatToIntBits / doubleToLongBits
//                                                           folded: every NaN hashes as the
//                                                           canonical NaN, -0.0 unlike 0.0
//   std::string, std::string_view,       String             String.hashCode over the UTF-16
//   const char*, std::u8string(_view)                       code units of the UTF-8 text
//   std::u16string, std::u16string_view  String             String.hashCode of the code units
//   std::pair<A, B>                      Tuple2             31 * h(A) + h(B)
//   std::tuple<T0, ..., Tn>              Tuple1..Tuple25    h = h(T0), then h = 31 * h + h(Ti)
//                                                           for each further field;
//                                                           std::tuple<> (Tuple0) is 0
//   std::optional<T>                     nullable field     std::nullopt is 0 (a null field
//                                                           of a Flink tuple), else h(value)
//   enum types                           (none)             KeyHash of the underlying value (*)
//   anything else with std::hash<K>      (none)             low 32 bits of std::hash<K> (*)
//
// (*) These keys have no Java equivalent with a stable hashCode (a Java enum's hashCode is its
// identity hash, different in every JVM, and Flink refuses enum keys), so their key groups do
// not match any Flink job's. They are still stable from one run of the same sluice build to
// the next only if std::hash is: libstdc++ hashes integers and pointers by value but gives no
// guarantee across versions, so keyed state of such keys may not restore after upgrading the
// standard library. Specialise KeyHash<K> for your type (or use one of the types above) when
// keyed state must survive upgrades or match Flink.
//
// Strings: a C++ string is UTF-8 text; Java hashes UTF-16. The hash is computed over the
// UTF-16 code units that Java's `new String(bytes, StandardCharsets.UTF_8)` produces from the
// same bytes, including what that decoder does with bytes that are not valid UTF-8: each
// maximal ill-formed subsequence (an overlong or out-of-range lead, a sequence cut short by
// a byte that does not fit or by the end) becomes one U+FFFD, as Unicode recommends, with one
// Java quirk: after ED, Java accepts A0..BF too, so an encoded surrogate (ED A0..BF 80..BF)
// becomes a single U+FFFD and so does a truncated one (ED A0..BF). Code points above U+FFFF
// count as two code units (a surrogate pair). Embedded NUL bytes are characters like any
// other. Tests compare with Java on every sequence of up to 2 bytes and millions of longer ones.
//
// Compatibility: these values decide which key group, and so which subtask and which part of
// a checkpoint, a key belongs to. Changing any of them makes existing keyed state
// unrestorable; they are fixed by test vectors computed with Java and Flink.
//
// Thread safety: every function here is pure and may be called from any thread.
// Extension: specialise `template <> struct sluice::KeyHash<MyKey> { static int32_t
// HashCode(const MyKey&); };` (the second parameter is for enable_if-style partial
// specialisations). A custom KeyHash should return the Java hashCode of the value the Flink
// side keys by, if there is one.
#pragma once

#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace sluice {

/// Java's String.hashCode of the string that `new String(utf8, StandardCharsets.UTF_8)`
/// decodes from these bytes. Never fails: invalid UTF-8 is replaced as Java replaces it.
int32_t JavaStringHashCode(std::string_view utf8) noexcept;

/// Java's String.hashCode of UTF-16 code units, taken as they are (unpaired surrogates too).
int32_t JavaStringHashCode(std::u16string_view utf16) noexcept;

namespace key_hash_detail {

// Java's `31 * h + next` on int, with Java's wrap-around.
constexpr int32_t Combine(int32_t h, int32_t next) noexcept {
  return static_cast<int32_t>(31u * static_cast<uint32_t>(h) + static_cast<uint32_t>(next));
}

// Long.hashCode: (int) (bits ^ (bits >>> 32)).
constexpr int32_t LongHashCode(uint64_t bits) noexcept {
  return static_cast<int32_t>(static_cast<uint32_t>(bits ^ (bits >> 32)));
}

template <typename T>
inline constexpr bool kIsCharacter =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

template <typename T>
inline constexpr bool kIsJavaNumber =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !kIsCharacter<T>;

template <typename T>
concept StdHashable = requires(const T& value) {
  { std::hash<T>{}(value) } -> std::convertible_to<std::size_t>;
};

}  // namespace key_hash_detail

/// The hash of a key of type K; see the table at the top of this file. The primary template
/// covers types with std::hash and nothing better (their placement does not match Flink's).
template <typename K, typename Enable = void>
struct KeyHash {
  static int32_t HashCode(const K& key) {
    static_assert(key_hash_detail::StdHashable<K>,
                  "sluice::KeyHash<K> has no rule for this key type: specialise "
                  "sluice::KeyHash<K> (or std::hash<K>) for it");
    return static_cast<int32_t>(static_cast<uint32_t>(std::hash<K>{}(key)));
  }
};

/// KeyHash<K>::HashCode(key) with K deduced and decayed (a string literal hashes as text).
template <typename K>
int32_t KeyHashCode(const K& key) {
  return KeyHash<std::decay_t<K>>::HashCode(key);
}

// Integers: Byte/Short/Integer hash as their value, Long folds its halves. An unsigned value
// hashes as the smallest Java type holding it: up to 16 bits fits an int; a uint32_t needs a
// long; a uint64_t is taken as the long with the same bits.
template <typename K>
struct KeyHash<K, std::enable_if_t<key_hash_detail::kIsJavaNumber<K>>> {
  static_assert(sizeof(K) <= 8, "sluice::KeyHash has no Java equivalent for integers over 64 bits");
  static constexpr int32_t HashCode(K key) noexcept {
    if constexpr (std::is_signed_v<K> ? sizeof(K) <= 4 : sizeof(K) <= 2) {
      return static_cast<int32_t>(key);
    } else {
      return key_hash_detail::LongHashCode(static_cast<uint64_t>(key));
    }
  }
};

// Character types: the value of the code unit (char and char8_t as 0..255), Character's and
// Integer's hashCode alike.
template <typename K>
struct KeyHash<K, std::enable_if_t<key_hash_detail::kIsCharacter<K>>> {
  static constexpr int32_t HashCode(K key) noexcept {
    return static_cast<int32_t>(static_cast<uint32_t>(static_cast<std::make_unsigned_t<K>>(key)));
  }
};

template <>
struct KeyHash<bool> {
  static constexpr int32_t HashCode(bool key) noexcept { return key ? 1231 : 1237; }
};

template <>
struct KeyHash<float> {
  static int32_t HashCode(float key) noexcept {
    static_assert(sizeof(float) == 4 && std::numeric_limits<float>::is_iec559);
    // floatToIntBits: every NaN becomes the canonical quiet NaN.
    return std::isnan(key) ? 0x7FC00000 : std::bit_cast<int32_t>(key);
  }
};

template <>
struct KeyHash<double> {
  static int32_t HashCode(double key) noexcept {
    static_assert(sizeof(double) == 8 && std::numeric_limits<double>::is_iec559);
    // doubleToLongBits: every NaN becomes the canonical quiet NaN.
    return key_hash_detail::LongHashCode(std::isnan(key) ? uint64_t{0x7FF8000000000000}
                                                         : std::bit_cast<uint64_t>(key));
  }
};

template <typename K>
struct KeyHash<K, std::enable_if_t<std::is_enum_v<K>>> {
  static constexpr int32_t HashCode(K key) noexcept {
    using Underlying = std::underlying_type_t<K>;
    return KeyHash<Underlying>::HashCode(static_cast<Underlying>(key));
  }
};

template <typename Traits, typename Allocator>
struct KeyHash<std::basic_string<char, Traits, Allocator>> {
  static int32_t HashCode(const std::basic_string<char, Traits, Allocator>& key) noexcept {
    return JavaStringHashCode(std::string_view(key.data(), key.size()));
  }
};

template <typename Traits>
struct KeyHash<std::basic_string_view<char, Traits>> {
  static int32_t HashCode(std::basic_string_view<char, Traits> key) noexcept {
    return JavaStringHashCode(std::string_view(key.data(), key.size()));
  }
};

template <typename Traits, typename Allocator>
struct KeyHash<std::basic_string<char8_t, Traits, Allocator>> {
  static int32_t HashCode(const std::basic_string<char8_t, Traits, Allocator>& key) noexcept {
    return JavaStringHashCode(
        std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  }
};

template <typename Traits>
struct KeyHash<std::basic_string_view<char8_t, Traits>> {
  static int32_t HashCode(std::basic_string_view<char8_t, Traits> key) noexcept {
    return JavaStringHashCode(
        std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  }
};

template <typename Traits, typename Allocator>
struct KeyHash<std::basic_string<char16_t, Traits, Allocator>> {
  static int32_t HashCode(const std::basic_string<char16_t, Traits, Allocator>& key) noexcept {
    return JavaStringHashCode(std::u16string_view(key.data(), key.size()));
  }
};

template <typename Traits>
struct KeyHash<std::basic_string_view<char16_t, Traits>> {
  static int32_t HashCode(std::basic_string_view<char16_t, Traits> key) noexcept {
    return JavaStringHashCode(std::u16string_view(key.data(), key.size()));
  }
};

// A NUL-terminated string hashes by its characters, never by its address. It must not be
// null.
template <>
struct KeyHash<const char*> {
  static int32_t HashCode(const char* key) noexcept {
    return JavaStringHashCode(std::string_view(key));
  }
};

template <>
struct KeyHash<char*> {
  static int32_t HashCode(const char* key) noexcept {
    return JavaStringHashCode(std::string_view(key));
  }
};

template <typename A, typename B>
struct KeyHash<std::pair<A, B>> {
  static int32_t HashCode(const std::pair<A, B>& key) {
    return key_hash_detail::Combine(KeyHashCode(key.first), KeyHashCode(key.second));
  }
};

template <typename... Ts>
struct KeyHash<std::tuple<Ts...>> {
  static int32_t HashCode(const std::tuple<Ts...>& key) {
    if constexpr (sizeof...(Ts) == 0) {
      return 0;  // Tuple0
    } else {
      return std::apply(
          [](const auto& first, const auto&... rest) {
            int32_t h = KeyHashCode(first);
            ((h = key_hash_detail::Combine(h, KeyHashCode(rest))), ...);
            return h;
          },
          key);
    }
  }
};

template <typename T>
struct KeyHash<std::optional<T>> {
  static int32_t HashCode(const std::optional<T>& key) { return key ? KeyHashCode(*key) : 0; }
};

}  // namespace sluice
