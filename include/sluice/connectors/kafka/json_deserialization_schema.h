// JsonDeserializationSchema: a Kafka value parsed as JSON into nlohmann::json (Flink's
// JsonDeserializationSchema to ObjectNode). Header:
// <sluice/connectors/kafka/json_deserialization_schema.h>; it makes nlohmann_json part of sluice's
// public interface (the package config finds it).
//
//   KafkaSource<nlohmann::json>::Builder()...SetValueOnlyDeserializer(JsonDeserializationSchema())
//
// Invalid JSON throws from Deserialize, so the source's DeserializationFailurePolicy decides
// (Fail by default, naming topic, partition and offset; or Skip / DeadLetter).
// Thread safety: stateless; copied per reader.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include <sluice/connectors/kafka/deserialization_schema.h>

namespace sluice::kafka {

class JsonDeserializationSchema final : public DeserializationSchema<nlohmann::json> {
 public:
  void Deserialize(std::string_view message, Collector<nlohmann::json>& out) override {
    out.Collect(nlohmann::json::parse(message.begin(), message.end()));
  }
};

}  // namespace sluice::kafka
