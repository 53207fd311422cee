package dev.trainfeed.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code trainfeed serve --print-config} through {@link Main#run}: flags beat the environment,
 * which beats the {@code --config} file, which beats the documented default.
 */
class ConfigPrecedenceTest {
  @TempDir Path tmp;

  /** The effective configuration printed for {@code args} under {@code env}. */
  private static Map<String, String> effective(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] full = new String[args.length + 2];
    full[0] = "serve";
    System.arraycopy(args, 0, full, 1, args.length);
    full[full.length - 1] = "--print-config";
    int rc = Main.run(full, env, new PrintWriter(out, true), new PrintWriter(err, true));
    assertThat(rc).as("exit status; stderr: %s", err).isZero();
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : out.toString().split("\\R")) {
      int colon = line.indexOf(": ");
      if (colon > 0) {
        values.put(line.substring(0, colon), line.substring(colon + 2));
      }
    }
    return values;
  }

  private Path file(String yaml) throws Exception {
    Path f = tmp.resolve("trainfeed.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void defaultsApplyWhenNothingIsSet() {
    Map<String, String> c = effective(Map.of("TRAINFEED_DATA_DIR", tmp.toString()));
    assertThat(c).containsEntry("cache-size", Long.toString(512L << 20))
        .containsEntry("port", "7070").containsEntry("metrics-port", "9464")
        .containsEntry("health-port", "-1").containsEntry("reflection", "true")
        .containsEntry("shutdown-grace", "30000ms").containsEntry("synth-batch-delay", "2ms")
        .containsEntry("cache-file", tmp.resolve("cache").resolve("chunks.cmap").toString());
  }

  @Test
  void fileBeatsDefaultEnvBeatsFileFlagBeatsEnv() throws Exception {
    Path f = file("cache-size: 2g\nport: 7100\nmetrics-port: 9100\nreflection: false\n"
        + "shutdown-grace: 5s\ndata-dir: " + tmp + "\n");
    Map<String, String> fileOnly = effective(Map.of(), "--config", f.toString());
    assertThat(fileOnly).containsEntry("cache-size", Long.toString(2L << 30))
        .containsEntry("port", "7100").containsEntry("reflection", "false")
        .containsEntry("shutdown-grace", "5000ms");

    Map<String, String> env = Map.of("TRAINFEED_CACHE_SIZE", "3g", "TRAINFEED_PORT", "7200");
    Map<String, String> envAndFile = effective(env, "--config", f.toString());
    assertThat(envAndFile).containsEntry("cache-size", Long.toString(3L << 30))
        .containsEntry("port", "7200").containsEntry("metrics-port", "9100");

    Map<String, String> all = effective(env, "--config=" + f, "--cache-size", "4g",
        "--reflection");
    assertThat(all).containsEntry("cache-size", Long.toString(4L << 30))
        .containsEntry("port", "7200").containsEntry("metrics-port", "9100")
        .containsEntry("reflection", "true");
  }

  @Test
  void configFileCanComeFromTheEnvironment() throws Exception {
    Path f = file("max-streams: 9\n");
    Map<String, String> c = effective(Map.of("TRAINFEED_CONFIG", f.toString(),
        "TRAINFEED_DATA_DIR", tmp.toString()));
    assertThat(c).containsEntry("max-streams", "9");
  }

  @Test
  void printConfigListsEveryServeOptionAndEachHasAnEnvironmentVariable() {
    Map<String, String> c = effective(Map.of("TRAINFEED_DATA_DIR", tmp.toString()));
    List<String> options = new picocli.CommandLine(new ServeCommand()).getCommandSpec().options()
        .stream().map(o -> o.longestName().substring(2))
        .filter(n -> !List.of("help", "version", "print-config", "config").contains(n))
        .collect(Collectors.toList());
    assertThat(c.keySet()).containsExactlyInAnyOrderElementsOf(options);
    // Every one of them really is read from its TRAINFEED_* variable.
    Map<String, String> env = new LinkedHashMap<>(Map.of("TRAINFEED_DATA_DIR", tmp.toString()));
    env.put("TRAINFEED_LOADER_THREADS", "7");
    env.put("TRAINFEED_HEALTH_PORT", "7071");
    env.put("TRAINFEED_BIND", "127.0.0.1");
    assertThat(effective(env)).containsEntry("loader-threads", "7")
        .containsEntry("health-port", "7071").containsEntry("bind", "127.0.0.1");
  }

  @Test
  void badValuesFromAnySourceNameTheOption() throws Exception {
    StringWriter err = new StringWriter();
    int rc = Main.run(new String[] {"serve", "--print-config"},
        Map.of("TRAINFEED_DATA_DIR", tmp.toString(), "TRAINFEED_HEALTH_PORT", "70000"),
        new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    assertThat(rc).isNotZero();
    assertThat(err.toString()).contains("--health-port");

    StringWriter delayErr = new StringWriter();
    rc = Main.run(new String[] {"serve", "--synth-batch-delay", "5s", "--print-config"},
        Map.of("TRAINFEED_DATA_DIR", tmp.toString()),
        new PrintWriter(new StringWriter(), true), new PrintWriter(delayErr, true));
    assertThat(rc).isNotZero();
    assertThat(delayErr.toString()).contains("--synth-batch-delay must be 0 to 1s");
  }

  @Test
  void readmeDocumentsEveryServeOptionWithItsDefault() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"));
    for (var o : new picocli.CommandLine(new ServeCommand()).getCommandSpec().options()) {
      String name = o.longestName();
      if (List.of("--help", "--version").contains(name)) {
        continue;
      }
      assertThat(readme).as("README row for " + name).containsPattern("(?m)^\\| `" + name
          + "[ =\\[`][^|]*\\| [^|]+ \\| ");
    }
  }
}
