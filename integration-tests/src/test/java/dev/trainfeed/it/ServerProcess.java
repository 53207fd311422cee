package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real TrainFeed server in its own JVM, started with the test classpath and the same JVM flags
 * as the launcher, so that tests can kill it with SIGKILL and start it again.
 */
final class ServerProcess implements AutoCloseable {
  private static final Pattern LISTENING =
      Pattern.compile("trainfeed: listening port=(\\d+) metrics_port=(-?\\d+)");

  private final Process process;
  private final Path log;
  private final int port;
  private final int metricsPort;
  private final Thread pump;

  private ServerProcess(Process process, Path log, int port, int metricsPort, Thread pump) {
    this.process = process;
    this.pump = pump;
    this.log = log;
    this.port = port;
    this.metricsPort = metricsPort;
  }

  /** Starts {@code trainfeed serve --data-dir DIR --port PORT --metrics-port 0 EXTRA…}. */
  static ServerProcess start(Path dataDir, int port, String... extra) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String flag : System.getProperty("trainfeed.jvm.flags", "").split("\\s+")) {
      if (!flag.isBlank()) {
        cmd.add(flag);
      }
    }
    cmd.add("-Xmx512m");
    cmd.add("-Dio.netty.leakDetection.level=paranoid");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.trainfeed.server.cli.Main");
    cmd.addAll(List.of("serve", "--data-dir", dataDir.toString(), "--bind", "127.0.0.1",
        "--port", Integer.toString(port), "--metrics-port", "0", "--shutdown-grace", "2s"));
    cmd.addAll(List.of(extra));
    Files.createDirectories(dataDir);
    Path log = Files.createTempFile(dataDir.getParent(), "server-", ".log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    CompletableFuture<int[]> ports = new CompletableFuture<>();
    Thread pump = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          Files.writeString(log, line + "\n", StandardCharsets.UTF_8,
              java.nio.file.StandardOpenOption.APPEND);
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            ports.complete(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
          }
        }
      } catch (IOException e) {
        ports.completeExceptionally(e);
      }
      ports.completeExceptionally(new IllegalStateException("server exited before listening"));
    }, "server-log-pump");
    pump.setDaemon(true);
    pump.start();
    try {
      int[] pp = ports.get(60, TimeUnit.SECONDS);
      return new ServerProcess(p, log, pp[0], pp[1], pump);
    } catch (Exception e) {
      p.destroyForcibly();
      throw new IllegalStateException("server did not start; its log:\n" + Files.readString(log),
          e);
    }
  }

  int port() {
    return port;
  }

  int metricsPort() {
    return metricsPort;
  }

  String target() {
    return "127.0.0.1:" + port;
  }

  /** Everything the server printed so far. */
  String log() throws IOException {
    return Files.readString(log);
  }

  /** SIGKILL: no shutdown hook runs, the cache file is left as a crash leaves it. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /**
   * Stops the server with SIGTERM, expecting a graceful exit, and checks that Netty's leak
   * detector (paranoid in tests) reported nothing in the whole log, shutdown included.
   */
  void terminateWithoutLeaks() throws IOException, InterruptedException {
    assertThat(terminate()).as("graceful exit status").isIn(0, 143);
    assertThat(wholeLog()).doesNotContain("LEAK:");
  }

  /** Stops the server and checks that its log reports no leaked Netty buffer. */
  void closeWithoutLeaks() throws IOException, InterruptedException {
    close();
    assertThat(wholeLog()).doesNotContain("LEAK:");
  }

  /** The log once the process has exited and its last line has been written. */
  private String wholeLog() throws IOException, InterruptedException {
    pump.join(TimeUnit.SECONDS.toMillis(10));
    return log();
  }

  /**
   * Runs a full garbage collection in the server ({@code jcmd PID GC.run}), so that heap figures
   * read next are what the server retains, not garbage a collection has yet to reclaim.
   */
  void gc() throws IOException, InterruptedException {
    Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd")
        .toString(), Long.toString(process.pid()), "GC.run").redirectErrorStream(true).start();
    String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
      throw new IllegalStateException("jcmd GC.run failed: " + out);
    }
  }

  int terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    return process.exitValue();
  }

  /** The server's process id (for /proc inspection). */
  long pid() {
    return process.pid();
  }

  /** Sends SIGTERM and returns at once; the server drains while the caller watches. */
  void sigterm() {
    process.destroy();
  }

  /**
   * Waits up to {@code seconds} for the process to exit and its output to reach {@link #log()};
   * returns its exit status.
   */
  int awaitExit(int seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      throw new IllegalStateException("server still running after " + seconds + " s");
    }
    pump.join(TimeUnit.SECONDS.toMillis(seconds));
    return process.exitValue();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      terminate();
    }
  }
}
