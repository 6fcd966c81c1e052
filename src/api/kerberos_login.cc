#include "api/kerberos_login.h"

#include <utility>

#include "core/mutex.h"

namespace sluice::internal {
namespace {

Mutex& LoginMutex() {
  static Mutex mutex;
  return mutex;
}

// Guarded by LoginMutex(); a function-local static so that it exists before any caller.
std::optional<KerberosLogin>& Login() {
  static std::optional<KerberosLogin> login;
  return login;
}

}  // namespace

void InstallKerberosLogin(std::optional<KerberosLogin> login) {
  MutexLock lock(LoginMutex());
  Login() = std::move(login);
}

std::optional<KerberosLogin> InstalledKerberosLogin() {
  MutexLock lock(LoginMutex());
  return Login();
}

}  // namespace sluice::internal
