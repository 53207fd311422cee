package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The polyglot contract: stubs generated from the {@code .proto} by Debian's {@code protoc} 3.21
 * and {@code grpc_python_plugin}, and a Python client with {@code grpcio} and numpy that checks
 * every byte against the source files, sharding, resume and status codes.
 */
class PythonClientIT {
  @TempDir Path tmp;

  private static String run(Path cwd, Map<String, String> env, String... cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s\n%s", String.join(" ", cmd), out).isZero();
    return out;
  }

  @Test
  void pythonClientReadsTheStreamIntoNumpy() throws Exception {
    Path root = Path.of(System.getProperty("trainfeed.repo.root", "..")).toAbsolutePath()
        .normalize();
    Path protoDir = root.resolve("proto/src/main/proto");
    Path script = root.resolve("integration-tests/src/test/python/polyglot_client.py");
    Path gen = Files.createDirectories(tmp.resolve("gen"));
    run(tmp, Map.of(), "protoc", "-I", protoDir.toString(), "--python_out=" + gen,
        "--grpc_out=" + gen, "--plugin=protoc-gen-grpc=" + which("grpc_python_plugin"),
        "trainfeed/v1/dataplane.proto");
    Path src = Files.createDirectories(tmp.resolve("src"));
    run(tmp, Map.of(), "/usr/bin/python3", script.toString(), "make", src.toString(), "1234");
    Path data = tmp.resolve("data");
    int rc = dev.trainfeed.server.cli.Main.run(new String[] {"ingest", "--data-dir",
        data.toString(), "--name", "py", "--npy", src.toString(), "--chunk-size", "2k",
        "--compression", "zstd", "--quiet"}, Map.of());
    assertThat(rc).isZero();
    try (ServerProcess server = ServerProcess.start(data, 0)) {
      String out = run(tmp, Map.of("PYTHONPATH", gen.toString()), "/usr/bin/python3",
          script.toString(), "check", server.target(), src.toString(), "py");
      assertThat(out).contains(" failed").contains(", 0 failed");
    }
  }

  private static String which(String tool) throws IOException {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
      Path p = Path.of(dir, tool);
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw new IOException(tool + " not found on PATH; .ci/run installs protobuf-compiler-grpc");
  }
}
