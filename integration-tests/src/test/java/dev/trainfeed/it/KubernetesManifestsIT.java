package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.trainfeed.server.cli.Main;
import dev.trainfeed.server.config.ConfigDefaults;
import dev.trainfeed.server.config.Sizes;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/**
 * Renders {@code k8s/overlays/cpu} and {@code k8s/overlays/gpu} with {@code kubectl kustomize}
 * and checks the objects against each other and against the server: probe and Service ports are
 * container ports, the memory limit covers heap + cache + direct memory + overhead, every config
 * key and {@code TRAINFEED_*} variable is a {@code serve} option, every Secret, ConfigMap and
 * claim a pod uses exists, and the GPU overlay asks for a GPU.
 */
class KubernetesManifestsIT {
  /** Metaspace, code cache, thread stacks and Netty beyond heap, cache and direct memory. */
  static final long JVM_OVERHEAD_BYTES = 256L << 20;
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "gpu"})
  void overlayRendersConsistentObjects(String overlay) throws Exception {
    List<JsonNode> objects = render(overlay);
    Map<String, List<JsonNode>> byKind = new HashMap<>();
    objects.forEach(o -> byKind.computeIfAbsent(o.path("kind").asText(), k -> new ArrayList<>())
        .add(o));
    assertThat(byKind.keySet()).contains("StatefulSet", "Service", "ConfigMap", "ServiceMonitor",
        "PodDisruptionBudget", "NetworkPolicy", "Secret", "PersistentVolumeClaim", "Job");

    JsonNode sts = byKind.get("StatefulSet").get(0);
    JsonNode pod = sts.path("spec").path("template").path("spec");
    JsonNode container = pod.path("containers").get(0);
    JsonNode configMap = byKind.get("ConfigMap").get(0);
    JsonNode config = YAML.readTree(configMap.path("data").path("trainfeed.yaml").asText());

    // Every config key and TRAINFEED_* variable is a serve option.
    Set<String> options = serveOptions();
    config.fieldNames().forEachRemaining(k -> assertThat(options.contains(k))
        .as("config key " + k + " is a serve option").isTrue());
    Map<String, String> env = new HashMap<>();
    container.path("env").forEach(e -> env.put(e.path("name").asText(),
        e.path("value").asText()));
    Set<String> envNames = new HashSet<>();
    options.forEach(o -> envNames.add(ConfigDefaults.envName("--" + o)));
    env.keySet().stream().filter(n -> n.startsWith("TRAINFEED_")).forEach(n ->
        assertThat(envNames).as("environment variable " + n).contains(n));
    assertThat(container.path("args").toString()).contains("serve", "--config",
        "/etc/trainfeed/config/trainfeed.yaml");

    // Ports: config ↔ container ports ↔ probes ↔ Services ↔ ServiceMonitor.
    Map<String, Integer> ports = new HashMap<>();
    container.path("ports").forEach(p -> ports.put(p.path("name").asText(),
        p.path("containerPort").asInt()));
    assertThat(ports).containsEntry("grpc", config.path("port").asInt())
        .containsEntry("health", config.path("health-port").asInt())
        .containsEntry("metrics", config.path("metrics-port").asInt());
    for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
      assertThat(container.path(probe).path("grpc").path("port").asInt()).as(probe)
          .isEqualTo(ports.get("health"));
    }
    assertThat(container.path("readinessProbe").path("grpc").path("service").asText())
        .isEqualTo("trainfeed.v1.DataPlane");
    Set<String> servicePortNames = new HashSet<>();
    for (JsonNode svc : byKind.get("Service")) {
      for (JsonNode p : svc.path("spec").path("ports")) {
        servicePortNames.add(p.path("name").asText());
        assertThat(ports).as("targetPort of " + svc.path("metadata").path("name"))
            .containsKey(p.path("targetPort").asText());
        assertThat(p.path("port").asInt()).isEqualTo(ports.get(p.path("targetPort").asText()));
      }
    }
    byKind.get("ServiceMonitor").get(0).path("spec").path("endpoints").forEach(e ->
        assertThat(servicePortNames).contains(e.path("port").asText()));
    assertThat(byKind.get("Service")).anySatisfy(s -> {
      assertThat(s.path("metadata").path("name").asText())
          .isEqualTo(sts.path("spec").path("serviceName").asText());
      assertThat(s.path("spec").path("clusterIP").asText()).isEqualTo("None");
    });

    // Memory: limit ≥ heap + cache + direct + overhead, all set explicitly.
    String jvm = env.get("JAVA_TOOL_OPTIONS");
    long heap = jvmSize(jvm, "-Xmx");
    long direct = jvmSize(jvm, "-XX:MaxDirectMemorySize=");
    long cache = Sizes.parseBytes(config.path("cache-size").asText());
    long limit = quantity(container.path("resources").path("limits").path("memory").asText());
    assertThat(limit).as("memory limit ≥ -Xmx + cache-size + MaxDirectMemorySize + overhead")
        .isGreaterThanOrEqualTo(heap + cache + direct + JVM_OVERHEAD_BYTES);
    assertThat(quantity(container.path("resources").path("requests").path("memory").asText()))
        .isEqualTo(limit);
    assertThat(sts.path("spec").path("template").path("spec")
        .path("terminationGracePeriodSeconds").asLong())
        .as("pods outlive the shutdown grace")
        .isGreaterThan(Sizes.parseDuration(config.path("shutdown-grace").asText()).toSeconds());

    // Volumes: every mount is declared, every Secret/ConfigMap/claim exists, files are mounted.
    Set<String> names = new HashSet<>();
    objects.forEach(o -> names.add(o.path("kind").asText() + "/"
        + o.path("metadata").path("name").asText()));
    Map<String, JsonNode> volumes = new HashMap<>();
    pod.path("volumes").forEach(v -> volumes.put(v.path("name").asText(), v));
    sts.path("spec").path("volumeClaimTemplates").forEach(v ->
        volumes.put(v.path("metadata").path("name").asText(), v));
    for (JsonNode v : volumes.values()) {
      if (v.has("secret")) {
        assertThat(names).contains("Secret/" + v.path("secret").path("secretName").asText());
      }
      if (v.has("configMap")) {
        assertThat(names).contains("ConfigMap/" + v.path("configMap").path("name").asText());
      }
      if (v.has("persistentVolumeClaim")) {
        assertThat(names).contains("PersistentVolumeClaim/"
            + v.path("persistentVolumeClaim").path("claimName").asText());
      }
    }
    Map<String, String> mounts = new HashMap<>();
    for (JsonNode c : List.of(container, pod.path("initContainers").get(0))) {
      c.path("volumeMounts").forEach(m -> {
        assertThat(volumes).as("volume of mount " + m).containsKey(m.path("name").asText());
        if (c == container) {
          mounts.put(m.path("mountPath").asText(), m.path("name").asText());
        }
      });
    }
    for (String key : List.of("data-dir", "cache-file", "resume-key-file", "tls-cert", "tls-key",
        "auth-tokens")) {
      String path = config.path(key).asText();
      String volume = mounts.entrySet().stream()
          .filter(m -> path.equals(m.getKey()) || path.startsWith(m.getKey() + "/"))
          .map(Map.Entry::getValue).findFirst()
          .orElseThrow(() -> new AssertionError(key + " " + path + " is on no mounted volume"));
      JsonNode v = volumes.get(volume);
      if (v.has("secret")) {
        String file = path.substring(path.lastIndexOf('/') + 1);
        JsonNode secret = objects.stream().filter(o -> o.path("kind").asText().equals("Secret")
            && o.path("metadata").path("name").asText()
                .equals(v.path("secret").path("secretName").asText())).findFirst().orElseThrow();
        assertThat(secret.path("stringData").has(file) || secret.path("data").has(file))
            .as(key + ": Secret " + v.path("secret").path("secretName") + " has key " + file)
            .isTrue();
      }
    }
    assertThat(volumes.get(mounts.get("/etc/trainfeed/resume")).has("secret"))
        .as("one resume key for every replica, from a Secret").isTrue();

    // GPU: a GPU per pod on GPU nodes, the GPU image, --device auto; the CPU overlay asks none.
    JsonNode gpuLimit = container.path("resources").path("limits").path("nvidia.com/gpu");
    if (overlay.equals("gpu")) {
      assertThat(gpuLimit.asText()).isEqualTo("1");
      assertThat(pod.path("tolerations").toString()).contains("nvidia.com/gpu");
      assertThat(pod.path("nodeSelector").size()).isPositive();
      assertThat(container.path("image").asText()).contains("gpu");
      assertThat(env).containsEntry("TRAINFEED_DEVICE", "auto");
    } else {
      assertThat(gpuLimit.isMissingNode()).isTrue();
      assertThat(container.path("image").asText()).doesNotContain("gpu");
    }
  }

  private static Set<String> serveOptions() {
    Set<String> out = new HashSet<>();
    new CommandLine(new Main()).getSubcommands().get("serve").getCommandSpec().options()
        .forEach(o -> out.add(o.longestName().replaceFirst("^--", "")));
    return out;
  }

  private static List<JsonNode> render(String overlay) throws Exception {
    String kubectl = System.getenv("PATH") == null ? null : List.of(System.getenv("PATH")
        .split(File.pathSeparator)).stream().map(d -> Path.of(d, "kubectl"))
        .filter(Files::isExecutable).map(Path::toString).findFirst().orElse(null);
    Assumptions.assumeTrue(kubectl != null,
        "needs kubectl on PATH (Debian kubernetes-client; .ci/run installs it)");
    Path dir = Path.of(System.getProperty("trainfeed.repo.root"), "k8s", "overlays", overlay);
    Process p = new ProcessBuilder(kubectl, "kustomize", dir.toString())
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("kubectl kustomize " + dir).isZero();
    List<JsonNode> docs = new ArrayList<>(YAML.readValues(YAML.getFactory().createParser(out),
        JsonNode.class).readAll());
    docs.removeIf(d -> d == null || d.isNull() || d.isEmpty());
    return docs;
  }

  private static long jvmSize(String options, String flag) {
    Matcher m = Pattern.compile(Pattern.quote(flag) + "(\\S+)").matcher(options);
    assertThat(m.find()).as(flag + " set in JAVA_TOOL_OPTIONS '" + options + "'").isTrue();
    return Sizes.parseBytes(m.group(1));
  }

  /** A Kubernetes memory quantity: 4Gi, 512Mi, 4G, 4096. */
  static long quantity(String q) {
    Matcher m = Pattern.compile("(\\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?").matcher(q);
    assertThat(m.matches()).as("quantity " + q).isTrue();
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2);
    return switch (unit) {
      case "Ki" -> n << 10;
      case "Mi" -> n << 20;
      case "Gi" -> n << 30;
      case "Ti" -> n << 40;
      case "k" -> n * 1_000L;
      case "M" -> n * 1_000_000L;
      case "G" -> n * 1_000_000_000L;
      case "T" -> n * 1_000_000_000_000L;
      default -> n;
    };
  }

}
