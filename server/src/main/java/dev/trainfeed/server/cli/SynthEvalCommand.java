package dev.trainfeed.server.cli;

import dev.trainfeed.server.store.ChunkInfo;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.LocalChunkStore;
import dev.trainfeed.server.synth.CounterRng;
import dev.trainfeed.server.synth.CudaLibraries;
import dev.trainfeed.server.synth.Device;
import dev.trainfeed.server.synth.LoadedModel;
import dev.trainfeed.server.synth.ModelDescriptor;
import dev.trainfeed.server.synth.ModelRegistry;
import dev.trainfeed.server.synth.SampleQuality;
import dev.trainfeed.server.synth.SessionFactory;
import dev.trainfeed.server.synth.SynthMetrics;
import dev.trainfeed.server.synth.SynthOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code trainfeed synth-eval}: compares a model's samples with held-out real samples of a
 * dataset (MMD, k-NN precision and recall on pixels scaled to [0, 1]) beside two baselines, uniform
 * noise and a second real split, and writes a picture of generated samples.
 */
@Command(name = "synth-eval", mixinStandardHelpOptions = true,
    description = "Measure a generative model against real samples and draw a grid of samples.")
final class SynthEvalCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE", description = "YAML file of option values.")
  Path config;

  @Option(names = "--model", required = true, description = "Model name (its folder).")
  String model;

  @Option(names = "--dataset", required = true, description = "Dataset NAME or NAME@VERSION.")
  String dataset;

  @Option(names = "--data-dir", defaultValue = "trainfeed-data", paramLabel = "DIR",
      description = "Data directory (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--models", paramLabel = "DIR",
      description = "Model directory (default: the bundled models/).")
  Path models;

  @Option(names = "--count", defaultValue = "500",
      description = "Samples per set; the dataset needs twice as many (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--out", paramLabel = "PNG", description = "Write a 10x10 grid of samples here.")
  Path out;

  /** One row of the report. */
  record Row(String name, double mmd, double precision, double recall) {}

  @Override
  public Integer call() throws Exception {
    if (count < 10) {
      throw new IllegalArgumentException("--count must be at least 10, got " + count);
    }
    Path dir = models != null ? models.toAbsolutePath() : SynthOptions.bundledModels();
    if (dir == null) {
      throw new IllegalArgumentException("no model directory: pass --models DIR");
    }
    SessionFactory sessions = new SessionFactory(Device.CPU, CudaLibraries.of(java.util.Map.of(),
        java.util.Set.of()), Runtime.getRuntime().availableProcessors(), w -> { });
    try (ModelRegistry registry = new ModelRegistry(dir, sessions, 64,
        SynthOptions.DEFAULT_BATCH_DELAY, new SynthMetrics(new SimpleMeterRegistry()));
        LocalChunkStore store = new LocalChunkStore(dataDir.toAbsolutePath())) {
      registry.refresh();
      LoadedModel m = registry.acquire(model).orElseThrow(() -> new IllegalArgumentException(
          "model '" + model + "' not found in " + dir));
      try {
        List<Row> rows = evaluate(m, store.resolve(dataset), store);
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "%-22s %12s %10s %8s%n", "set vs held-out real", "MMD^2", "precision",
            "recall");
        for (Row r : rows) {
          o.printf(Locale.ROOT, "%-22s %12.5f %10.3f %8.3f%n", r.name(), r.mmd(), r.precision(),
              r.recall());
        }
        StringBuilder json = new StringBuilder("{\"model\":\"" + m.name() + "\",\"version\":\""
            + m.version() + "\",\"count\":" + count);
        for (Row r : rows) {
          String k = r.name().replace(' ', '_').replaceAll("[()]", "");
          json.append(String.format(Locale.ROOT, ",\"%s_mmd\":%.6f,\"%s_precision\":%.4f,"
              + "\"%s_recall\":%.4f", k, r.mmd(), k, r.precision(), k, r.recall()));
        }
        o.println(json.append('}'));
        o.flush();
        return 0;
      } finally {
        m.release();
      }
    }
  }

  List<Row> evaluate(LoadedModel m, DatasetManifest ds, LocalChunkStore store) throws Exception {
    ModelDescriptor.OutputField f = m.descriptor().field();
    int fi = ds.fieldIndex(f.name());
    if (fi < 0 || !ds.fields().get(fi).equals(f.spec())) {
      throw new IllegalArgumentException("dataset " + ds.name() + " has no field " + f.spec()
          + " for model " + m.name());
    }
    if (ds.numSamples() < 2L * count) {
      throw new IllegalArgumentException("dataset " + ds.name() + " has " + ds.numSamples()
          + " samples; --count " + count + " needs " + 2 * count);
    }
    int sampleBytes = (int) f.spec().sampleBytes();
    byte[] all = fieldBytes(ds, fi, store);
    // Two disjoint real sets drawn by a seeded shuffle: the held-out reference and a second split.
    long[] order = new long[(int) ds.numSamples()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    for (int i = order.length - 1; i > 0; i--) {
      int j = (int) Math.floorMod(CounterRng.bits(seed, i, CounterRng.STREAM_NOISE, 0), i + 1L);
      long t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    float[][] reference = new float[count][];
    float[][] split = new float[count][];
    for (int i = 0; i < count; i++) {
      reference[i] = features(all, (int) order[i] * sampleBytes, f);
      split[i] = features(all, (int) order[count + i] * sampleBytes, f);
    }
    long[] classes = null;
    if (m.descriptor().conditional()) {
      classes = new long[count];
      long[] cum = new long[m.descriptor().conditioning().numClasses()];
      for (int i = 0; i < cum.length; i++) {
        cum[i] = i + 1L;
      }
      for (int i = 0; i < count; i++) {
        classes[i] = CounterRng.categorical(seed, i, CounterRng.STREAM_CLASS, cum);
      }
    }
    byte[] gen = m.generate(seed, 0, count, classes).field();
    float[][] generated = new float[count][];
    float[][] noise = new float[count][];
    int elems = f.elements();
    for (int i = 0; i < count; i++) {
      generated[i] = features(gen, i * sampleBytes, f);
      noise[i] = new float[elems];
      for (int j = 0; j < elems; j++) {
        noise[i][j] = (float) CounterRng.uniform(seed + 1, i, CounterRng.STREAM_NOISE, j);
      }
    }
    if (out != null) {
      writeGrid(gen, f, out);
    }
    double h = SampleQuality.medianSquaredDistance(reference);
    List<Row> rows = new ArrayList<>();
    rows.add(row("generated (" + m.name() + ")", reference, generated, h));
    rows.add(row("uniform noise", reference, noise, h));
    rows.add(row("real (other split)", reference, split, h));
    return rows;
  }

  private static Row row(String name, float[][] reference, float[][] x, double h) {
    return new Row(name, SampleQuality.mmd(reference, x, h),
        SampleQuality.precision(reference, x), SampleQuality.recall(reference, x));
  }

  private static byte[] fieldBytes(DatasetManifest ds, int field, LocalChunkStore store)
      throws Exception {
    long sb = ds.fields().get(field).sampleBytes();
    byte[] out = new byte[Math.toIntExact(ds.numSamples() * sb)];
    for (int c = 0; c < ds.chunks().size(); c++) {
      ChunkInfo chunk = ds.chunks().get(c);
      ByteBuffer b = store.readChunk(ds, c).duplicate();
      b.position(Math.toIntExact(ds.fieldOffset(chunk, field)));
      b.get(out, Math.toIntExact(chunk.firstSample() * sb), Math.toIntExact(chunk.numSamples() * sb));
    }
    return out;
  }

  /** A sample's values scaled from the field range to [0, 1]. */
  private static float[] features(byte[] bytes, int at, ModelDescriptor.OutputField f) {
    int n = f.elements();
    float[] x = new float[n];
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    b.position(at);
    double span = f.fieldHigh() - f.fieldLow();
    for (int i = 0; i < n; i++) {
      double v = switch (f.dtype()) {
        case UINT8 -> Byte.toUnsignedInt(b.get());
        case INT8 -> b.get();
        case INT32 -> b.getInt();
        case INT64 -> b.getLong();
        case FLOAT32 -> b.getFloat();
        default -> b.getDouble();
      };
      x[i] = (float) ((v - f.fieldLow()) / span);
    }
    return x;
  }

  /** A 10x10 grid, each sample scaled 4x, grey (HW) or colour (HWC with 3 channels). */
  private static void writeGrid(byte[] samples, ModelDescriptor.OutputField f, Path png)
      throws Exception {
    long[] s = f.shape();
    if (s.length < 2 || (s.length == 3 && s[2] != 3 && s[2] != 1) || s.length > 3) {
      throw new IllegalArgumentException("--out draws HW or HWC images; field " + f.spec()
          + " is not one");
    }
    int h = (int) s[0];
    int w = (int) s[1];
    int c = s.length == 3 ? (int) s[2] : 1;
    int scale = 4;
    int cell = w * scale + 1;
    int cellH = h * scale + 1;
    int sampleBytes = (int) f.spec().sampleBytes();
    int n = Math.min(100, samples.length / sampleBytes);
    BufferedImage img = new BufferedImage(10 * cell + 1, ((n + 9) / 10) * cellH + 1,
        BufferedImage.TYPE_INT_RGB);
    for (int k = 0; k < n; k++) {
      float[] x = features(samples, k * sampleBytes, f);
      for (int y = 0; y < h * scale; y++) {
        for (int xx = 0; xx < w * scale; xx++) {
          int p = ((y / scale) * w + xx / scale) * c;
          int r = grey(x[p]);
          int rgb = c == 3 ? (r << 16) | (grey(x[p + 1]) << 8) | grey(x[p + 2])
              : (r << 16) | (r << 8) | r;
          img.setRGB(1 + (k % 10) * cell + xx, 1 + (k / 10) * cellH + y, rgb);
        }
      }
    }
    Path parent = png.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    ImageIO.write(img, "png", png.toFile());
  }

  private static int grey(float v) {
    return Math.max(0, Math.min(255, Math.round(v * 255)));
  }
}
