package dev.trainfeed.bench.augment;

import dev.trainfeed.proto.v1.AugmentSpec;
import dev.trainfeed.proto.v1.BrightnessContrast;
import dev.trainfeed.proto.v1.Crop;
import dev.trainfeed.proto.v1.Cutout;
import dev.trainfeed.proto.v1.GaussianNoise;
import dev.trainfeed.proto.v1.HorizontalFlip;
import dev.trainfeed.proto.v1.Normalize;
import dev.trainfeed.proto.v1.Rotation;
import dev.trainfeed.server.augment.AugmentPlan;
import dev.trainfeed.server.augment.Augmenter;
import dev.trainfeed.server.augment.AutoencoderModels;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.FieldSpec;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Images per second of each augmentation transform on one thread, every transform at probability
 * 1, beside a baseline measured in the same run: copying the batch's bytes unchanged (what the
 * assembler does without augmentation).
 *
 * <p>Usage: {@code AugmentBenchmark [HEIGHT WIDTH [SECONDS]]}, default 64 64 2.
 */
public final class AugmentBenchmark {
  private static final int BATCH = 64;

  private AugmentBenchmark() {}

  /** Runs the benchmark and prints a table. */
  public static void main(String[] args) throws IOException {
    int h = args.length > 0 ? Integer.parseInt(args[0]) : 64;
    int w = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 2;
    FieldSpec field = new FieldSpec("image", DType.UINT8, h, w, 3);
    byte[] batch = new byte[Math.toIntExact(field.sampleBytes() * BATCH)];
    for (int i = 0; i < batch.length; i++) {
      batch[i] = (byte) (i * 31 + (i >>> 7));
    }

    Map<String, AugmentSpec> specs = new LinkedHashMap<>();
    specs.put("horizontal_flip", AugmentSpec.newBuilder()
        .setHorizontalFlip(HorizontalFlip.newBuilder().setProbability(1)).build());
    specs.put("rotation (±15°)", AugmentSpec.newBuilder()
        .setRotation(Rotation.newBuilder().setProbability(1).setMaxDegrees(15)).build());
    specs.put("crop (padding 4)", AugmentSpec.newBuilder()
        .setCrop(Crop.newBuilder().setProbability(1).setPadding(4)).build());
    specs.put("brightness_contrast", AugmentSpec.newBuilder()
        .setBrightnessContrast(BrightnessContrast.newBuilder().setProbability(1)
            .setBrightness(0.2).setContrast(0.2)).build());
    specs.put("noise (0.05)", AugmentSpec.newBuilder()
        .setNoise(GaussianNoise.newBuilder().setProbability(1).setStddev(0.05)).build());
    specs.put("cutout (8)", AugmentSpec.newBuilder()
        .setCutout(Cutout.newBuilder().setProbability(1).setSize(Math.min(8, Math.min(h, w))))
        .build());
    specs.put("normalize (→ float32)", AugmentSpec.newBuilder()
        .setNormalize(Normalize.newBuilder().setEnabled(true).addMean(0.5).addStd(0.25)).build());
    AugmentSpec.Builder all = AugmentSpec.newBuilder();
    specs.values().forEach(all::mergeFrom);
    specs.put("all of the above", all.build());

    System.out.printf(Locale.ROOT, "augmentation throughput, uint8 %dx%dx3, batches of %d, "
        + "one thread, %s s per row, %s%n", h, w, BATCH, seconds, Runtime.version());
    // Warm the JIT on everything before measuring anything.
    double base = measure(() -> batch.clone(), Math.min(seconds, 1));
    for (AugmentSpec s : specs.values()) {
      Augmenter a = augmenter(s, field);
      measure(() -> a.apply(field, ids(), batch.clone()), Math.min(seconds, 0.5));
    }
    base = measure(() -> batch.clone(), seconds);
    System.out.printf(Locale.ROOT, "%-24s %14s %12s%n", "transform", "images/s", "vs baseline");
    System.out.printf(Locale.ROOT, "%-24s %14.0f %12s%n", "baseline (identity copy)", base,
        "1.000");
    for (Map.Entry<String, AugmentSpec> e : specs.entrySet()) {
      Augmenter a = augmenter(e.getValue(), field);
      double rate = measure(() -> a.apply(field, ids(), batch.clone()), seconds);
      System.out.printf(Locale.ROOT, "%-24s %14.0f %12.3f%n", e.getKey(), rate, rate / base);
    }
  }

  private static long nextId;

  /** Fresh sample ids per batch, so that every batch draws new choices. */
  private static long[] ids() {
    long[] ids = new long[BATCH];
    for (int i = 0; i < BATCH; i++) {
      ids[i] = nextId++;
    }
    return ids;
  }

  private static Augmenter augmenter(AugmentSpec spec, FieldSpec field) {
    return new Augmenter(AugmentPlan.compile(spec, "bench", List.of(field),
        AutoencoderModels.NONE).orElseThrow(), 1, 0);
  }

  private interface Work {
    Object run() throws IOException;
  }

  private static Object sink;

  /** Images per second of {@code work}, run for about {@code seconds}. */
  private static double measure(Work work, double seconds) throws IOException {
    long budget = (long) (seconds * 1e9);
    long start = System.nanoTime();
    long batches = 0;
    long now;
    do {
      sink = work.run();
      batches++;
      now = System.nanoTime();
    } while (now - start < budget);
    return batches * BATCH / ((now - start) / 1e9);
  }
}
