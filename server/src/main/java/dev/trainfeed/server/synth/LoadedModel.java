package dev.trainfeed.server.synth;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.trainfeed.server.store.FieldSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded version of one model: its ONNX sessions behind fixed-size run batchers, and the
 * operations streams need: sampling ({@link #generate}) and, for a VAE or AE, {@link #encode}
 * and {@link #decode}.
 *
 * <p>Reference-counted: the registry holds one reference while the version is current and every
 * stream that uses it holds one ({@link #retain}, {@link #release}), so a stream finishes on the
 * version it started with even after the model was replaced; the sessions close with the last
 * reference. Thread-safe.
 */
public final class LoadedModel {
  private static final Logger log = LoggerFactory.getLogger(LoadedModel.class);

  private final String name;
  private final ModelDescriptor descriptor;
  private final String version;
  private final String provider;
  private final ValueMapping mapping;
  private final SynthMetrics.ModelMeters meters;
  private final List<OrtSession> sessions = new ArrayList<>();
  private final FixedRunBatcher generator;
  private final FixedRunBatcher encoder;
  private final AtomicInteger refs = new AtomicInteger(1);

  /**
   * Encoder results for {@code count} samples, each {@code latentDim} floats per sample.
   *
   * @param mean the mean (VAE) or code (AE)
   * @param logvar the log-variance (VAE); null for an AE
   * @param latent {@code mean + exp(logvar/2)·noise} (VAE) or the code (AE)
   */
  public record Latents(float[] mean, float[] logvar, float[] latent) {}

  /**
   * Synthetic samples: the output field's bytes and, for a conditional model, their classes.
   *
   * @param field {@code count × sampleBytes} little-endian bytes of the output field
   * @param classes the class of each sample; null for an unconditional model
   */
  public record Samples(byte[] field, long[] classes) {}

  LoadedModel(String name, ModelDescriptor descriptor, String version,
      Map<String, byte[]> files, SessionFactory sessionsFrom, int runSize, Duration linger,
      SynthMetrics metrics) throws OrtException {
    this.name = name;
    this.descriptor = descriptor;
    this.version = version;
    this.mapping = new ValueMapping(descriptor.field());
    int latent = descriptor.latentDim();
    ModelDescriptor.Generator g = descriptor.generator();
    try {
      SessionFactory.Opened gen = sessionsFrom.open(files.get(g.file()));
      sessions.add(gen.session());
      this.provider = gen.provider();
      List<FixedRunBatcher.Input> in = new ArrayList<>();
      in.add(new FixedRunBatcher.Input(g.latentInput(), false, new long[] {latent}));
      if (g.classInput() != null) {
        in.add(new FixedRunBatcher.Input(g.classInput(), true, new long[0]));
      }
      checkInputs(gen.session(), in, g.file());
      this.generator = new FixedRunBatcher(sessionsFrom.environment(), gen.session(), in,
          List.of(new FixedRunBatcher.Output(g.output(), descriptor.field().elements())), runSize,
          linger,
          "trainfeed-synth-" + name);
      FixedRunBatcher enc = null;
      ModelDescriptor.Encoder e = descriptor.encoder();
      if (e != null) {
        SessionFactory.Opened es = sessionsFrom.open(files.get(e.file()));
        sessions.add(es.session());
        List<FixedRunBatcher.Input> ein = new ArrayList<>();
        ein.add(new FixedRunBatcher.Input(e.input(), false, rowShape(es.session(), e.input(),
            descriptor.field().shape())));
        if (e.noiseInput() != null) {
          ein.add(new FixedRunBatcher.Input(e.noiseInput(), false, new long[] {latent}));
        }
        checkInputs(es.session(), ein, e.file());
        List<FixedRunBatcher.Output> eout = new ArrayList<>();
        eout.add(new FixedRunBatcher.Output(e.meanOutput(), latent));
        if (e.logvarOutput() != null) {
          eout.add(new FixedRunBatcher.Output(e.logvarOutput(), latent));
          eout.add(new FixedRunBatcher.Output(e.latentOutput(), latent));
        }
        enc = new FixedRunBatcher(sessionsFrom.environment(), es.session(), ein, eout, runSize,
            linger,
            "trainfeed-encode-" + name);
      }
      this.encoder = enc;
      this.meters = metrics.forModel(name, provider);
      // One run now proves the graph computes what the descriptor says, before any stream uses it.
      float[] z0 = new float[latent];
      Object[] probe = descriptor.conditional() ? new Object[] {z0, new long[] {0}}
          : new Object[] {z0};
      generator.run(1, probe);
    } catch (OrtException | RuntimeException ex) {
      closeSessions();
      throw ex;
    }
  }

  private static long[] rowShape(OrtSession s, String input, long[] fallback) throws OrtException {
    NodeInfo info = s.getInputInfo().get(input);
    if (info != null && info.getInfo() instanceof TensorInfo t) {
      long[] shape = t.getShape();
      long[] row = new long[Math.max(0, shape.length - 1)];
      boolean known = shape.length > 0;
      for (int i = 1; i < shape.length; i++) {
        row[i - 1] = shape[i];
        known &= shape[i] > 0;
      }
      if (known) {
        return row;
      }
    }
    return fallback;
  }

  private static void checkInputs(OrtSession s, List<FixedRunBatcher.Input> in, String file)
      throws OrtException {
    Map<String, NodeInfo> actual = s.getInputInfo();
    for (FixedRunBatcher.Input i : in) {
      if (!actual.containsKey(i.name())) {
        throw new IllegalArgumentException(file + " has no input '" + i.name() + "' (it has "
            + actual.keySet() + "); fix the descriptor");
      }
    }
    if (actual.size() != in.size()) {
      throw new IllegalArgumentException(file + " has inputs " + actual.keySet()
          + "; the descriptor names only " + in.stream().map(FixedRunBatcher.Input::name)
          .toList());
    }
  }

  /** The model's name (its folder). */
  public String name() {
    return name;
  }

  /** The parsed descriptor. */
  public ModelDescriptor descriptor() {
    return descriptor;
  }

  /** SHA-256 (hex) of {@code descriptor.yaml} followed by the ONNX files in descriptor order. */
  public String version() {
    return version;
  }

  /** The execution provider actually used: {@code cpu} or {@code cuda:N}. */
  public String provider() {
    return provider;
  }

  /** The fields a synthetic sample has (the output field, then the class field if any). */
  public List<FieldSpec> outputs() {
    return descriptor.outputs();
  }

  /** Rows per session run. */
  public int runSize() {
    return generator.runSize();
  }

  /** Session runs of the generator so far. */
  public long generatorRuns() {
    return generator.runs();
  }

  /** Generator runs that waited for concurrent callers before they went out. */
  public long generatorLingers() {
    return generator.lingered();
  }

  /**
   * Takes a reference for a stream.
   *
   * @return false when this version is already closed (it was replaced and let go)
   */
  public boolean retain() {
    while (true) {
      int r = refs.get();
      if (r == 0) {
        return false;
      }
      if (refs.compareAndSet(r, r + 1)) {
        return true;
      }
    }
  }

  /** Lets a reference go; the last one closes the sessions. */
  public void release() {
    if (refs.decrementAndGet() == 0) {
      generator.close();
      if (encoder != null) {
        encoder.close();
      }
      closeSessions();
      log.info("model {} version {} unloaded", name, version.substring(0, 12));
    }
  }

  /** Whether the sessions are closed. */
  public boolean isClosed() {
    return refs.get() == 0;
  }

  private void closeSessions() {
    for (OrtSession s : sessions) {
      try {
        s.close();
      } catch (OrtException e) {
        log.warn("closing a session of model {}", name, e);
      }
    }
  }

  /**
   * Samples {@code count} samples with indices {@code first … first + count − 1} from the latent
   * prior: sample i's latent is {@code normal(seed, i, STREAM_LATENT, 0 … latentDim−1)} of
   * {@link CounterRng}. Each result is a pure function of (this version, seed, index, class,
   * provider).
   *
   * @param classes per sample, the class of a conditional model (null for an unconditional one)
   * @throws OrtException the session failed
   */
  public Samples generate(long seed, long first, int count, long[] classes) throws OrtException {
    if (descriptor.conditional() != (classes != null)) {
      throw new IllegalArgumentException(descriptor.conditional()
          ? "model " + name + " is conditional: give a class per sample"
          : "model " + name + " is not conditional");
    }
    int latent = descriptor.latentDim();
    float[] z = new float[Math.multiplyExact(count, latent)];
    for (int i = 0; i < count; i++) {
      CounterRng.normals(seed, first + i, CounterRng.STREAM_LATENT, latent, z, i * latent);
    }
    long start = System.nanoTime();
    float[] out;
    if (classes != null) {
      if (classes.length != count) {
        throw new IllegalArgumentException("need " + count + " classes, got " + classes.length);
      }
      for (long c : classes) {
        if (c < 0 || c >= descriptor.conditioning().numClasses()) {
          throw new IllegalArgumentException("class " + c + " is outside 0.."
              + (descriptor.conditioning().numClasses() - 1));
        }
      }
      out = generator.run(count, z, classes)[0];
    } else {
      out = generator.run(count, z)[0];
    }
    meters.generated(count, System.nanoTime() - start);
    return new Samples(toField(out, count), classes);
  }

  /**
   * Decodes latents into samples of the output field (VAE/AE decoder; for a GAN, the generator
   * without classes is only defined for an unconditional model).
   *
   * @param z {@code count × latentDim} latents
   * @return {@code count × sampleBytes} bytes of the output field
   * @throws OrtException the session failed
   */
  public byte[] decode(float[] z, int count) throws OrtException {
    if (descriptor.conditional()) {
      throw new IllegalArgumentException("model " + name + " is conditional; use generate");
    }
    return toField(generator.run(count, z)[0], count);
  }

  /**
   * Encodes samples of the output field into latents (VAE or AE only).
   *
   * @param samples {@code count × sampleBytes} bytes in the field's dtype (such as a batch of
   *     the dataset's {@code image} field)
   * @param noise {@code count × latentDim} reparameterisation noise for a VAE (null means zeros,
   *     so the latent is the mean); ignored for an AE
   * @throws OrtException the session failed
   */
  public Latents encode(byte[] samples, int count, float[] noise) throws OrtException {
    if (encoder == null) {
      throw new IllegalArgumentException("model " + name + " (" + descriptor.kind().wireName()
          + ") has no encoder");
    }
    int elems = descriptor.field().elements();
    long sampleBytes = descriptor.field().spec().sampleBytes();
    if (samples.length != (long) count * sampleBytes) {
      throw new IllegalArgumentException("need " + count + " samples of " + sampleBytes
          + " bytes, got " + samples.length + " bytes");
    }
    float[] x = new float[Math.multiplyExact(count, elems)];
    mapping.read(samples, 0, x.length, x, 0);
    int latent = descriptor.latentDim();
    if (descriptor.encoder().noiseInput() == null) {
      float[] code = encoder.run(count, x)[0];
      return new Latents(code, null, code);
    }
    float[] eps = noise != null ? noise : new float[Math.multiplyExact(count, latent)];
    float[][] r = encoder.run(count, x, eps);
    return new Latents(r[0], r[1], r[2]);
  }

  private byte[] toField(float[] values, int count) {
    int elems = descriptor.field().elements();
    byte[] bytes = new byte[Math.toIntExact(count * descriptor.field().spec().sampleBytes())];
    mapping.write(values, 0, count * elems, bytes, 0);
    return bytes;
  }
}
