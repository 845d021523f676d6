package backbone.infra;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;

/**
 * The few broker operations KafkaJS cannot do, in one JVM start each:
 *
 * <ul>
 *   <li>{@code format <server.properties> <cluster-id> <credentials.json>}: formats KRaft storage with the
 *       admin SCRAM credential bootstrapped, in-process so the password never appears in a process list;
 *   <li>{@code sync-users <client.properties> <credentials.json> [principal...]}: makes the broker's SCRAM
 *       users exactly {admin} + the given principals, generating passwords for new ones;
 *   <li>{@code rotate <client.properties> <credentials.json> <principal>}: gives one principal a new password.
 * </ul>
 *
 * Passwords live only in credentials.json (mode 600) and on the broker as salted SCRAM hashes; this tool
 * never prints them. Its stdout is a one-line JSON summary of principal names.
 */
public final class AccessTool {
  static final String ADMIN = "admin";
  static final ScramMechanism MECHANISM = ScramMechanism.SCRAM_SHA_512;
  // Kafka's own default; SCRAM iterations slow down only authentication, which happens once per connection.
  static final int ITERATIONS = 8192;
  static final Pattern PRINCIPAL = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$");
  static final ObjectMapper JSON = new ObjectMapper();
  static final SecureRandom RANDOM = new SecureRandom();

  private AccessTool() {}

  public static void main(String[] args) {
    int code;
    try {
      code = run(args, System.out);
    } catch (UsageException e) {
      System.err.println("access-tool: " + e.getMessage());
      code = 2;
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      System.err.println("access-tool: " + cause.getClass().getSimpleName() + ": " + cause.getMessage());
      code = 1;
    }
    // Admin client and storage tool threads are non-daemon; exit explicitly.
    System.exit(code);
  }

  static int run(String[] args, PrintStream out) throws Exception {
    if (args.length == 0) throw new UsageException("usage: format|sync-users|rotate ...");
    switch (args[0]) {
      case "format":
        if (args.length != 4) throw new UsageException("usage: format <server.properties> <cluster-id> <credentials.json>");
        return format(Path.of(args[1]), args[2], Path.of(args[3]), out);
      case "sync-users": {
        if (args.length < 3) throw new UsageException("usage: sync-users <client.properties> <credentials.json> [principal...]");
        Set<String> wanted = new TreeSet<>();
        for (int i = 3; i < args.length; i++) wanted.add(checkName(args[i]));
        wanted.remove(ADMIN);
        out.println(syncUsers(Path.of(args[1]), Path.of(args[2]), wanted, Set.of()));
        return 0;
      }
      case "rotate": {
        if (args.length != 4) throw new UsageException("usage: rotate <client.properties> <credentials.json> <principal>");
        String who = checkName(args[3]);
        if (who.equals(ADMIN)) {
          throw new UsageException("the admin password is bootstrapped into the cluster metadata at format time; "
              + "rotate it with `broker.sh reset` (dev) or alter it by hand and update credentials.json");
        }
        ObjectNode creds = readCredentials(Path.of(args[2]));
        if (!principals(creds).has(who)) throw new UsageException("unknown principal " + who);
        Set<String> wanted = new TreeSet<>();
        principals(creds).fieldNames().forEachRemaining(wanted::add);
        wanted.remove(ADMIN);
        out.println(syncUsers(Path.of(args[1]), Path.of(args[2]), wanted, Set.of(who)));
        return 0;
      }
      default:
        throw new UsageException("unknown command " + args[0]);
    }
  }

  static int format(Path serverProperties, String clusterId, Path credentialsFile, PrintStream out) throws Exception {
    String adminPassword = principals(readCredentials(credentialsFile)).path(ADMIN).asText("");
    if (adminPassword.isEmpty()) throw new UsageException(credentialsFile + " has no admin password");
    String[] storageArgs = {
      "format", "--cluster-id", clusterId, "--config", serverProperties.toString(),
      "--add-scram", MECHANISM.mechanismName() + "=[name=" + ADMIN + ",password=" + adminPassword + "]",
    };
    return kafka.tools.StorageTool.execute(storageArgs, out);
  }

