#include "checkpoint/checkpoint_metadata.h"

#include <limits>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sluice::internal {
namespace {

using Json = nlohmann::json;
// ordered_json keeps keys in insertion order, so "format_version" comes first and the file
// reads top-down like the struct.
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kCompleted = "COMPLETED";
constexpr std::string_view kCommitted = "COMMITTED";

// Reads fields out of parsed JSON, remembering the first problem instead of stopping at it, so
// the decoder below reads as a straight list of fields; after a failure every getter returns a
// default value and the caller returns status(). Paths look like "operators[1].subtasks[0].size".
class FieldReader {
 public:
  bool failed() const { return !error_.ok(); }
  const Status& status() const { return error_; }

  void Fail(std::string message) {
    if (!failed()) error_ = Status::Corruption("checkpoint metadata: " + std::move(message));
  }

  static std::string Path(std::string_view parent, std::string_view key) {
    return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
  }

  // The member `key` of `object`, or nullptr (and a recorded failure) if it is absent.
  const Json* Get(const Json& object, std::string_view key, std::string_view parent) {
    if (failed()) return nullptr;
    auto it = object.find(key);
    if (it == object.end()) {
      Fail(fmt::format("field '{}' is missing", Path(parent, key)));
      return nullptr;
    }
    return &*it;
  }

  const Json* GetTyped(const Json& object, std::string_view key, std::string_view parent,
                       bool (Json::*is_type)() const noexcept, std::string_view expected) {
    const Json* value = Get(object, key, parent);
    if (value == nullptr) return nullptr;
    if (!((*value).*is_type)()) {
      Fail(fmt::format("field '{}' is {}, expected {}", Path(parent, key), TypeName(*value),
                       expected));
      return nullptr;
    }
    return value;
  }

  std::int64_t Int(const Json& object, std::string_view key, std::string_view parent,
                   std::int64_t min, std::int64_t max) {
    const Json* value = GetTyped(object, key, parent, &Json::is_number_integer, "an integer");
    if (value == nullptr) return 0;
    bool in_range;
    std::int64_t result = 0;
    if (value->is_number_unsigned()) {
      auto u = value->get<std::uint64_t>();
      in_range = u <= static_cast<std::uint64_t>(max);
      result = in_range ? static_cast<std::int64_t>(u) : 0;
    } else {
      result = value->get<std::int64_t>();
      in_range = result >= min && result <= max;
    }
    if (!in_range) {
      Fail(fmt::format("field '{}' = {} is out of range [{}, {}]", Path(parent, key), value->dump(),
                       min, max));
      return 0;
    }
    return result;
  }

  std::int64_t Int64(const Json& object, std::string_view key, std::string_view parent) {
    return Int(object, key, parent, std::numeric_limits<std::int64_t>::min(),
               std::numeric_limits<std::int64_t>::max());
  }

  std::int32_t Int32(const Json& object, std::string_view key, std::string_view parent) {
    return static_cast<std::int32_t>(Int(object, key, parent,
                                         std::numeric_limits<std::int32_t>::min(),
                                         std::numeric_limits<std::int32_t>::max()));
  }

  std::uint64_t Uint(const Json& object, std::string_view key, std::string_view parent,
                     std::uint64_t max) {
    const Json* value = Get(object, key, parent);
    if (value == nullptr) return 0;
    return UintValue(*value, Path(parent, key), max);
  }

  std::uint64_t UintValue(const Json& value, const std::string& path, std::uint64_t max) {
    if (failed()) return 0;
    // nlohmann parses every non-negative integer as unsigned, so this also rejects negatives.
    if (!value.is_number_unsigned()) {
      Fail(fmt::format("field '{}' is {}, expected a non-negative integer", path,
                       value.is_number_integer() ? "negative" : TypeName(value)));
      return 0;
    }
    auto u = value.get<std::uint64_t>();
    if (u > max) {
      Fail(fmt::format("field '{}' = {} is out of range [0, {}]", path, u, max));
      return 0;
    }
    return u;
  }

