#include "connectors/kafka/client_properties.h"

#include <algorithm>
#include <deque>
#include <mutex>
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

std::string ClientSecurity::AclPrincipal() const {
  if (!mechanism.empty()) {
    if (UsesKerberos()) {
      if (kerberos_principal.empty()) return "the principal of the Kerberos ticket (klist)";
      // Kafka's default sasl.kerberos.principal.to.local.rules: the first component.
      const std::string name = kerberos_principal.substr(0, kerberos_principal.find_first_of("/@"));
      return "User:" + name;
    }
    if (!username.empty()) return "User:" + username;
    return "the client's SASL principal";
  }
  if (UsesTls() && !certificate_location.empty()) {
    return "the principal of the client certificate ssl.certificate.location=" +
           certificate_location +
           " (its subject, as the listener's ssl.principal.mapping.rules "
           "map it)";
  }
  return "User:ANONYMOUS";
}

ClientSecurity SecurityOf(const std::map<std::string, std::string>& properties) {
  const std::map<std::string, std::string> effective = ClientProperties(properties);
  auto value = [&](const std::string& key) { return Get(effective, key).value_or(std::string()); };
  ClientSecurity security;
  security.bootstrap_servers = value("bootstrap.servers");
  security.protocol = Upper(Get(effective, "security.protocol").value_or("PLAINTEXT"));
  if (security.protocol == "SASL_PLAINTEXT" || security.protocol == "SASL_SSL") {
    std::optional<std::string> mechanism = Get(effective, "sasl.mechanisms");
    if (!mechanism) mechanism = Get(effective, "sasl.mechanism");
    security.mechanism = Upper(mechanism.value_or("GSSAPI"));
  }
  security.username = value("sasl.username");
  security.kerberos_principal = value("sasl.kerberos.principal");
  security.keytab = value("sasl.kerberos.keytab");
  if (!security.keytab.empty()) {
    security.keytab_setting = properties.count("sasl.kerberos.keytab") != 0
                                  ? "sasl.kerberos.keytab"
                                  : "--security.kerberos.login.keytab";
  }
  security.ca_location = value("ssl.ca.location");
  security.certificate_location = value("ssl.certificate.location");
  return security;
}

namespace {

// Why broker certificates failed, per client (rd_kafka_name: librdkafka numbers its clients
// process-wide, so a name is never reused). Written by librdkafka's broker threads during a
// handshake, read by the thread that builds the client's error. Bounded: only failures add.
class CertificateFailures {
 public:
  static CertificateFailures& Instance() {
    static CertificateFailures* failures = new CertificateFailures();  // never destroyed
    return *failures;
  }
  void Record(std::string client, std::string failure) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = by_client_.insert_or_assign(client, std::move(failure));
    if (inserted) order_.push_back(std::move(client));
    while (order_.size() > kMaxClients) {
      by_client_.erase(order_.front());
      order_.pop_front();
    }
  }
  std::string Get(const std::string& client) const {
    std::lock_guard lock(mutex_);
    auto it = by_client_.find(client);
    return it == by_client_.end() ? std::string() : it->second;
  }

 private:
  static constexpr size_t kMaxClients = 256;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> by_client_;
  std::deque<std::string> order_;
};

// librdkafka's ssl.certificate.verify_cb: keeps OpenSSL's verdict (a certificate passes exactly
// when OpenSSL found no error), and remembers the reason of a failure.
int OnVerifyCertificate(rd_kafka_t* rk, const char* broker_name, int32_t /*broker_id*/,
                        int* x509_error, int depth, const char* /*buf*/, size_t /*size*/,
                        char* errstr, size_t errstr_size, void* /*opaque*/) {
  if (*x509_error == 0) return 1;
  std::string failure =
      DescribeCertificateFailure(broker_name != nullptr ? broker_name : "?", *x509_error, depth);
  // librdkafka logs errstr with the certificate's subject and issuer.
  if (errstr_size > 0) {
    const size_t n = std::min(errstr_size - 1, failure.size());
    failure.copy(errstr, n);
    errstr[n] = '\0';
  }
  CertificateFailures::Instance().Record(rd_kafka_name(rk), std::move(failure));
  return 0;
}

}  // namespace

std::string DescribeCertificateFailure(std::string_view broker, int x509_error, int depth) {
  // OpenSSL's X509_V_ERR_* numbers (part of its ABI); sluice does not link OpenSSL itself.
  std::string reason;
  switch (x509_error) {
    case 62:  // X509_V_ERR_HOSTNAME_MISMATCH
    case 64:  // X509_V_ERR_IP_ADDRESS_MISMATCH
      reason = "does not name the host this client connected to";
      break;
    case 2:   // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
    case 18:  // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    case 19:  // X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
    case 20:  // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    case 21:  // X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
    case 24:  // X509_V_ERR_INVALID_CA
    case 27:  // X509_V_ERR_CERT_UNTRUSTED
      reason = "is not trusted: no CA this client trusts signed it";
      break;
    case 9:  // X509_V_ERR_CERT_NOT_YET_VALID
      reason = "is not valid yet";
      break;
    case 10:  // X509_V_ERR_CERT_HAS_EXPIRED
      reason = "has expired";
      break;
    case 23:  // X509_V_ERR_CERT_REVOKED
      reason = "is revoked";
      break;
    default:
      reason = "failed the check";
      break;
  }
  static const std::map<int, std::string_view> kNames = {
      {2, "unable to get issuer certificate"},
      {9, "certificate is not yet valid"},
      {10, "certificate has expired"},
      {18, "self-signed certificate"},
      {19, "self-signed certificate in certificate chain"},
      {20, "unable to get local issuer certificate"},
      {21, "unable to verify the first certificate"},
      {23, "certificate revoked"},
      {24, "invalid CA certificate"},
      {27, "certificate not trusted"},
      {62, "hostname mismatch"},
      {64, "IP address mismatch"}};
  std::string message = depth == 0 ? "the certificate of " : "a CA certificate in the chain of ";
  message.append(broker).append(" ").append(reason).append(" (X509 error ");
  message += std::to_string(x509_error);
  if (auto it = kNames.find(x509_error); it != kNames.end())
    message.append(": ").append(it->second);
  message += ")";
  return message;
}

std::string CertificateFailure(const rd_kafka_t* rk) {
  return CertificateFailures::Instance().Get(rd_kafka_name(rk));
}

Result<ConfPtr> NewClientConf(const std::map<std::string, std::string>& properties,
                              std::string_view who) {
  ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  const std::map<std::string, std::string> effective = ClientProperties(properties);
  for (const auto& [key, value] : effective) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      std::string message(who);
      message.append(": librdkafka refused property ")
          .append(key)
          .append("=")
          .append(ShownValue(key, value))
          .append(": ")
          .append(error);
      return Status::InvalidArgument(std::move(message));
    }
  }
  const std::string protocol = Upper(Get(effective, "security.protocol").value_or("PLAINTEXT"));
  if (protocol == "SSL" || protocol == "SASL_SSL") {
    if (rd_kafka_conf_set_ssl_cert_verify_cb(conf.get(), &OnVerifyCertificate) !=
        RD_KAFKA_CONF_OK) {
      // A librdkafka built without OpenSSL refused security.protocol above already.
      return Status::Internal(std::string(who) +
                              ": librdkafka refused the certificate verification callback");
    }
  }
  return conf;
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