  static String syncUsers(Path clientProperties, Path credentialsFile, Set<String> wanted, Set<String> rotate)
      throws Exception {
    ObjectNode creds = readCredentials(credentialsFile);
    ObjectNode passwords = principals(creds);
    Set<String> fresh = new TreeSet<>(rotate);
    for (String name : wanted) {
      if (!passwords.hasNonNull(name) || passwords.get(name).asText().isEmpty()) fresh.add(name);
    }
    for (String name : fresh) passwords.put(name, newPassword());
    List<String> removedLocally = new ArrayList<>();
    passwords.fieldNames().forEachRemaining(n -> {
      if (!n.equals(ADMIN) && !wanted.contains(n)) removedLocally.add(n);
    });
    removedLocally.forEach(passwords::remove);
    // Written before the broker is changed: a crash in between leaves passwords the next run re-applies,
    // never a broker credential nobody knows.
    writeCredentials(credentialsFile, creds);

    try (Admin admin = Admin.create(loadProperties(clientProperties))) {
      Map<String, UserScramCredentialsDescription> existing =
          admin.describeUserScramCredentials().all().get(60, TimeUnit.SECONDS);
      Set<String> created = new TreeSet<>();
      Set<String> updated = new TreeSet<>();
      Set<String> deleted = new TreeSet<>();
      List<UserScramCredentialAlteration> changes = new ArrayList<>();
      for (String name : wanted) {
        boolean present = hasMechanism(existing.get(name));
        if (!present || fresh.contains(name)) {
          changes.add(new UserScramCredentialUpsertion(name, new ScramCredentialInfo(MECHANISM, ITERATIONS), passwords.get(name).asText()));
          (present ? updated : created).add(name);
        }
      }
      for (Map.Entry<String, UserScramCredentialsDescription> e : existing.entrySet()) {
        String name = e.getKey();
        if (name.equals(ADMIN) || wanted.contains(name)) continue;
        for (ScramCredentialInfo info : e.getValue().credentialInfos()) {
          changes.add(new UserScramCredentialDeletion(name, info.mechanism()));
        }
        deleted.add(name);
      }
      if (!changes.isEmpty()) {
        admin.alterUserScramCredentials(changes).all().get(60, TimeUnit.SECONDS);
        awaitVisible(admin, wanted, deleted);
      }
      ObjectNode summary = JSON.createObjectNode();
      summary.putPOJO("created", created);
      summary.putPOJO("updated", updated);
      summary.putPOJO("deleted", deleted);
      summary.put("principals", wanted.size() + 1);
      return JSON.writeValueAsString(summary);
    }
  }

  /** Alterations go through the controller; callers connect right after, so wait until the broker's view has them. */
  static void awaitVisible(Admin admin, Set<String> wanted, Set<String> deleted) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      Map<String, UserScramCredentialsDescription> now =
          admin.describeUserScramCredentials().all().get(30, TimeUnit.SECONDS);
      boolean ok = wanted.stream().allMatch(n -> hasMechanism(now.get(n)))
          && deleted.stream().noneMatch(now::containsKey);
      if (ok) return;
      if (System.nanoTime() > deadline) throw new IllegalStateException("SCRAM changes not visible after 30s");
      Thread.sleep(100);
    }
  }

  static boolean hasMechanism(UserScramCredentialsDescription d) {
    return d != null && d.credentialInfos().stream().anyMatch(i -> i.mechanism() == MECHANISM);
  }

  static String checkName(String name) throws UsageException {
    if (!PRINCIPAL.matcher(name).matches()) throw new UsageException("invalid principal name " + name);
    return name;
  }

  static String newPassword() {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    // Hex: no character can break the storage tool's `name=..,password=..` syntax or a JAAS string.
    return HexFormat.of().formatHex(bytes);
  }

  static ObjectNode readCredentials(Path file) throws IOException {
    ObjectNode root = (ObjectNode) JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
    if (!root.has("principals") || !root.get("principals").isObject()) root.putObject("principals");
    return root;
  }

  static ObjectNode principals(ObjectNode creds) {
    return (ObjectNode) creds.get("principals");
  }

  static void writeCredentials(Path file, ObjectNode creds) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(creds) + "\n", StandardCharsets.UTF_8);
    try {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static Properties loadProperties(Path file) throws IOException {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    }
    return p;
  }

  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }
}