  bool Bool(const Json& object, std::string_view key, std::string_view parent) {
    const Json* value = GetTyped(object, key, parent, &Json::is_boolean, "a boolean");
    return value != nullptr && value->get<bool>();
  }

  std::string String(const Json& object, std::string_view key, std::string_view parent) {
    const Json* value = GetTyped(object, key, parent, &Json::is_string, "a string");
    return value == nullptr ? std::string() : value->get<std::string>();
  }

  // An empty array stands in for a missing one so loops over it simply do nothing.
  const Json& Array(const Json& object, std::string_view key, std::string_view parent) {
    const Json* value = GetTyped(object, key, parent, &Json::is_array, "an array");
    return value == nullptr ? EmptyArray() : *value;
  }

  const Json& Object(const Json& object, std::string_view key, std::string_view parent) {
    const Json* value = GetTyped(object, key, parent, &Json::is_object, "an object");
    return value == nullptr ? EmptyObject() : *value;
  }

  // Checks that an array element is an object before fields are read out of it.
  bool ExpectObject(const Json& value, const std::string& path) {
    if (failed()) return false;
    if (!value.is_object()) {
      Fail(fmt::format("'{}' is {}, expected an object", path, TypeName(value)));
      return false;
    }
    return true;
  }

 private:
  static std::string TypeName(const Json& value) {
    if (value.is_number_float()) return "a floating-point number";
    if (value.is_null()) return "null";
    std::string_view name = value.type_name();
    return fmt::format("{} {}", name == "array" || name == "object" ? "an" : "a", name);
  }

  static const Json& EmptyArray() {
    static const Json kEmpty = Json::array();
    return kEmpty;
  }
  static const Json& EmptyObject() {
    static const Json kEmpty = Json::object();
    return kEmpty;
  }

