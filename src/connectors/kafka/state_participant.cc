// The transaction participant of a job that keeps its state in Kafka without an EXACTLY_ONCE
// sink (`--state.changelog=kafka`): the same pair of transactional producers and commit marker
// as the exactly-once sink's (transaction_participant.h), carrying only the state changelog and
// the sources' offsets, on the cluster a Kafka source or sink of the job already reaches.
#include <string>
#include <string_view>

#include <sluice/connectors/kafka/detail/kafka_sink_core.h>

namespace sluice::kafka::detail {
namespace {

/// What reaching the cluster needs, and the keys the participant reads; a source's or an
/// AT_LEAST_ONCE sink's other properties (consumer settings, enable.idempotence=false, ...)
/// mean nothing to, or contradict, a transactional producer.
bool IsConnectionProperty(std::string_view key) {
  for (std::string_view prefix : {"sasl.", "ssl.", "socket.", "broker.address."}) {
    if (key.starts_with(prefix)) return true;
  }
  if (key.starts_with("sluice.changelog.topic.")) return true;
  for (std::string_view exact :
       {"bootstrap.servers", "security.protocol", "transaction.timeout.ms", "sluice.control.topic",
        "sluice.control.topic.replication.factor", "sluice.changelog.replication.factor",
        "sluice.broker.timeout.ms"}) {
    if (key == exact) return true;
  }
  return false;
}

}  // namespace

Result<std::shared_ptr<CheckpointParticipant>> AcquireStateParticipant(
    const std::map<std::string, std::string>& client_properties,
    const std::optional<std::string>& transactional_id_prefix, const SinkValidationContext& job) {
  KafkaSinkSettings settings;
  settings.guarantee = DeliveryGuarantee::kExactlyOnce;
  settings.state_only = true;
  settings.transactional_id_prefix =
      transactional_id_prefix.value_or(StatePrefixForJob(job.job_name));
  for (const auto& [key, value] : client_properties) {
    if (IsConnectionProperty(key)) settings.properties.emplace(key, value);
  }
  SLUICE_ASSIGN_OR_RETURN(KafkaSinkSettings normalized, NormalizeSinkSettings(std::move(settings)));
  SLUICE_RETURN_IF_ERROR(ValidateSinkForJob(normalized, job));
  return AcquireTransactionParticipant(
      std::make_shared<const KafkaSinkSettings>(std::move(normalized)));
}

}  // namespace sluice::kafka::detail
