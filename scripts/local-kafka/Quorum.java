// Prints the node id of the active KRaft controller (the metadata quorum's leader), through the Admin API of the
// broker's own kafka-clients jar. A client's Metadata and DescribeCluster answers name a random broker as the
// "controller" under KRaft, so only DescribeMetadataQuorum tells which node to kill to move the controller.
// Run as a single-file program:  java -cp 'scripts/local-kafka/lib/*' scripts/local-kafka/Quorum.java <bootstrap>
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

public class Quorum {
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: Quorum <bootstrap>");
      System.exit(2);
    }
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]))) {
      System.out.println(admin.describeMetadataQuorum().quorumInfo().get().leaderId());
    }
  }
}
