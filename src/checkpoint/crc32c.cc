#include "checkpoint/crc32c.h"

#include <array>
#include <cstddef>

namespace sluice::internal {
namespace {

constexpr std::uint32_t kCastagnoliReflected = 0x82F63B78u;

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

// Slicing-by-8: table[k][b] is the CRC of byte b followed by k zero bytes, so eight input
// bytes fold into the CRC with eight independent lookups instead of eight dependent ones.
// State files can be hundreds of megabytes; this is several times faster than one table.
constexpr Tables MakeTables() {
  Tables t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kCastagnoliReflected : 0u);
    t[0][b] = crc;
  }
  for (std::size_t b = 0; b < 256; ++b) {
    for (std::size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  }
  return t;
}

constexpr Tables kTables = MakeTables();

inline std::uint32_t Byte(std::uint32_t v, int shift) { return (v >> shift) & 0xFFu; }

}  // namespace

std::uint32_t Crc32cExtend(std::uint32_t crc, std::string_view data) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  std::uint32_t c = ~crc;
  while (n >= 8) {
    // Assembled byte by byte: independent of host endianness and alignment.
    std::uint32_t lo = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                            std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
    std::uint32_t hi = std::uint32_t{p[4]} | std::uint32_t{p[5]} << 8 | std::uint32_t{p[6]} << 16 |
                       std::uint32_t{p[7]} << 24;
    c = kTables[7][Byte(lo, 0)] ^ kTables[6][Byte(lo, 8)] ^ kTables[5][Byte(lo, 16)] ^
        kTables[4][Byte(lo, 24)] ^ kTables[3][Byte(hi, 0)] ^ kTables[2][Byte(hi, 8)] ^
        kTables[1][Byte(hi, 16)] ^ kTables[0][Byte(hi, 24)];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xFFu];
  return ~c;
}

std::uint32_t Crc32c(std::string_view data) noexcept { return Crc32cExtend(0, data); }

}  // namespace sluice::internal
