// Properties: the legacy connectors' client configuration (Flink's java.util.Properties), shared
// by KafkaConsumerSource and KafkaProducerSink.
//
// Keys are librdkafka property names (bootstrap.servers, group.id, security.protocol, sasl.*,
// ssl.*, ...), passed through unchanged, plus the connector's own keys listed in its header.
// Thread safety: a plain value; LoadProperties may be called from any thread.
#pragma once

#include <map>
#include <string>

#include <sluice/status.h>

namespace sluice::kafka {

/// Client properties: any librdkafka property plus the connector's own keys.
using Properties = std::map<std::string, std::string>;

/// Reads client properties from a file, as Flink users keep them (java.util.Properties.load):
/// one `key=value` (or `key: value`) per line, blank lines and lines starting with `#` or `!`
/// ignored, spaces around the key and before the value dropped, a line ending in `\` continued
/// on the next. A later line for a key wins. Keeps secrets (sasl.password, ...) off the command
/// line; give the file mode 0600.
///
/// Errors: kNotFound when the file does not exist, kIoError when it cannot be read (a directory,
/// no permission), both naming the path, the operation and the system's reason; kInvalidArgument
/// naming the line number of a line without a key (never the line's text: it may hold a secret).
Result<Properties> LoadProperties(const std::string& path);

}  // namespace sluice::kafka
