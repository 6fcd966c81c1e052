#include "connectors/kafka/client_properties.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "api/kerberos_login.h"

namespace sluice::kafka::internal {
namespace {

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  });
  return text;
}

std::optional<std::string> Get(const std::map<std::string, std::string>& properties,
                               const std::string& key) {
  auto it = properties.find(key);
  if (it == properties.end()) return std::nullopt;
  return it->second;
}

bool IsKerberosClient(const std::map<std::string, std::string>& properties) {
  const std::string protocol = Upper(Get(properties, "security.protocol").value_or("PLAINTEXT"));
  if (protocol != "SASL_PLAINTEXT" && protocol != "SASL_SSL") return false;
  // sasl.mechanism is librdkafka's alias of sasl.mechanisms; GSSAPI is the default of both.
  std::optional<std::string> mechanism = Get(properties, "sasl.mechanisms");
  if (!mechanism) mechanism = Get(properties, "sasl.mechanism");
  return !mechanism || Upper(*mechanism) == "GSSAPI";
}

}  // namespace

std::map<std::string, std::string> ClientProperties(std::map<std::string, std::string> properties) {
  if (!IsKerberosClient(properties)) return properties;
  if (properties.count("sasl.kerberos.keytab") == 0) {
    if (std::optional<sluice::internal::KerberosLogin> login =
            sluice::internal::InstalledKerberosLogin()) {
      properties["sasl.kerberos.keytab"] = login->keytab;
      // The login's principal goes with its keytab, over a principal set for the ticket cache.
      properties["sasl.kerberos.principal"] = login->principal;
    }
  }
  if (properties.count("sasl.kerberos.keytab") == 0 &&
      properties.count("sasl.kerberos.kinit.cmd") == 0) {
    // No keytab: the ticket comes from the user's cache, renewed (or not) outside the job.
    // Relogin 0 turns librdkafka's kinit off, and with it the check of its command line.
    properties.emplace("sasl.kerberos.min.time.before.relogin", "0");
  }
  return properties;
}

bool IsSecretProperty(std::string_view key) {
  return key.find("password") != std::string_view::npos ||
         key.find("secret") != std::string_view::npos || key == "sasl.kerberos.keytab" ||
         key == "ssl.key.pem" || key == "ssl_key" || key == "sasl.oauthbearer.config" ||
         key == "sasl.jaas.config";
}

std::string ShownValue(std::string_view key, std::string_view value) {
  return IsSecretProperty(key) ? "***" : std::string(value);
}

}  // namespace sluice::kafka::internal
