#include "connectors/kafka/changelog_topics.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "connectors/kafka/client_properties.h"
#include "connectors/kafka/kafka_consumer.h"
#include "connectors/kafka/kafka_error.h"
#include "connectors/kafka/rdkafka_handles.h"
#include "core/log.h"

namespace sluice::kafka::internal {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* options) const noexcept {
    rd_kafka_AdminOptions_destroy(options);
  }
};
using AdminOptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter>;

struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* topic) const noexcept { rd_kafka_NewTopic_destroy(topic); }
};
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter>;

struct ConfigResourceDeleter {
  void operator()(rd_kafka_ConfigResource_t* resource) const noexcept {
    rd_kafka_ConfigResource_destroy(resource);
  }
};
using ConfigResourcePtr = std::unique_ptr<rd_kafka_ConfigResource_t, ConfigResourceDeleter>;

// A missing ACL: "the changelog topic 'X': the client's principal may not <action>
// (bootstrap.servers=...); grant it <acl> on topic 'X'<why>".
Status AclMissing(const std::string& topic, std::string_view action, std::string_view acl,
                  const std::string& bootstrap_servers, std::string_view why = {}) {
  std::string message = "the changelog topic '" + topic + "': the client's principal may not ";
  message.append(action)
      .append(" (bootstrap.servers=")
      .append(bootstrap_servers)
      .append("); grant it ")
      .append(acl)
      .append(" on topic '")
      .append(topic)
      .append("'")
      .append(why);
  return Status::PermissionDenied(std::move(message));
}

// What the broker says about one existing topic.
struct TopicFacts {
  bool exists = false;
  std::string cleanup_policy;
};

// One call's context: the client, its bootstrap.servers for messages, the deadline, and (for a
// client of our own) the errors its error callback saw.
class AdminCall {
 public:
  AdminCall(rd_kafka_t* rk, Clock::time_point deadline, milliseconds timeout,
            std::function<std::optional<Status>()> refused)
      : rk_(rk), deadline_(deadline), timeout_(timeout), refused_(std::move(refused)) {
    char value[1024];
    size_t size = sizeof value;
    if (rd_kafka_conf_get(rd_kafka_conf(rk), "bootstrap.servers", value, &size) ==
        RD_KAFKA_CONF_OK) {
      bootstrap_servers_ = value;
    }
  }

  const std::string& bootstrap_servers() const { return bootstrap_servers_; }

  int RemainingMs() const {
    auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(left, 1, 3'600'000));
  }
  bool Expired() const { return Clock::now() >= deadline_; }

  AdminOptionsPtr Options(rd_kafka_admin_op_t op, bool operation_timeout = false) const {
    AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk_, op));
    char error[256];
    // Both only fail for values out of range, which RemainingMs() never gives.
    (void)rd_kafka_AdminOptions_set_request_timeout(options.get(), RemainingMs(), error,
                                                    sizeof error);
    if (operation_timeout) {
      // The broker answers once the topics are created, not merely scheduled.
      (void)rd_kafka_AdminOptions_set_operation_timeout(options.get(), RemainingMs(), error,
                                                        sizeof error);
    }
    return options;
  }

  // Waits for the result of an admin request on `queue`, in short steps so that a client of our
  // own that the brokers refuse fails at once. Null with `*status` set on failure.
  EventPtr Await(rd_kafka_queue_t* queue, const std::string& what, Status* status) const {
    // librdkafka answers by the request timeout; the extra second covers its own bookkeeping.
    const Clock::time_point hard_deadline = deadline_ + milliseconds(1000);
    while (true) {
      const auto left =
          std::chrono::duration_cast<milliseconds>(hard_deadline - Clock::now()).count();
      EventPtr event(
          rd_kafka_queue_poll(queue, static_cast<int>(std::clamp<int64_t>(left, 0, 200))));
      if (event != nullptr) {
        rd_kafka_resp_err_t err = rd_kafka_event_error(event.get());
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return event;
        *status = Failure(what, err, rd_kafka_event_error_string(event.get()));
        return nullptr;
      }
      if (refused_) {
        if (std::optional<Status> refused = refused_()) {
          *status = refused->WithContext(what);
          return nullptr;
        }
      }
      if (left <= 0) {
        *status = NoAnswer(what);
        return nullptr;
      }
    }
  }

  Status NoAnswer(const std::string& what) const {
    return Status::Unavailable(what + ": no answer from the Kafka brokers at bootstrap.servers=" +
                               bootstrap_servers_ + " within " + std::to_string(timeout_.count()) +
                               " ms (sluice.broker.timeout.ms); check bootstrap.servers, that the "
                               "brokers are up, and the client's credentials");
  }

  // A request-level or per-topic error as a Status.
  Status Failure(const std::string& what, rd_kafka_resp_err_t err, std::string_view detail) const {
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
        err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT) {
      if (refused_) {
        if (std::optional<Status> refused = refused_()) return refused->WithContext(what);
      }
      return NoAnswer(what);
    }
    return KafkaErrorStatus(err, what + " (bootstrap.servers=" + bootstrap_servers_ + ")", detail);
  }

  rd_kafka_t* rk() const { return rk_; }

 private:
  rd_kafka_t* rk_;
  Clock::time_point deadline_;
  milliseconds timeout_;
  std::function<std::optional<Status>()> refused_;
  std::string bootstrap_servers_;
};

}  // namespace

