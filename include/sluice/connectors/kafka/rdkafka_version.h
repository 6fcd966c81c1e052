// The librdkafka behind the Kafka connector. Part of the Kafka module, so a sluice built with
// SLUICE_WITH_KAFKA=OFF has neither this header nor the function.
#pragma once

namespace sluice {

/// The version of the librdkafka the library runs against (rd_kafka_version_str()), e.g.
/// "2.0.2"; it may differ from the headers sluice was compiled with. Thread-safe; the string is
/// librdkafka's and lives as long as the process.
const char* RdKafkaVersionString() noexcept;

}  // namespace sluice
