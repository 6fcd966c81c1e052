// The librdkafka properties of every Kafka client sluice makes (source consumers, sink
// producers, the transactional pair, changelog and dead-letter producers, `sluice txn abort`):
// the user's properties plus the job's Kerberos login. One place, so that every client of a
// job authenticates the same way.
//
// Also what those properties say about how a client authenticates (ClientSecurity), for the
// messages of refused logins and missing ACLs (kafka_error.h), and the librdkafka configuration
// every client is made from (NewClientConf), which remembers why a broker's TLS certificate
// failed the check (CertificateFailure): librdkafka's own error says only "certificate verify
// failed", whatever the reason.
//
// Thread safety: pure apart from reading the process's Kerberos login (api/kerberos_login.h)
// and the table of certificate failures (a mutex), both safe from any thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <string>
#include <string_view>

#include <sluice/status.h>

#include "connectors/kafka/rdkafka_handles.h"

namespace sluice::kafka::internal {

/// `properties` as librdkafka must get them. Only a Kerberos client (security.protocol
/// SASL_PLAINTEXT or SASL_SSL with sasl.mechanism(s) GSSAPI or unset, librdkafka's default) is
/// changed:
///   - without its own sasl.kerberos.keytab, it gets the job's login
///     (--security.kerberos.login.keytab / .principal) when one is installed; librdkafka then
///     runs kinit with the keytab and renews the ticket every
///     sasl.kerberos.min.time.before.relogin (60 s by default);
///   - still without a keytab, it uses the ticket cache that the user's kinit filled
///     (KRB5CCNAME): sasl.kerberos.min.time.before.relogin=0, unless the user set it or
///     sasl.kerberos.kinit.cmd. librdkafka's default kinit command needs a keytab, and it
///     refuses to create a client whose command it cannot fill in ("Invalid
///     sasl.kerberos.kinit.cmd value: Property not available: sasl.kerberos.keytab"): that is
///     why the seed's security.protocol and sasl.kerberos.service.name alone did not work.
/// Every other client's properties come back unchanged.
std::map<std::string, std::string> ClientProperties(std::map<std::string, std::string> properties);

/// How a client authenticates, read from the properties librdkafka gets (ClientProperties'
/// result): what a message about a refused login names, and which fix it offers.
struct ClientSecurity {
  std::string bootstrap_servers;
  std::string protocol = "PLAINTEXT";  // security.protocol, upper case
  /// The SASL mechanism, upper case (GSSAPI, librdkafka's default, when unset); empty without
  /// SASL.
  std::string mechanism;
  std::string username;            // sasl.username
  std::string kerberos_principal;  // sasl.kerberos.principal
  std::string keytab;              // sasl.kerberos.keytab
  /// Where the keytab was set: "sasl.kerberos.keytab", or "--security.kerberos.login.keytab"
  /// when it is the job's login.
  std::string keytab_setting;
  std::string ca_location;           // ssl.ca.location
  std::string certificate_location;  // ssl.certificate.location

  bool UsesTls() const { return protocol == "SSL" || protocol == "SASL_SSL"; }
  bool UsesKerberos() const { return mechanism == "GSSAPI"; }
  /// The principal the broker's ACLs name, e.g. "User:alice" (sasl.username; the first part of
  /// a Kerberos principal, as the broker's default mapping rule makes it), or a description
  /// when only the broker knows it (a client certificate's subject, a ticket cache's owner).
  std::string AclPrincipal() const;
};

/// `properties` (the user's; ClientProperties is applied here) as a ClientSecurity.
ClientSecurity SecurityOf(const std::map<std::string, std::string>& properties);

/// The librdkafka configuration of a client sluice makes: ClientProperties(properties), every
/// one checked by librdkafka. kInvalidArgument "<who>: librdkafka refused property <key>=<value>:
/// <reason>" (a secret's value is not shown) when one is refused. A TLS client also gets a
/// certificate check that leaves OpenSSL's verdict alone but remembers why it failed
/// (CertificateFailure). The conf's opaque is the caller's to set.
Result<ConfPtr> NewClientConf(const std::map<std::string, std::string>& properties,
                              std::string_view who);

/// Why the last TLS handshake of client `rk` (made from a NewClientConf) failed the check of
/// the broker's certificate, e.g. "the certificate of localhost:19097 does not name the host
/// this client connected to (X509 error 62: hostname mismatch)"; empty when none failed.
std::string CertificateFailure(const rd_kafka_t* rk);

/// The reason for OpenSSL's X509 verification error `x509_error` (X509_V_ERR_*) at certificate
/// `depth` of the chain that `broker` ("host:port") presented, in words: the message
/// CertificateFailure returns. Pure; exposed for tests.
std::string DescribeCertificateFailure(std::string_view broker, int x509_error, int depth);

/// True for the properties whose values are secrets or say where one lives: passwords, client
/// secrets, private keys, the Kerberos keytab, the OAUTHBEARER configuration.
bool IsSecretProperty(std::string_view key);

/// `value`, or "***" when `key` IsSecretProperty: what a message or a log may show of it.
std::string ShownValue(std::string_view key, std::string_view value);

}  // namespace sluice::kafka::internal