std::map<std::string, std::string> ChangelogTopicConfigs(
    const std::map<std::string, std::string>& properties) {
  constexpr std::string_view kPrefix = "sluice.changelog.topic.";
  std::map<std::string, std::string> configs{{"segment.bytes", "67108864"},
                                             {"segment.ms", "3600000"}};
  for (const auto& [key, value] : properties) {
    if (key.starts_with(kPrefix)) configs[key.substr(kPrefix.size())] = value;
  }
  return configs;
}

namespace {

// DescribeConfigs of `names` in one request: which exist, and their cleanup.policy.
Result<std::map<std::string, TopicFacts>> DescribeTopics(const AdminCall& call,
                                                         const std::vector<std::string>& names) {
  std::vector<ConfigResourcePtr> owned;
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const std::string& name : names) {
    owned.emplace_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()));
    resources.push_back(owned.back().get());
  }
  QueuePtr queue(rd_kafka_queue_new(call.rk()));
  AdminOptionsPtr options = call.Options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  rd_kafka_DescribeConfigs(call.rk(), resources.data(), resources.size(), options.get(),
                           queue.get());
  Status status;
  EventPtr event = call.Await(queue.get(), "describing the changelog topics", &status);
  if (event == nullptr) return status;

  std::map<std::string, TopicFacts> facts;
  size_t count = 0;
  const rd_kafka_ConfigResource_t** results = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_ConfigResource_name(results[i]);
    rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(results[i]);
    const char* detail = rd_kafka_ConfigResource_error_string(results[i]);
    TopicFacts& topic = facts[name];
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;  // missing
    if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
        err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
      return AclMissing(name, "describe its configuration", "DESCRIBE_CONFIGS",
                        call.bootstrap_servers(), " (sluice checks that the topic is compacted)");
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return call.Failure("describing the changelog topic '" + name + "'", err,
                          detail != nullptr ? detail : "");
    }
    topic.exists = true;
    size_t config_count = 0;
    const rd_kafka_ConfigEntry_t** entries =
        rd_kafka_ConfigResource_configs(results[i], &config_count);
    for (size_t c = 0; c < config_count; ++c) {
      if (std::string_view(rd_kafka_ConfigEntry_name(entries[c])) == "cleanup.policy") {
        const char* value = rd_kafka_ConfigEntry_value(entries[c]);
        topic.cleanup_policy = value != nullptr ? value : "";
      }
    }
  }
  for (const std::string& name : names) {
    if (!facts.contains(name)) {
      return Status::Internal("DescribeConfigs answered without the changelog topic '" + name +
                              "' (bootstrap.servers=" + call.bootstrap_servers() + ")");
    }
  }
  return facts;
}

