// The librdkafka properties of every Kafka client sluice makes (source consumers, sink
// producers, the transactional pair, changelog and dead-letter producers, `sluice txn abort`):
// the user's properties plus the job's Kerberos login. One place, so that every client of a
// job authenticates the same way.
//
// Thread safety: pure apart from reading the process's Kerberos login (api/kerberos_login.h),
// which is safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

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

/// True for the properties whose values are secrets or say where one lives: passwords, client
/// secrets, private keys, the Kerberos keytab, the OAUTHBEARER configuration.
bool IsSecretProperty(std::string_view key);

/// `value`, or "***" when `key` IsSecretProperty: what a message or a log may show of it.
std::string ShownValue(std::string_view key, std::string_view value);

}  // namespace sluice::kafka::internal
