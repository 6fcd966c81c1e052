// ClientProperties: what every Kafka client sluice makes gets on top of the user's properties
// (the ticket cache for the seed's Kerberos properties, the job's keytab login).
#include "connectors/kafka/client_properties.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "api/kerberos_login.h"

namespace sluice::kafka::internal {
namespace {

using Map = std::map<std::string, std::string>;

class ClientPropertiesTest : public ::testing::Test {
 protected:
  void TearDown() override { sluice::internal::InstallKerberosLogin(std::nullopt); }
};

const Map kSeed = {{"bootstrap.servers", "broker:21007"},
                   {"security.protocol", "SASL_PLAINTEXT"},
                   {"sasl.kerberos.service.name", "kafka"}};

TEST_F(ClientPropertiesTest, TheSeedsTwoPropertiesUseTheTicketCache) {
  Map expected = kSeed;
  expected["sasl.kerberos.min.time.before.relogin"] = "0";
  EXPECT_EQ(ClientProperties(kSeed), expected);
}

TEST_F(ClientPropertiesTest, AnExplicitMechanismOrProtocolSpellingIsStillKerberos) {
  Map lower = {{"security.protocol", "sasl_ssl"}, {"sasl.mechanisms", "gssapi"}};
  EXPECT_EQ(ClientProperties(lower).count("sasl.kerberos.min.time.before.relogin"), 1u);
  Map alias = {{"security.protocol", "SASL_PLAINTEXT"}, {"sasl.mechanism", "GSSAPI"}};
  EXPECT_EQ(ClientProperties(alias).count("sasl.kerberos.min.time.before.relogin"), 1u);
}

TEST_F(ClientPropertiesTest, OtherClientsAreLeftAlone) {
  sluice::internal::InstallKerberosLogin(
      sluice::internal::KerberosLogin{"/etc/alice.keytab", "alice@SLUICE.TEST"});
  for (const Map& properties :
       {Map{{"bootstrap.servers", "b:9092"}},
        Map{{"security.protocol", "SASL_PLAINTEXT"}, {"sasl.mechanism", "PLAIN"}},
        Map{{"security.protocol", "SASL_SSL"}, {"sasl.mechanisms", "SCRAM-SHA-512"}},
        Map{{"security.protocol", "SSL"}}}) {
    EXPECT_EQ(ClientProperties(properties), properties);
  }
}

TEST_F(ClientPropertiesTest, TheJobsKeytabLoginAppliesToKerberosClients) {
  sluice::internal::InstallKerberosLogin(
      sluice::internal::KerberosLogin{"/etc/alice.keytab", "alice@SLUICE.TEST"});
  Map expected = kSeed;
  expected["sasl.kerberos.keytab"] = "/etc/alice.keytab";
  expected["sasl.kerberos.principal"] = "alice@SLUICE.TEST";
  // librdkafka's own kinit renews the ticket: relogin stays at its default.
  EXPECT_EQ(ClientProperties(kSeed), expected);
}

TEST_F(ClientPropertiesTest, AClientsOwnKerberosSettingsWin) {
  sluice::internal::InstallKerberosLogin(
      sluice::internal::KerberosLogin{"/etc/alice.keytab", "alice@SLUICE.TEST"});
  Map own = kSeed;
  own["sasl.kerberos.keytab"] = "/etc/bob.keytab";
  own["sasl.kerberos.principal"] = "bob@SLUICE.TEST";
  EXPECT_EQ(ClientProperties(own), own);

  sluice::internal::InstallKerberosLogin(std::nullopt);
  Map relogin = kSeed;
  relogin["sasl.kerberos.min.time.before.relogin"] = "30000";
  EXPECT_EQ(ClientProperties(relogin), relogin);
  Map kinit = kSeed;
  kinit["sasl.kerberos.kinit.cmd"] = "/usr/local/bin/renew-ticket";
  EXPECT_EQ(ClientProperties(kinit), kinit);
}

TEST_F(ClientPropertiesTest, SecretsAreShownAsStars) {
  for (const char* key :
       {"sasl.password", "ssl.key.password", "ssl.keystore.password",
        "sasl.oauthbearer.client.secret", "sasl.kerberos.keytab", "ssl.key.pem"}) {
    EXPECT_EQ(ShownValue(key, "hunter2"), "***") << key;
  }
  EXPECT_EQ(ShownValue("sasl.username", "alice"), "alice");
  EXPECT_EQ(ShownValue("security.protocol", "SSL"), "SSL");
}

}  // namespace
}  // namespace sluice::kafka::internal