// The partition count of a topic known to exist (metadata can lag behind a creation: retried
// until the deadline). With `created`, also waits until the metadata shows that many partitions,
// each with a leader: the writer that comes next then finds the topic ready.
Result<int> PartitionCount(const AdminCall& call, const std::string& name, int created = 0) {
  TopicPtr topic(rd_kafka_topic_new(call.rk(), name.c_str(), nullptr));
  if (topic == nullptr) {
    return Status::InvalidArgument("the changelog topic name '" + name +
                                   "': " + rd_kafka_err2str(rd_kafka_last_error()));
  }
  rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR__TIMED_OUT;
  while (true) {
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(call.rk(), 0, topic.get(), &raw, std::min(call.RemainingMs(), 1000));
    MetadataPtr metadata(raw);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      err = metadata->topic_cnt == 1 ? metadata->topics[0].err
                                     : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
      if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
        return AclMissing(name, "see its metadata", "DESCRIBE", call.bootstrap_servers());
      }
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const rd_kafka_metadata_topic_t& t = metadata->topics[0];
        bool ready = created == 0 || t.partition_cnt == created;
        for (int p = 0; ready && created > 0 && p < t.partition_cnt; ++p) {
          ready = t.partitions[p].leader >= 0;
        }
        if (ready) return t.partition_cnt;
        err = RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
      }
    }
    last = err;
    if (call.Expired()) break;
    if (err != RD_KAFKA_RESP_ERR__TIMED_OUT) {
      // A topic just created (here or concurrently) that the broker's metadata does not show
      // yet; ask again shortly.
      std::this_thread::sleep_for(milliseconds(std::min(call.RemainingMs(), 50)));
    }
  }
  return call.Failure("reading the metadata of the changelog topic '" + name + "'", last, {});
}

Status Validate(const AdminCall& call, const ChangelogTopicSpec& spec, const TopicFacts& facts) {
  if (!CleanupPolicyCompacts(facts.cleanup_policy)) {
    return Status::FailedPrecondition(
        "the changelog topic '" + spec.name + "' has cleanup.policy=" + facts.cleanup_policy +
        ", which does not compact: retention would delete state that a restore needs. Make it "
        "compacted: kafka-configs.sh --bootstrap-server " +
        call.bootstrap_servers() + " --alter --entity-type topics --entity-name " + spec.name +
        " --add-config cleanup.policy=compact");
  }
  if (facts.cleanup_policy.find("delete") != std::string::npos) {
    SLUICE_LOG_WARN(
        "the changelog topic '{}' has cleanup.policy={}: retention may delete state, and a restore "
        "from it then fails; cleanup.policy=compact keeps it",
        spec.name, facts.cleanup_policy);
  }
  SLUICE_ASSIGN_OR_RETURN(const int partitions, PartitionCount(call, spec.name));
  if (partitions != spec.partitions) {
    return Status::FailedPrecondition(
        "the changelog topic '" + spec.name + "' has " + std::to_string(partitions) +
        " partitions, but the job needs " + std::to_string(spec.partitions) +
        " (one per key group, i.e. the job's max parallelism, for a keyed operator; 1 for a "
        "non-keyed one): it was created for a job with another max parallelism. Run the job with "
        "the max parallelism the topic was made for (" +
        std::to_string(partitions) +
        ") to keep its state, or delete the topic to start this operator's state afresh: "
        "kafka-topics.sh --bootstrap-server " +
        call.bootstrap_servers() + " --delete --topic " + spec.name);
  }
  return Status::Ok();
}

