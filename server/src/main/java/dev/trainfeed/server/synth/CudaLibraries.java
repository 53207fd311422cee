package dev.trainfeed.server.synth;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Whether the shared libraries ONNX Runtime's CUDA provider needs (CUDA 12, cuDNN 9) resolve on
 * this host, looked up the way the dynamic loader does: {@code LD_LIBRARY_PATH}, then the
 * {@code ldconfig -p} cache. Checking first matters: every attempt to add the CUDA provider
 * unpacks a ~580 MB library into the temp folder, and a failed one leaves it there.
 */
public final class CudaLibraries {
  /** The libraries the CUDA execution provider of ONNX Runtime 1.2x links against. */
  public static final List<String> REQUIRED = List.of("libcudart.so.12", "libcublasLt.so.12",
      "libcublas.so.12", "libcurand.so.10", "libcufft.so.11", "libcudnn.so.9");

  private final Set<String> available;

  private CudaLibraries(Set<String> available) {
    this.available = available;
  }

  /** Probes this host: {@code LD_LIBRARY_PATH} directories and {@code ldconfig -p}. */
  public static CudaLibraries probe() {
    return of(System.getenv(), ldconfigCache());
  }

  /**
   * A view over an injected environment and loader cache (tests).
   *
   * @param env the environment whose {@code LD_LIBRARY_PATH} is searched
   * @param cached library file names the loader cache knows
   */
  public static CudaLibraries of(Map<String, String> env, Set<String> cached) {
    Set<String> found = new HashSet<>(cached);
    String path = env.getOrDefault("LD_LIBRARY_PATH", "");
    for (String dir : path.split(":")) {
      if (dir.isBlank()) {
        continue;
      }
      for (String lib : REQUIRED) {
        if (Files.exists(Path.of(dir, lib))) {
          found.add(lib);
        }
      }
    }
    return new CudaLibraries(found);
  }

  /** The required libraries that do not resolve, in {@link #REQUIRED} order; empty when all do. */
  public List<String> missing() {
    List<String> out = new ArrayList<>();
    for (String lib : REQUIRED) {
      if (!available.contains(lib)) {
        out.add(lib);
      }
    }
    return out;
  }

  private static Set<String> ldconfigCache() {
    Set<String> names = new HashSet<>();
    for (String exe : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig")) {
      try {
        Process p = new ProcessBuilder(exe, "-p").redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
            StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            // "\tlibcublasLt.so.12 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcublasLt.so.12"
            String t = line.trim();
            int sp = t.indexOf(' ');
            if (sp > 0) {
              names.add(t.substring(0, sp));
            }
          }
        }
        p.waitFor(5, TimeUnit.SECONDS);
        return names;
      } catch (IOException e) {
        // Not at this path; try the next one.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return names;
      }
    }
    return names;
  }
}
