// The process's Kerberos login: Flink's security.kerberos.login.keytab and
// security.kerberos.login.principal, which apply to every Kafka client of the job (Flink
// installs them once per process in its security module; so does sluice, from FromArgs).
//
// Thread safety: every function may be called from any thread; Install is meant for start-up
// (FromArgs), before the job creates Kafka clients, and a client made afterwards sees the new
// login. Errors: none; the flags are validated by ParseStandardFlags.
#pragma once

#include <optional>
#include <string>

namespace sluice::internal {

struct KerberosLogin {
  std::string keytab;     // path of the keytab file
  std::string principal;  // e.g. alice@SLUICE.TEST
};

/// Replaces the process's login (nullopt: none, the default).
void InstallKerberosLogin(std::optional<KerberosLogin> login);

/// The login installed last, if any.
std::optional<KerberosLogin> InstalledKerberosLogin();

}  // namespace sluice::internal
