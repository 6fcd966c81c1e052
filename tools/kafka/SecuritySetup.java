// The broker's users and ACLs, set once by scripts/kafka after the broker first answers:
//   - SCRAM-SHA-256 and SCRAM-SHA-512 credentials for admin, alice and bob (the SCRAM listener);
//   - ACLs: alice may do everything on every topic, group and transactional id and on the
//     cluster; bob gets nothing (tests grant him exactly what a case needs, to see the refusal).
// admin, the broker (kafka) and ANONYMOUS (the PLAINTEXT listener, and SSL without a client
// certificate) are super users in server.properties, so they need no ACL.
//
// Run as a single-file source program: java -cp "libs/*" SecuritySetup.java PLAINTEXT [SCRAM]
// (talks to the PLAINTEXT listener; with the SCRAM listener's address it then logs in there as
// alice with both mechanisms). Every step is idempotent: credentials are upserted and an
// existing ACL binding is not an error, so running it again changes nothing.
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class SecuritySetup {
  public static void main(String[] args) throws Exception {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: SecuritySetup PLAINTEXT_BOOTSTRAP_SERVERS [SCRAM_BOOTSTRAP_SERVERS]");
      System.exit(2);
    }
    Map<String, Object> config = Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0],
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60000);
    try (Admin admin = Admin.create(config)) {
      String[][] credentials = {
          {"admin", "admin-secret"}, {"alice", "alice-secret"}, {"bob", "bob-secret"}};
      // One request per mechanism: the broker refuses two alterations of a user in one request.
      for (ScramMechanism mechanism :
          new ScramMechanism[] {ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512}) {
        List<UserScramCredentialAlteration> users = new ArrayList<>();
        for (String[] user : credentials) {
          users.add(new UserScramCredentialUpsertion(
              user[0], new ScramCredentialInfo(mechanism, 4096), user[1]));
        }
        admin.alterUserScramCredentials(users).all().get(60, TimeUnit.SECONDS);
      }

      List<AclBinding> acls = new ArrayList<>();
      AccessControlEntry aliceMayDoAll = new AccessControlEntry(
          "User:alice", "*", AclOperation.ALL, AclPermissionType.ALLOW);
      for (ResourceType type :
          new ResourceType[] {ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID}) {
        acls.add(new AclBinding(new ResourcePattern(type, "*", PatternType.LITERAL), aliceMayDoAll));
      }
      acls.add(new AclBinding(
          new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL),
          aliceMayDoAll));
      admin.createAcls(acls).all().get(60, TimeUnit.SECONDS);
    }
    // The SCRAM listener, checked with the Java client: librdkafka before 2.6.1 (Debian
    // bookworm's kcat included) cannot log in to a Kafka 4 broker with SCRAM (librdkafka#4895).
    if (args.length > 1) {
      for (String mechanism : new String[] {"SCRAM-SHA-256", "SCRAM-SHA-512"}) {
        Map<String, Object> scram = Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[1],
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30000,
            "security.protocol", "SASL_PLAINTEXT",
            "sasl.mechanism", mechanism,
            "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required"
                + " username=\"alice\" password=\"alice-secret\";");
        // The users created above reach the listener through the metadata log a moment later:
        // an authentication failure is retried for up to 30 s before it counts.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
          try (Admin admin = Admin.create(scram)) {
            admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
            break;
          } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.SaslAuthenticationException)
                || System.nanoTime() > deadline) {
              throw e;
            }
            Thread.sleep(500);
          }
        }
      }
    }
    System.out.println("SCRAM users admin, alice, bob; ACLs for alice; SCRAM logins checked");
  }
}
