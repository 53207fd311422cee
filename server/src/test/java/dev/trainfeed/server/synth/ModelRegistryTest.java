package dev.trainfeed.server.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry over real model folders with the real bundled ONNX models on CPU. */
class ModelRegistryTest {
  @TempDir Path dir;
  private ModelRegistry registry;

  @AfterEach
  void close() {
    if (registry != null) {
      registry.close();
    }
  }

  private LoadedModel get(String name) {
    return registry.acquire(name).orElseThrow();
  }

  @Test
  void loadsEveryBundledModelWithItsKindVersionAndOutputs() throws Exception {
    registry = BundledModels.registry(BundledModels.source(), 16);
    assertThat(registry.list()).extracting(LoadedModel::name)
        .containsExactly(BundledModels.GAN, BundledModels.VAE);
    LoadedModel gan = get(BundledModels.GAN);
    try {
      assertThat(gan.descriptor().kind()).isEqualTo(ModelDescriptor.Kind.GAN);
      assertThat(gan.descriptor().conditional()).isTrue();
      assertThat(gan.version()).hasSize(64);
      assertThat(gan.provider()).isEqualTo("cpu");
      assertThat(gan.outputs()).hasToString("[image:uint8[8, 8], label:int64[]]");
    } finally {
      gan.release();
    }
  }

  @Test
  void aSampleDoesNotDependOnItsBatchMates() throws Exception {
    registry = BundledModels.registry(BundledModels.source(), 16);
    LoadedModel gan = get(BundledModels.GAN);
    try {
      // Sample 5 alone, in a batch of 7 and in a batch of 64 (four runs), from one seed.
      byte[] alone = gan.generate(42, 5, 1, new long[] {3}).field();
      long[] seven = {0, 1, 2, 3, 4, 3, 6};
      byte[] inSeven = Arrays.copyOfRange(gan.generate(42, 0, 7, seven).field(), 5 * 64, 6 * 64);
      long[] many = new long[64];
      Arrays.fill(many, 3);
      byte[] in64 = Arrays.copyOfRange(gan.generate(42, 5, 64, many).field(), 0, 64);
      assertThat(inSeven).isEqualTo(alone);
      assertThat(in64).isEqualTo(alone);
      // Values are in the digits range and not all alike.
      for (byte b : alone) {
        assertThat(Byte.toUnsignedInt(b)).isBetween(0, 16);
      }
      assertThat(gan.generate(43, 5, 1, new long[] {3}).field()).isNotEqualTo(alone);
    } finally {
      gan.release();
    }
  }

