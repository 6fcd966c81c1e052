// Grants or revokes a principal's ACLs on the transactional ids with a prefix, for tests:
// librdkafka before 2.2 cannot name that resource type in CreateAcls (its ResourceType ends at
// BROKER), so a test that needs a principal with a transactional-id ACL (bob, for an
// EXACTLY_ONCE sink that lacks one other permission) runs this with the broker's jars:
//
//   java -cp "$libs/*" TransactionalIdAcl.java PLAINTEXT_BOOTSTRAP add|remove PRINCIPAL PREFIX
//
// It talks to the PLAINTEXT listener (ANONYMOUS is a super user), allows or removes WRITE and
// DESCRIBE on the transactional ids starting with PREFIX, and after `add` waits until the
// broker's authorizer shows both (describeAcls is answered from it), so the caller's next
// request sees them. Exit status 0 on success; 1 with the reason on stderr otherwise.
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

public class TransactionalIdAcl {
  public static void main(String[] args) throws Exception {
    if (args.length != 4 || !(args[1].equals("add") || args[1].equals("remove"))) {
      System.err.println("usage: TransactionalIdAcl PLAINTEXT_BOOTSTRAP add|remove PRINCIPAL PREFIX");
      System.exit(2);
    }
    String principal = args[2];
    ResourcePattern ids = new ResourcePattern(ResourceType.TRANSACTIONAL_ID, args[3], PatternType.PREFIXED);
    List<AclBinding> acls = new ArrayList<>();
    for (AclOperation operation : new AclOperation[] {AclOperation.WRITE, AclOperation.DESCRIBE}) {
      acls.add(new AclBinding(ids, new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW)));
    }
    Map<String, Object> config = Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0],
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30000);
    try (Admin admin = Admin.create(config)) {
      if (args[1].equals("remove")) {
        List<AclBindingFilter> filters = new ArrayList<>();
        for (AclBinding acl : acls) filters.add(acl.toFilter());
        admin.deleteAcls(filters).all().get(30, TimeUnit.SECONDS);
        return;
      }
      admin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
      AclBindingFilter mine = new AclBindingFilter(
          new ResourcePatternFilter(ResourceType.TRANSACTIONAL_ID, args[3], PatternType.PREFIXED),
          new AccessControlEntryFilter(principal, null, AclOperation.ANY, AclPermissionType.ALLOW));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (admin.describeAcls(mine).values().get(30, TimeUnit.SECONDS).size() < acls.size()) {
        if (System.nanoTime() > deadline) {
          System.err.println("the broker never showed the new ACLs");
          System.exit(1);
        }
        Thread.sleep(50);  // the broker's authorizer follows the metadata log
      }
    }
  }
}
