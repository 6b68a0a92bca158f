// Grants Kafka ACLs through the Admin API of the broker's own kafka-clients jar.
// The JavaScript client has no ACL admin call, and Kafka's ACL command line tool lives in kafka-tools,
// which drags Kafka Connect onto the classpath; a dozen lines of Java keep the broker's classpath enough.
// Run as a single-file program:  java -cp 'scripts/local-kafka/lib/*' scripts/local-kafka/Acls.java <bootstrap> grant-all <User:name>
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public class Acls {
  public static void main(String[] args) throws Exception {
    if (args.length != 3 || !args[1].equals("grant-all") || !args[2].startsWith("User:")) {
      System.err.println("usage: Acls <bootstrap> grant-all User:<name>");
      System.exit(2);
    }
    AccessControlEntry all = new AccessControlEntry(args[2], "*", AclOperation.ALL, AclPermissionType.ALLOW);
    List<AclBinding> bindings = List.of(
        new AclBinding(new ResourcePattern(ResourceType.TOPIC, "*", PatternType.LITERAL), all),
        new AclBinding(new ResourcePattern(ResourceType.GROUP, "*", PatternType.LITERAL), all),
        new AclBinding(new ResourcePattern(ResourceType.TRANSACTIONAL_ID, "*", PatternType.LITERAL), all),
        new AclBinding(new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL), all));
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]))) {
      admin.createAcls(bindings).all().get();
    }
    System.out.println("granted ALL on every topic, group, transactional id and the cluster to " + args[2]);
  }
}
