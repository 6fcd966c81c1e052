// Kafka's key hash: MurmurHash2 (32-bit) with Kafka's seed, as the Java client's
// Utils.murmur2 computes it, so keyed records land on the partition a Java producer picks.
#include <sluice/connectors/kafka/partitioner.h>

#include <cstdint>

namespace sluice::kafka {

int32_t Murmur2(std::string_view data) noexcept {
  constexpr uint32_t kSeed = 0x9747b28cU;
  constexpr uint32_t kMultiplier = 0x5bd1e995U;
  constexpr int kShift = 24;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const auto length = static_cast<uint32_t>(data.size());
  // Java's int arithmetic wraps; unsigned arithmetic wraps the same way bit for bit.
  uint32_t h = kSeed ^ length;
  const uint32_t blocks = length / 4;
  for (uint32_t i = 0; i < blocks; ++i) {
    const unsigned char* block = bytes + static_cast<size_t>(i) * 4;
    uint32_t k = static_cast<uint32_t>(block[0]) | (static_cast<uint32_t>(block[1]) << 8) |
                 (static_cast<uint32_t>(block[2]) << 16) | (static_cast<uint32_t>(block[3]) << 24);
    k *= kMultiplier;
    k ^= k >> kShift;
    k *= kMultiplier;
    h *= kMultiplier;
    h ^= k;
  }
  const unsigned char* tail = bytes + (length & ~3U);
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(tail[0]);
      h *= kMultiplier;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= kMultiplier;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t KafkaKeyPartition(std::string_view key, int32_t num_partitions) noexcept {
  // Utils.toPositive: clear the sign bit (not Math.abs, which breaks on INT_MIN).
  const int32_t positive = Murmur2(key) & 0x7fffffff;
  return positive % num_partitions;
}

}  // namespace sluice::kafka
