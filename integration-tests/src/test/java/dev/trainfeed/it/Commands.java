package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** External commands the polyglot tests run (protoc, Python clients). */
final class Commands {
  private Commands() {}

  /** Runs {@code cmd} in {@code cwd}, asserts exit status 0 and returns its output. */
  static String run(Path cwd, Map<String, String> env, String... cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s\n%s", String.join(" ", cmd), out).isZero();
    return out;
  }

  /** The path of {@code tool} on PATH. */
  static String which(String tool) throws IOException {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path p = Path.of(dir, tool);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw new IOException(tool + " not found on PATH; .ci/run installs protobuf-compiler-grpc");
  }

  /** Generates the Python stubs of the contract into {@code gen} with Debian's protoc. */
  static void pythonStubs(Path root, Path cwd, Path gen) throws Exception {
    run(cwd, Map.of(), "protoc", "-I", root.resolve("proto/src/main/proto").toString(),
        "--python_out=" + gen, "--grpc_out=" + gen, "--plugin=protoc-gen-grpc="
            + which("grpc_python_plugin"), "trainfeed/v1/dataplane.proto");
  }
}