  Status error_;
};

OrderedJson EncodeSubtask(const SubtaskStateMeta& subtask) {
  OrderedJson out;
  out["subtask"] = subtask.subtask;
  out["file"] = subtask.file;
  out["size"] = subtask.size;
  out["crc32c"] = subtask.crc32c;
  if (subtask.key_groups) {
    out["key_groups"] = {{"start", subtask.key_groups->start}, {"end", subtask.key_groups->end}};
  } else {
    out["key_groups"] = nullptr;
  }
  out["key_group_offsets"] = subtask.key_group_offsets;
  return out;
}

SubtaskStateMeta DecodeSubtask(FieldReader& reader, const Json& in, const std::string& path) {
  SubtaskStateMeta subtask;
  if (!reader.ExpectObject(in, path)) return subtask;
  subtask.subtask = reader.Int32(in, "subtask", path);
  subtask.file = reader.String(in, "file", path);
  subtask.size = reader.Uint(in, "size", path, std::numeric_limits<std::uint64_t>::max());
  subtask.crc32c = static_cast<std::uint32_t>(
      reader.Uint(in, "crc32c", path, std::numeric_limits<std::uint32_t>::max()));
  if (const Json* key_groups = reader.Get(in, "key_groups", path);
      key_groups != nullptr && !key_groups->is_null()) {
    std::string range_path = FieldReader::Path(path, "key_groups");
    if (reader.ExpectObject(*key_groups, range_path)) {
      KeyGroupRangeMeta range;
      range.start = reader.Int32(*key_groups, "start", range_path);
      range.end = reader.Int32(*key_groups, "end", range_path);
      subtask.key_groups = range;
    }
  }
  const Json& offsets = reader.Array(in, "key_group_offsets", path);
  std::string offsets_path = FieldReader::Path(path, "key_group_offsets");
  for (std::size_t i = 0; i < offsets.size() && !reader.failed(); ++i) {
    subtask.key_group_offsets.push_back(
        reader.UintValue(offsets[i], fmt::format("{}[{}]", offsets_path, i),
                         std::numeric_limits<std::uint64_t>::max()));
  }
  if (reader.failed()) return subtask;

  // Consistency a reader relies on; a violation means the file is not what a writer produced.
  if (!IsSafeStateFileName(subtask.file)) {
    reader.Fail(
        fmt::format("field '{}' = \"{}\" is not a plain file name inside the snapshot "
                    "directory",
                    FieldReader::Path(path, "file"), subtask.file));
  } else if (subtask.file.empty() && subtask.size != 0) {
    reader.Fail(fmt::format("field '{}' is {} but '{}' names no file",
                            FieldReader::Path(path, "size"), subtask.size,
                            FieldReader::Path(path, "file")));
  } else if (subtask.key_groups) {
    const KeyGroupRangeMeta& range = *subtask.key_groups;
    if (range.start < 0 || range.end < range.start - 1) {
      reader.Fail(fmt::format("field '{}' = [{}, {}] is not a key-group range",
                              FieldReader::Path(path, "key_groups"), range.start, range.end));
      return subtask;
    }
    auto groups = static_cast<std::size_t>(std::int64_t{range.end} - range.start + 1);
    if (!subtask.key_group_offsets.empty() && subtask.key_group_offsets.size() != groups) {
      reader.Fail(fmt::format("field '{}' has {} entries for {} key groups", offsets_path,
                              subtask.key_group_offsets.size(), groups));
      return subtask;
    }
    std::uint64_t previous = 0;
    for (std::size_t i = 0; i < subtask.key_group_offsets.size(); ++i) {
      std::uint64_t offset = subtask.key_group_offsets[i];
      if (offset < previous || offset > subtask.size) {
        reader.Fail(fmt::format("field '{}[{}]' = {} is not within the file ({} bytes) in order",
                                offsets_path, i, offset, subtask.size));
        return subtask;
      }
      previous = offset;
    }
  } else if (!subtask.key_group_offsets.empty()) {
    reader.Fail(fmt::format("field '{}' is not empty but '{}' is null", offsets_path,
                            FieldReader::Path(path, "key_groups")));
  }
  return subtask;
}

}  // namespace

std::string_view MetadataStatusName(CheckpointMetadata::Status status) {
  return status == CheckpointMetadata::Status::kCommitted ? kCommitted : kCompleted;
}

bool IsSafeStateFileName(std::string_view file) {
  if (file.empty()) return true;
  if (file == "." || file == "..") return false;
  return file.find('/') == std::string_view::npos && file.find('\0') == std::string_view::npos;
}

std::string EncodeMetadata(const CheckpointMetadata& metadata) {
  OrderedJson out;
  out["format_version"] = metadata.format_version;
  out["checkpoint_id"] = metadata.checkpoint_id;
  out["job_name"] = metadata.job_name;
  out["instance"] = metadata.instance;
  out["is_savepoint"] = metadata.is_savepoint;
  out["status"] = MetadataStatusName(metadata.status);
  out["trigger_time_ms"] = metadata.trigger_time_ms;
  out["completion_time_ms"] = metadata.completion_time_ms;
  out["properties"] = OrderedJson::object();
  for (const auto& [key, value] : metadata.properties) out["properties"][key] = value;
  out["operators"] = OrderedJson::array();
  for (const OperatorStateMeta& op : metadata.operators) {
    OrderedJson op_json;
    op_json["uid"] = op.uid;
    op_json["name"] = op.name;
    op_json["parallelism"] = op.parallelism;
    op_json["max_parallelism"] = op.max_parallelism;
    op_json["subtasks"] = OrderedJson::array();
    for (const SubtaskStateMeta& subtask : op.subtasks) {
      op_json["subtasks"].push_back(EncodeSubtask(subtask));
    }
    out["operators"].push_back(std::move(op_json));
  }
  // `replace` instead of throwing on a string that is not UTF-8 (a user-chosen job name or
  // uid): such bytes become U+FFFD. sluice's own names are ASCII.
  std::string text = out.dump(2, ' ', false, OrderedJson::error_handler_t::replace);
  text.push_back('\n');
  return text;
}

