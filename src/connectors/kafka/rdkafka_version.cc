#include <sluice/connectors/kafka/rdkafka_version.h>

#include <librdkafka/rdkafka.h>

namespace sluice {

const char* RdKafkaVersionString() noexcept { return rd_kafka_version_str(); }

}  // namespace sluice
