package dev.trainfeed.server.synth;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models a server runs: one folder per model under {@code --models DIR}, each with a
 * {@code descriptor.yaml} and the ONNX files it names. Every model loads at start; the directory
 * is then polled ({@link #startPolling}), so a model added or replaced while the server runs
 * becomes available without a restart, and a removed one goes away. A model is replaced only
 * after its new version loaded; streams that hold the old version ({@link #acquire}) finish on it.
 *
 * <p>Folders whose names start with a dot are skipped, so {@code cp -r m DIR/.m && mv DIR/.m
 * DIR/m} publishes a model atomically. Thread-safe.
 */
public final class ModelRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelRegistry.class);
  /** The descriptor's file name inside a model folder. */
  public static final String DESCRIPTOR = "descriptor.yaml";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final Path dir;
  private final SessionFactory sessions;
  private final int runSize;
  private final Duration linger;
  private final SynthMetrics metrics;
  private final Map<String, LoadedModel> current = new TreeMap<>();
  /** Folder fingerprints already handled (loaded or failed), so a bad model warns once. */
  private final Map<String, String> seen = new LinkedHashMap<>();
  private ScheduledFuture<?> poller;
  private boolean closed;

  /**
   * A registry over {@code dir}; call {@link #refresh} to load.
   *
   * @param dir the model directory; null for a server without models
   * @param sessions opens sessions on the chosen provider
   * @param runSize rows per session run (fixed-size runs), at least 1
   * @param linger how long a run that is neither full nor as busy as recent runs waits for more
   *     requests ({@code --synth-batch-delay}); zero never waits
   * @param metrics synthesis meters
   */
  public ModelRegistry(Path dir, SessionFactory sessions, int runSize, Duration linger,
      SynthMetrics metrics) {
    if (runSize < 1 || runSize > 65536) {
      throw new IllegalArgumentException("run size must be 1..65536, got " + runSize);
    }
    if (linger.isNegative()) {
      throw new IllegalArgumentException("batch delay must not be negative, got " + linger);
    }
    this.linger = linger;
    this.dir = dir;
    this.sessions = sessions;
    this.runSize = runSize;
    this.metrics = metrics;
  }

  /** A registry without models (a server started without {@code --models}). */
  public static ModelRegistry none() {
    return new ModelRegistry(null, null, 1, Duration.ZERO, null);
  }

  /** The model directory, or null when this server runs no models. */
  public Path directory() {
    return dir;
  }

  /** Polls the directory every {@code every} on {@code scheduler} until {@link #close}. */
  public synchronized void startPolling(ScheduledExecutorService scheduler, Duration every) {
    if (dir == null || poller != null) {
      return;
    }
    long ms = Math.max(1, every.toMillis());
    poller = scheduler.scheduleWithFixedDelay(() -> {
      try {
        refresh();
      } catch (RuntimeException e) {
        log.warn("scanning model directory {}", dir, e);
      }
    }, ms, ms, TimeUnit.MILLISECONDS);
  }

  /** Scans the directory once: loads new and changed models, drops removed ones. */
  public synchronized void refresh() {
    if (dir == null || closed) {
      return;
    }
    Map<String, Path> folders = new TreeMap<>();
    if (Files.isDirectory(dir)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
        for (Path p : ds) {
          String name = p.getFileName().toString();
          if (NAME.matcher(name).matches() && Files.isRegularFile(p.resolve(DESCRIPTOR))) {
            folders.put(name, p);
          }
        }
      } catch (IOException e) {
        log.warn("cannot list model directory {}: {}", dir, e.toString());
        return;
      }
    }
    for (String gone : new ArrayList<>(current.keySet())) {
      if (!folders.containsKey(gone)) {
        log.info("model {} removed from {}", gone, dir);
        current.remove(gone).release();
        seen.remove(gone);
      }
    }
    seen.keySet().retainAll(folders.keySet());
    for (Map.Entry<String, Path> e : folders.entrySet()) {
      String fingerprint = fingerprint(e.getValue());
      if (fingerprint == null || fingerprint.equals(seen.get(e.getKey()))) {
        continue;
      }
      seen.put(e.getKey(), fingerprint);
      load(e.getKey(), e.getValue());
    }
    metrics.modelsLoaded(current.size());
  }

  private void load(String name, Path folder) {
    try {
      byte[] descriptorBytes = Files.readAllBytes(folder.resolve(DESCRIPTOR));
      ModelDescriptor d = ModelDescriptor.parse(descriptorBytes, folder.resolve(DESCRIPTOR));
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(descriptorBytes);
      Map<String, byte[]> files = new LinkedHashMap<>();
      for (String f : d.files()) {
        Path p = folder.resolve(f).normalize();
        if (!p.startsWith(folder) || !Files.isRegularFile(p)) {
          throw new IllegalArgumentException(folder.resolve(DESCRIPTOR) + " names '" + f
              + "', which is not a file in " + folder);
        }
        byte[] bytes = Files.readAllBytes(p);
        sha.update(bytes);
        files.put(f, bytes);
      }
      String version = HexFormat.of().formatHex(sha.digest());
      LoadedModel old = current.get(name);
      if (old != null && old.version().equals(version)) {
        return;
      }
      LoadedModel m = new LoadedModel(name, d, version, files, sessions, runSize, linger,
          metrics);
      current.put(name, m);
      log.info("model {} ({}, latent {}, {}) version {} loaded on {}", name,
          d.kind().wireName(), d.latentDim(), d.conditional() ? "conditional" : "unconditional",
          version.substring(0, 12), m.provider());
      if (old != null) {
        old.release();
      }
    } catch (IllegalStateException e) {
      // --device cuda that cannot be honoured is a configuration error, not a bad model.
      throw e;
    } catch (Exception e) {
      log.warn("model {} in {} not loaded: {}", name, folder, e.getMessage());
    }
  }

  private static String fingerprint(Path folder) {
    StringBuilder b = new StringBuilder();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(folder)) {
      List<Path> files = new ArrayList<>();
      ds.forEach(files::add);
      files.sort(null);
      for (Path f : files) {
        BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
        b.append(f.getFileName()).append(':').append(a.size()).append(':')
            .append(a.lastModifiedTime().toMillis()).append(':').append(a.fileKey()).append(';');
      }
      return b.toString();
    } catch (IOException e) {
      return null;
    }
  }

  /** The current version of every model, by name. */
  public synchronized List<LoadedModel> list() {
    return List.copyOf(current.values());
  }

  /**
   * The current version of {@code name}, retained for the caller, who must
   * {@link LoadedModel#release} it; empty when no such model is loaded.
   */
  public synchronized Optional<LoadedModel> acquire(String name) {
    LoadedModel m = current.get(name);
    return m != null && m.retain() ? Optional.of(m) : Optional.empty();
  }

  /** Stops polling and lets every model go (streams still holding one finish first). */
  @Override
  public synchronized void close() {
    closed = true;
    if (poller != null) {
      poller.cancel(false);
    }
    current.values().forEach(LoadedModel::release);
    current.clear();
  }
}
