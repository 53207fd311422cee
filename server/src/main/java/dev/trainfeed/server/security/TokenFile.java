package dev.trainfeed.server.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A token file ({@code --auth-tokens}, format in {@link AuthTokens}) that reloads itself when its
 * content changes. A file that cannot be read or parsed at start stops the server; at a reload
 * the previous tokens stay in force and a warning names the line (never a token). Thread-safe.
 */
public final class TokenFile implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TokenFile.class);

  private final Path file;
  private final WatchedFiles watch;
  private volatile AuthTokens tokens;
  private ScheduledFuture<?> task;

  /**
   * Reads {@code file} now.
   *
   * @throws IOException if it cannot be read
   * @throws IllegalArgumentException naming the line if it is malformed
   */
  public TokenFile(Path file) throws IOException {
    this.file = file;
    try {
      this.watch = new WatchedFiles("--auth-tokens " + file, List.of(file), this::load);
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  private void load() throws IOException {
    List<String> lines = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines()
        .toList();
    tokens = AuthTokens.parse(lines, file.getFileName().toString());
    log.info("Loaded {} bearer tokens from {}", tokens.size(), file);
  }

  /** The tokens in force. */
  public AuthTokens tokens() {
    return tokens;
  }

  /**
   * Re-reads the file and swaps the tokens in when its content changed and parses.
   *
   * @return whether new tokens are now in force
   */
  public boolean reloadIfChanged() {
    return watch.reloadIfChanged();
  }

  /** Calls {@link #reloadIfChanged()} every {@code period} on {@code scheduler} until closed. */
  public synchronized void watch(ScheduledExecutorService scheduler, Duration period) {
    long ms = period.toMillis();
    task = scheduler.scheduleWithFixedDelay(this::reloadIfChanged, ms, ms, TimeUnit.MILLISECONDS);
  }

  /** Stops watching the file. */
  @Override
  public synchronized void close() {
    if (task != null) {
      task.cancel(false);
    }
  }
}