// CreateTopics of `specs` in one request. The names the broker says exist already go to
// `existing`.
Status CreateTopics(const AdminCall& call, const std::vector<const ChangelogTopicSpec*>& specs,
                    const ChangelogTopicOptions& options, std::vector<std::string>* existing) {
  std::vector<NewTopicPtr> owned;
  std::vector<rd_kafka_NewTopic_t*> topics;
  for (const ChangelogTopicSpec* spec : specs) {
    char error[512];
    NewTopicPtr topic(rd_kafka_NewTopic_new(spec->name.c_str(), spec->partitions,
                                            options.replication_factor, error, sizeof error));
    if (topic == nullptr) {
      return Status::InvalidArgument("the changelog topic '" + spec->name + "': " + error);
    }
    for (const auto& [key, value] : options.configs) {
      if (key == "cleanup.policy") continue;
      if (rd_kafka_NewTopic_set_config(topic.get(), key.c_str(), value.c_str()) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::string message = "the changelog topic config ";
        message.append(key).append("=").append(value).append(" is refused by librdkafka");
        return Status::InvalidArgument(std::move(message));
      }
    }
    (void)rd_kafka_NewTopic_set_config(topic.get(), "cleanup.policy", "compact");
    topics.push_back(topic.get());
    owned.push_back(std::move(topic));
  }
  QueuePtr queue(rd_kafka_queue_new(call.rk()));
  AdminOptionsPtr admin_options =
      call.Options(RD_KAFKA_ADMIN_OP_CREATETOPICS, /*operation_timeout=*/true);
  rd_kafka_CreateTopics(call.rk(), topics.data(), topics.size(), admin_options.get(), queue.get());
  Status status;
  EventPtr event = call.Await(queue.get(), "creating the changelog topics", &status);
  if (event == nullptr) return status;
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  std::map<std::string, const rd_kafka_topic_result_t*> by_name;
  for (size_t i = 0; i < count; ++i) by_name[rd_kafka_topic_result_name(results[i])] = results[i];
  for (const ChangelogTopicSpec* spec : specs) {
    auto it = by_name.find(spec->name);
    if (it == by_name.end()) {
      return Status::Internal("CreateTopics answered without the changelog topic '" + spec->name +
                              "'");
    }
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(it->second);
    const char* detail = rd_kafka_topic_result_error_string(it->second);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      // The broker's metadata follows the controller's a moment later.
      SLUICE_RETURN_IF_ERROR(PartitionCount(call, spec->name, spec->partitions).status());
      SLUICE_LOG_INFO("created the changelog topic '{}' (compacted, {} partitions)", spec->name,
                      spec->partitions);
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      SLUICE_LOG_INFO("the changelog topic '{}' was created concurrently by another client",
                      spec->name);
      existing->push_back(spec->name);  // validated like any other
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
        err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
      return Status::PermissionDenied(
          "the changelog topic '" + spec->name +
          "' is missing and the client's principal may not create it (bootstrap.servers=" +
          call.bootstrap_servers() + "); grant it CREATE on topic '" + spec->name +
          "' (or on the cluster), or create the topic yourself: kafka-topics.sh "
          "--bootstrap-server " +
          call.bootstrap_servers() + " --create --topic " + spec->name + " --partitions " +
          std::to_string(spec->partitions) + " --config cleanup.policy=compact");
    }
    return call.Failure(
        "creating the changelog topic '" + spec->name + "' (" + std::to_string(spec->partitions) +
            " partitions, replication factor " +
            (options.replication_factor < 0 ? std::string("the broker's default")
                                            : std::to_string(options.replication_factor)) +
            ")",
        err, detail != nullptr ? detail : "");
  }
  return Status::Ok();
}

Status Ensure(const AdminCall& call, const std::vector<ChangelogTopicSpec>& topics,
              const ChangelogTopicOptions& options) {
  std::set<std::string> seen;
  std::vector<std::string> names;
  for (const ChangelogTopicSpec& spec : topics) {
    if (spec.name.empty() || spec.partitions < 1) {
      return Status::InvalidArgument(
          "a changelog topic needs a name and at least one partition ('" + spec.name + "', " +
          std::to_string(spec.partitions) + ")");
    }
    if (!seen.insert(spec.name).second) {
      return Status::InvalidArgument("the changelog topic '" + spec.name + "' is listed twice");
    }
    names.push_back(spec.name);
  }
  if (names.empty()) return Status::Ok();

  SLUICE_ASSIGN_OR_RETURN(const auto facts, DescribeTopics(call, names));
  std::vector<const ChangelogTopicSpec*> missing;
  for (const ChangelogTopicSpec& spec : topics) {
    const TopicFacts& topic = facts.at(spec.name);
    if (!topic.exists) {
      missing.push_back(&spec);
      continue;
    }
    SLUICE_RETURN_IF_ERROR(Validate(call, spec, topic));
  }
  if (missing.empty()) return Status::Ok();

  std::vector<std::string> existing;
  SLUICE_RETURN_IF_ERROR(CreateTopics(call, missing, options, &existing));
  // Someone else created these between our two requests: they must be right too. The broker's
  // DescribeConfigs may not know a topic that a moment ago was reported to exist: asked again.
  while (!existing.empty()) {
    SLUICE_ASSIGN_OR_RETURN(const auto now, DescribeTopics(call, existing));
    std::vector<std::string> unseen;
    for (const std::string& name : existing) {
      const TopicFacts& topic = now.at(name);
      if (!topic.exists) {
        unseen.push_back(name);
        continue;
      }
      auto spec = std::find_if(topics.begin(), topics.end(),
                               [&](const ChangelogTopicSpec& s) { return s.name == name; });
      SLUICE_RETURN_IF_ERROR(Validate(call, *spec, topic));
    }
    if (!unseen.empty() && call.Expired()) {
      return call.NoAnswer("describing the concurrently created changelog topic '" +
                           unseen.front() + "'");
    }
    if (!unseen.empty())
      std::this_thread::sleep_for(milliseconds(std::min(call.RemainingMs(), 50)));
    existing = std::move(unseen);
  }
  return Status::Ok();
}

}  // namespace

