package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The polyglot contract: stubs generated from the {@code .proto} by Debian's {@code protoc} 3.21
 * and {@code grpc_python_plugin}, and a Python client with {@code grpcio} and numpy that checks
 * every byte against the source files, sharding, resume and status codes.
 */
class PythonClientIT {
  @TempDir Path tmp;

  @Test
  void pythonClientReadsTheStreamIntoNumpy() throws Exception {
    Path root = Path.of(System.getProperty("trainfeed.repo.root", "..")).toAbsolutePath()
        .normalize();
    Path script = root.resolve("integration-tests/src/test/python/polyglot_client.py");
    Path gen = Files.createDirectories(tmp.resolve("gen"));
    Commands.pythonStubs(root, tmp, gen);
    Path src = Files.createDirectories(tmp.resolve("src"));
    Commands.run(tmp, Map.of(), "/usr/bin/python3", script.toString(), "make", src.toString(),
        "1234");
    Path data = tmp.resolve("data");
    int rc = dev.trainfeed.server.cli.Main.run(new String[] {"ingest", "--data-dir",
        data.toString(), "--name", "py", "--npy", src.toString(), "--chunk-size", "2k",
        "--compression", "zstd", "--quiet"}, Map.of());
    assertThat(rc).isZero();
    try (ServerProcess server = ServerProcess.start(data, 0)) {
      String out = Commands.run(tmp, Map.of("PYTHONPATH", gen.toString()), "/usr/bin/python3",
          script.toString(), "check", server.target(), src.toString(), "py");
      assertThat(out).contains(" failed").contains(", 0 failed");
    }
  }
}