  @Test
  void concurrentRequestsSharePaddedRunsAndGetTheSameBytesAsAlone() throws Exception {
    registry = BundledModels.registry(BundledModels.source(), 64);
    LoadedModel vae = get(BundledModels.VAE);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<byte[]> alone = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        alone.add(vae.generate(7, i * 8L, 8, null).field());
      }
      long runsBefore = vae.generatorRuns();
      List<byte[]> together = sixteenAtOnce(vae, pool, 7, 0);
      for (int i = 0; i < 16; i++) {
        assertThat(together.get(i)).isEqualTo(alone.get(i));
      }
      // Sixteen requests of 8 rows never need sixteen runs of 64 when they queue together; at
      // worst (no overlap at all) they take one run each.
      assertThat(vae.generatorRuns() - runsBefore).isBetween(2L, 16L);
    } finally {
      pool.shutdownNow();
      vae.release();
    }
  }

  /** Sixteen concurrent requests of 8 rows from {@code first} on; their fields, in order. */
  private static List<byte[]> sixteenAtOnce(LoadedModel m, ExecutorService pool, long seed,
      long first) {
    List<CompletableFuture<byte[]>> together = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      long at = first + i * 8L;
      together.add(CompletableFuture.supplyAsync(() -> {
        try {
          return m.generate(seed, at, 8, null).field();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, pool));
    }
    return together.stream().map(CompletableFuture::join).toList();
  }

  @Test
  void concurrentCallersThatComeBackTogetherFillWholeRuns() throws Exception {
    // Long enough that here a run goes out short only if a caller is held up for half a second.
    registry = BundledModels.registry(BundledModels.source(), 64, Duration.ofSeconds(4));
    LoadedModel vae = get(BundledModels.VAE);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      long[] runs = new long[5];
      for (int round = 0; round < runs.length; round++) {
        long before = vae.generatorRuns();
        sixteenAtOnce(vae, pool, 9, round * 16L * 8);
        runs[round] = vae.generatorRuns() - before;
      }
      // The first round teaches the batcher that callers share runs; from then on sixteen
      // requests of 8 rows fill exactly two runs of 64 instead of going out padded.
      assertThat(Arrays.copyOfRange(runs, 2, runs.length)).containsOnly(2L);
      assertThat(vae.generatorLingers()).isPositive();
    } finally {
      pool.shutdownNow();
      vae.release();
    }
  }

  @Test
  void aLoneCallerNeverWaitsForOthers() throws Exception {
    registry = BundledModels.registry(BundledModels.source(), 64, Duration.ofSeconds(4));
    LoadedModel vae = get(BundledModels.VAE);
    try {
      long before = vae.generatorRuns();
      for (int i = 0; i < 20; i++) {
        vae.generate(9, i * 8L, 8, null);
      }
      assertThat(vae.generatorRuns() - before).isEqualTo(20);
      assertThat(vae.generatorLingers()).isZero();
    } finally {
      vae.release();
    }
  }

  @Test
  void vaeEncodesAndDecodesThroughTheFieldRange() throws Exception {
    registry = BundledModels.registry(BundledModels.source(), 16);
    LoadedModel vae = get(BundledModels.VAE);
    try {
      byte[] samples = vae.generate(1, 0, 4, null).field();
      LoadedModel.Latents z = vae.encode(samples, 4, null);
      assertThat(z.mean()).hasSize(4 * 16);
      assertThat(z.latent()).containsExactly(z.mean());
      byte[] back = vae.decode(z.latent(), 4);
      int close = 0;
      for (int i = 0; i < back.length; i++) {
        close += Math.abs(back[i] - samples[i]) <= 3 ? 1 : 0;
      }
      assertThat(close).isGreaterThan(back.length * 3 / 4);
      float[] eps = new float[4 * 16];
      Arrays.fill(eps, 1f);
      assertThat(vae.encode(samples, 4, eps).latent()).isNotEqualTo(z.mean());
      LoadedModel gan = get(BundledModels.GAN);
      try {
        assertThatThrownBy(() -> gan.encode(samples, 4, null))
            .hasMessageContaining("has no encoder");
      } finally {
        gan.release();
      }
    } finally {
      vae.release();
    }
  }

  @Test
  void aModelCopiedInIsPickedUpAndAReplacedOneKeepsServingItsHolders() throws Exception {
    registry = BundledModels.registry(dir, 8);
    assertThat(registry.list()).isEmpty();
    // Published atomically: a dot folder is ignored until renamed.
    BundledModels.copy(BundledModels.GAN, dir, ".incoming");
    registry.refresh();
    assertThat(registry.list()).isEmpty();
    Files.move(dir.resolve(".incoming"), dir.resolve("g"));
    registry.refresh();
    LoadedModel v1 = get("g");
    byte[] before = v1.generate(9, 0, 3, new long[] {1, 2, 3}).field();

    // Replace: same graph, another descriptor (a new version) while v1 is held.
    Path d = dir.resolve("g").resolve(ModelRegistry.DESCRIPTOR);
    Files.writeString(d, Files.readString(d) + "\n# retrained\n");
    registry.refresh();
    LoadedModel v2 = get("g");
    assertThat(v2.version()).isNotEqualTo(v1.version());
    assertThat(v1.isClosed()).isFalse();
    assertThat(v1.generate(9, 0, 3, new long[] {1, 2, 3}).field()).isEqualTo(before);
    v1.release();
    assertThat(v1.isClosed()).isTrue();
    v2.release();

    // Removed: gone from the list.
    try (var files = Files.list(dir.resolve("g"))) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.delete(f);
      }
    }
    Files.delete(dir.resolve("g"));
    registry.refresh();
    assertThat(registry.acquire("g")).isEmpty();
  }

  @Test
  void aBrokenModelIsSkippedAndTheOthersLoad() throws Exception {
    BundledModels.copy(BundledModels.VAE, dir, "ok");
    Path bad = BundledModels.copy(BundledModels.GAN, dir, "bad");
    Files.write(bad.resolve("model.onnx"), new byte[] {1, 2, 3});
    registry = BundledModels.registry(dir, 8);
    assertThat(registry.list()).extracting(LoadedModel::name).containsExactly("ok");
  }
}
