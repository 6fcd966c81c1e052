#include <sluice/version.h>

#include <librdkafka/rdkafka.h>

namespace sluice {

const char* VersionString() noexcept { return SLUICE_VERSION_STRING; }

const char* RdKafkaVersionString() noexcept { return rd_kafka_version_str(); }

}  // namespace sluice
