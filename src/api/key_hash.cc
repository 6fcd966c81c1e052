#include <sluice/api/key_hash.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice {
namespace {

constexpr uint32_t kReplacementCharacter = 0xFFFD;

// String.hashCode's step for one UTF-16 code unit, on uint32_t so that it wraps like Java int.
constexpr uint32_t Step(uint32_t h, uint32_t code_unit) { return 31u * h + code_unit; }

constexpr uint32_t StepCodePoint(uint32_t h, uint32_t code_point) {
  if (code_point < 0x10000) return Step(h, code_point);
  const uint32_t offset = code_point - 0x10000;
  h = Step(h, 0xD800 + (offset >> 10));
  return Step(h, 0xDC00 + (offset & 0x3FF));
}

constexpr bool IsContinuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

// Decodes as Java's `new String(bytes, UTF_8)` does and hashes the code units on the fly,
// without allocating. Java's rules, checked byte for byte against the JDK by the digests in
// tests/unit/api/key_hash_test.cc:
// - a byte that cannot start a sequence (80..C1, F5..FF) is one U+FFFD;
// - otherwise the lead byte fixes the length and the range allowed for the second byte
//   (E0: A0..BF, F0: 90..BF, F4: 80..8F, else 80..BF); the sequence ends at the first byte
//   outside its range, or at the end of the input, and the bytes taken so far (the maximal
//   ill-formed subsequence) become one U+FFFD; the byte that ended it is decoded afresh;
// - ED is the exception to Unicode's table: Java lets its second byte range over 80..BF, and a
//   complete three-byte sequence that encodes a surrogate (D800..DFFF) becomes one U+FFFD.
int32_t JavaStringHashCode(std::string_view utf8) noexcept {
  const auto* bytes = reinterpret_cast<const unsigned char*>(utf8.data());
  const std::size_t size = utf8.size();
  uint32_t h = 0;
  std::size_t i = 0;
  while (i < size) {
    const uint8_t lead = bytes[i];
    if (lead < 0x80) {
      h = Step(h, lead);
      ++i;
      continue;
    }
    std::size_t length;
    uint8_t second_min = 0x80;
    uint8_t second_max = 0xBF;
    uint32_t code_point;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code_point = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code_point = lead & 0x0Fu;
      if (lead == 0xE0) second_min = 0xA0;  // below: overlong
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code_point = lead & 0x07u;
      if (lead == 0xF0) second_min = 0x90;  // below: overlong
      if (lead == 0xF4) second_max = 0x8F;  // above: beyond U+10FFFF
    } else {
      h = Step(h, kReplacementCharacter);
      ++i;
      continue;
    }

    std::size_t taken = 1;
    while (taken < length && i + taken < size) {
      const uint8_t byte = bytes[i + taken];
      const bool fits =
          taken == 1 ? byte >= second_min && byte <= second_max : IsContinuation(byte);
      if (!fits) break;
      code_point = (code_point << 6) | (byte & 0x3Fu);
      ++taken;
    }
    i += taken;
    if (taken < length || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      h = Step(h, kReplacementCharacter);
    } else {
      h = StepCodePoint(h, code_point);
    }
  }
  return static_cast<int32_t>(h);
}

int32_t JavaStringHashCode(std::u16string_view utf16) noexcept {
  uint32_t h = 0;
  for (char16_t unit : utf16) h = Step(h, unit);
  return static_cast<int32_t>(h);
}

}  // namespace sluice