namespace {

// Kafka topic names allow [A-Za-z0-9._-] only, and uids are free text ("Map#4" is a generated
// one). Every other byte, and '_' itself, becomes "_xx" (hex), so that distinct uids keep
// distinct topics.
void AppendTopicSafe(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || c == '.' || c == '-') {
      out += c;
    } else {
      out += '_';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
}

}  // namespace

std::string ChangelogTopicName(std::string_view transactional_id_prefix,
                               std::string_view operator_uid) {
  std::string name;
  AppendTopicSafe(transactional_id_prefix, name);
  name += '.';
  AppendTopicSafe(operator_uid, name);
  constexpr std::string_view kSuffix = ".changelog";
  // Kafka's limit is 249 characters: a longer name keeps its start and gets a stable hash of
  // the whole (FNV-1a, the same in every build) so that it stays distinct.
  constexpr size_t kMaxTopicName = 249;
  if (name.size() + kSuffix.size() > kMaxTopicName) {
    uint64_t hash = 14695981039346656037ull;
    for (const char c : name) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
    name.resize(kMaxTopicName - kSuffix.size() - 17);
    name += '-';
    name += hex;
  }
  name += kSuffix;
  return name;
}

bool CleanupPolicyCompacts(std::string_view policy) {
  while (!policy.empty()) {
    const size_t comma = policy.find(',');
    std::string_view item = policy.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "compact") return true;
    if (comma == std::string_view::npos) break;
    policy.remove_prefix(comma + 1);
  }
  return false;
}

Status EnsureChangelogTopics(rd_kafka_t* client, const std::vector<ChangelogTopicSpec>& topics,
                             const ChangelogTopicOptions& options) {
  AdminCall call(client, Clock::now() + options.timeout, options.timeout, nullptr);
  return Ensure(call, topics, options);
}

Status EnsureChangelogTopics(const std::map<std::string, std::string>& client_properties,
                             const std::vector<ChangelogTopicSpec>& topics,
                             const ChangelogTopicOptions& options) {
  // A plain producer: admin requests need no group, and it never produces.
  struct Refusals {
    std::mutex mutex;
    std::optional<ClientError> fatal;
  } refusals;
  std::map<std::string, std::string> properties = client_properties;
  properties.erase("transactional.id");
  properties.erase("group.id");
  properties["allow.auto.create.topics"] = "false";
  const ClientSecurity security = SecurityOf(properties);
  Result<ConfPtr> made = NewClientConf(properties, "changelog topics");
  if (!made.ok()) return made.status();
  ConfPtr conf = std::move(made).value();
  rd_kafka_conf_set_opaque(conf.get(), &refusals);
  rd_kafka_conf_set_error_cb(conf.get(),
                             [](rd_kafka_t* rk, int err, const char* reason, void* opaque) {
                               ClientError refused = ClientError::FromCallback(rk, err, reason);
                               if (!refused.fatal) return;
                               auto* self = static_cast<Refusals*>(opaque);
                               std::lock_guard lock(self->mutex);
                               self->fatal = std::move(refused);
                             });
  char error[512];
  rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof error);
  if (raw == nullptr) {
    return Status::InvalidArgument(std::string("changelog topics: cannot create a client: ") +
                                   error);
  }
  (void)conf.release();  // rd_kafka_new took it
  KafkaPtr client(raw);
  AdminCall call(client.get(), Clock::now() + options.timeout, options.timeout,
                 [&]() -> std::optional<Status> {
                   rd_kafka_poll(client.get(), 0);  // the error callback runs here
                   std::lock_guard lock(refusals.mutex);
                   if (!refusals.fatal) return std::nullopt;
                   return refusals.fatal->ToStatus(security);
                 });
  return Ensure(call, topics, options);
}

}  // namespace sluice::kafka::internal
