package dev.trainfeed.server.synth;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** The models committed under {@code models/}, copied where a test may change them. */
public final class BundledModels {
  /** The class-conditional GAN. */
  public static final String GAN = "digits-cgan";
  /** The VAE. */
  public static final String VAE = "digits-vae";

  private BundledModels() {}

  /** The repository's {@code models/} folder (tests run in the module folder). */
  public static Path source() {
    Path p = Path.of("..", "models").toAbsolutePath().normalize();
    if (!Files.isRegularFile(p.resolve(GAN).resolve(ModelRegistry.DESCRIPTOR))) {
      throw new IllegalStateException("bundled models not found at " + p);
    }
    return p;
  }

  /** Copies model {@code name} into {@code dir/as}. */
  public static Path copy(String name, Path dir, String as) {
    Path from = source().resolve(name);
    Path to = dir.resolve(as);
    try {
      Files.createDirectories(to);
      try (Stream<Path> files = Files.list(from)) {
        for (Path f : (Iterable<Path>) files::iterator) {
          if (f.getFileName().toString().endsWith(".onnx")
              || f.getFileName().toString().equals(ModelRegistry.DESCRIPTOR)) {
            Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return to;
  }

  /** A CPU registry over {@code dir} with small fixed runs. */
  public static ModelRegistry registry(Path dir, int runSize) {
    return registry(dir, runSize, SynthOptions.DEFAULT_BATCH_DELAY);
  }

  /** A CPU registry over {@code dir} whose runs wait up to {@code linger} for more requests. */
  public static ModelRegistry registry(Path dir, int runSize, java.time.Duration linger) {
    SessionFactory f = new SessionFactory(Device.CPU, CudaLibraries.of(java.util.Map.of(),
        java.util.Set.of()), 1, m -> { });
    ModelRegistry r = new ModelRegistry(dir, f, runSize, linger,
        new SynthMetrics(new SimpleMeterRegistry()));
    r.refresh();
    return r;
  }
}