Result<CheckpointMetadata> DecodeMetadata(std::string_view bytes) {
  Json in;
  try {
    in = Json::parse(bytes);
  } catch (const Json::parse_error& e) {
    // e.what() gives the byte position; useful when someone edited the file by hand.
    return Status::Corruption(fmt::format("checkpoint metadata is not valid JSON ({} bytes): {}",
                                          bytes.size(), e.what()));
  }
  FieldReader reader;
  if (!in.is_object()) {
    reader.Fail("the top level is not a JSON object");
    return reader.status();
  }

  // The version decides how to read everything else, so it is checked before any other field.
  auto version = reader.Uint(in, "format_version", "", std::numeric_limits<std::uint32_t>::max());
  if (reader.failed()) return reader.status();
  if (version > kCheckpointMetadataVersion) {
    return Status::FailedPrecondition(fmt::format(
        "checkpoint metadata has format_version {}, newer than this build of sluice reads "
        "(format_version {}); restore it with the sluice version that wrote it or a newer one",
        version, kCheckpointMetadataVersion));
  }
  if (version != kCheckpointMetadataVersion) {
    return Status::Corruption(
        fmt::format("checkpoint metadata has unknown format_version {}; this build of sluice reads "
                    "format_version {}",
                    version, kCheckpointMetadataVersion));
  }

  CheckpointMetadata metadata;
  metadata.format_version = static_cast<std::uint32_t>(version);
  metadata.checkpoint_id = reader.Int64(in, "checkpoint_id", "");
  metadata.job_name = reader.String(in, "job_name", "");
  metadata.instance = reader.Int32(in, "instance", "");
  metadata.is_savepoint = reader.Bool(in, "is_savepoint", "");
  std::string status = reader.String(in, "status", "");
  if (!reader.failed()) {
    if (status == kCompleted) {
      metadata.status = CheckpointMetadata::Status::kCompleted;
    } else if (status == kCommitted) {
      metadata.status = CheckpointMetadata::Status::kCommitted;
    } else {
      reader.Fail(fmt::format("field 'status' = \"{}\" is neither \"{}\" nor \"{}\"", status,
                              kCompleted, kCommitted));
    }
  }
  metadata.trigger_time_ms = reader.Int64(in, "trigger_time_ms", "");
  metadata.completion_time_ms = reader.Int64(in, "completion_time_ms", "");

  const Json& properties = reader.Object(in, "properties", "");
  for (auto it = properties.begin(); it != properties.end() && !reader.failed(); ++it) {
    if (!it.value().is_string()) {
      reader.Fail(fmt::format("field 'properties.{}' is not a string", it.key()));
      break;
    }
    metadata.properties.emplace(it.key(), it.value().get<std::string>());
  }

  const Json& operators = reader.Array(in, "operators", "");
  for (std::size_t i = 0; i < operators.size() && !reader.failed(); ++i) {
    std::string path = fmt::format("operators[{}]", i);
    const Json& op_json = operators[i];
    if (!reader.ExpectObject(op_json, path)) break;
    OperatorStateMeta op;
    op.uid = reader.String(op_json, "uid", path);
    op.name = reader.String(op_json, "name", path);
    op.parallelism = reader.Int32(op_json, "parallelism", path);
    op.max_parallelism = reader.Int32(op_json, "max_parallelism", path);
    const Json& subtasks = reader.Array(op_json, "subtasks", path);
    for (std::size_t s = 0; s < subtasks.size() && !reader.failed(); ++s) {
      op.subtasks.push_back(
          DecodeSubtask(reader, subtasks[s], fmt::format("{}.subtasks[{}]", path, s)));
    }
    metadata.operators.push_back(std::move(op));
  }
  if (reader.failed()) return reader.status();
  return metadata;
}

}  // namespace sluice::internal
