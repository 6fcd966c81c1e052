// Properties: the legacy connectors' client configuration (Flink's java.util.Properties), shared
// by KafkaConsumerSource and KafkaProducerSink.
//
// Keys are librdkafka property names (bootstrap.servers, group.id, security.protocol, sasl.*,
// ssl.*, ...), passed through unchanged, plus the connector's own keys listed in its header.
// Thread safety: a plain value.
#pragma once

#include <map>
#include <string>

namespace sluice::kafka {

/// Client properties: any librdkafka property plus the connector's own keys.
using Properties = std::map<std::string, std::string>;

}  // namespace sluice::kafka
