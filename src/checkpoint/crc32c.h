// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78): the checksum of every
// state file in a checkpoint or savepoint, recorded in _metadata and verified on restore.
//
// Chosen over CRC-32 (zlib) because it is what iSCSI, ext4, RocksDB and Kafka's record batches
// use, so its test vectors are everywhere; implemented here (slicing-by-8 tables) rather than
// pulling in a library for forty lines.
//
// Thread safety: pure functions over immutable tables; callable from any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::internal {

/// CRC-32C of `data`. Crc32c("123456789") == 0xE3069283.
std::uint32_t Crc32c(std::string_view data) noexcept;

/// Continues a CRC-32C over more bytes: Crc32cExtend(Crc32c(a), b) == Crc32c(a + b).
/// Lets a writer checksum a state file chunk by chunk.
std::uint32_t Crc32cExtend(std::uint32_t crc, std::string_view data) noexcept;

}  // namespace sluice::internal
