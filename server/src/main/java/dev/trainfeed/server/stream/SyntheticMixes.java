package dev.trainfeed.server.stream;

import dev.trainfeed.proto.v1.SyntheticMix;
import dev.trainfeed.server.store.ChunkInfo;
import dev.trainfeed.server.store.ChunkStore;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.FieldSpec;
import dev.trainfeed.server.synth.CounterRng;
import dev.trainfeed.server.synth.LoadedModel;
import dev.trainfeed.server.synth.ModelDescriptor;
import dev.trainfeed.server.synth.ModelRegistry;
import io.grpc.Status;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Validates a {@code SyntheticMix} against the dataset and the loaded models, and opens the
 * {@link SyntheticTail} of a stream. Class frequencies of a dataset's label field are computed
 * once per dataset version and cached (a few recent versions).
 */
final class SyntheticMixes {
  private static final int CACHED_VERSIONS = 32;
  private final ModelRegistry models;
  private final ChunkStore store;
  private final Map<String, long[]> counts = new LinkedHashMap<>(16, 0.75f, true) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<String, long[]> eldest) {
      return size() > CACHED_VERSIONS;
    }
  };

  SyntheticMixes(ModelRegistry models, ChunkStore store) {
    this.models = models;
    this.store = store;
  }

  /** Whether the request asks for a mix at all (an unset or all-default message does not). */
  static boolean requested(SyntheticMix mix) {
    return !mix.getModel().isEmpty() || mix.getFraction() != 0;
  }

  /**
   * k = floor(fraction·B + 0.5), validated: {@code INVALID_ARGUMENT} unless 0 ≤ fraction < 1 and
   * k < B.
   */
  static int syntheticPerBatch(SyntheticMix mix, int batchSize) {
    double fraction = mix.getFraction();
    if (!(fraction >= 0 && fraction < 1)) {
      throw Errors.invalid("synthetic.fraction must be in [0, 1), got " + fraction);
    }
    if (mix.getModel().isEmpty()) {
      throw Errors.invalid("synthetic.model is empty; name a model from ListModels");
    }
    long k = (long) Math.floor(fraction * batchSize + 0.5);
    if (k >= batchSize) {
      throw Errors.invalid("synthetic.fraction " + fraction + " gives k = floor(fraction·B + 0.5)"
          + " = " + k + " synthetic samples in batches of " + batchSize + "; k must be less than "
          + "batch_size, so lower the fraction or raise batch_size");
    }
    return (int) k;
  }

  /**
   * Retains the model and checks that it yields every requested field in the dataset's dtype and
   * shape; the caller owns the returned tail and must close it.
   *
   * @param fieldIndexes the requested fields of {@code ds}
   * @param streamSeed {@code H(seed, epoch, rank)}
   * @param k synthetic samples per batch
   */
  SyntheticTail open(SyntheticMix mix, DatasetManifest ds, int[] fieldIndexes, long streamSeed,
      int k) throws IOException {
    Optional<LoadedModel> found = models.acquire(mix.getModel());
    if (found.isEmpty()) {
      throw Status.NOT_FOUND.withDescription("synthetic.model '" + mix.getModel() + "' not "
          + "found; ListModels shows the models this server runs").asRuntimeException();
    }
    LoadedModel m = found.get();
    try {
      ModelDescriptor d = m.descriptor();
      if (d.kind() == ModelDescriptor.Kind.AE) {
        throw Errors.invalid("synthetic.model '" + m.name() + "' is an autoencoder (kind ae) with "
            + "no prior to sample from; mix a gan or vae");
      }
      List<FieldSpec> requested = new ArrayList<>();
      for (int f : fieldIndexes) {
        requested.add(ds.fields().get(f));
      }
      String classField = d.conditional() ? d.conditioning().field() : null;
      SyntheticTail.Source[] sources = SyntheticTail.match(m.name(), m.outputs(), classField,
          requested);
      long[] cumulative = d.conditional() ? cumulativeClasses(ds, d.conditioning()) : null;
      return new SyntheticTail(m, streamSeed, k, sources, cumulative);
    } catch (IOException | RuntimeException e) {
      m.release();
      throw e;
    }
  }

  /**
   * Cumulative class counts of the dataset's class field when it has one (int64 scalar), so that
   * classes are drawn in the dataset's frequencies; uniform over the model's classes otherwise.
   */
  private long[] cumulativeClasses(DatasetManifest ds, ModelDescriptor.Conditioning c)
      throws IOException {
    int idx = ds.fieldIndex(c.field());
    if (idx < 0) {
      return SynthesisSource.uniformCumulative(c.numClasses());
    }
    FieldSpec spec = ds.fields().get(idx);
    if (spec.dtype() != DType.INT64 || spec.shape().length != 0) {
      return SynthesisSource.uniformCumulative(c.numClasses());
    }
    long[] hist = classCounts(ds, idx, c);
    long[] cum = new long[hist.length];
    long run = 0;
    for (int i = 0; i < hist.length; i++) {
      run += hist[i];
      cum[i] = run;
    }
    return cum;
  }

  private long[] classCounts(DatasetManifest ds, int field, ModelDescriptor.Conditioning c)
      throws IOException {
    String key = ds.version() + "/" + c.field() + "/" + c.numClasses();
    synchronized (counts) {
      long[] cached = counts.get(key);
      if (cached != null) {
        return cached;
      }
    }
    long[] hist = new long[c.numClasses()];
    for (int ch = 0; ch < ds.chunks().size(); ch++) {
      ChunkInfo chunk = ds.chunks().get(ch);
      ByteBuffer bytes = store.readChunk(ds, ch).duplicate().order(ByteOrder.LITTLE_ENDIAN);
      int at = Math.toIntExact(ds.fieldOffset(chunk, field));
      for (long i = 0; i < chunk.numSamples(); i++) {
        long label = bytes.getLong(at + (int) (i * 8));
        if (label < 0 || label >= c.numClasses()) {
          throw Errors.invalid("field '" + c.field() + "' of dataset " + ds.name() + " holds class "
              + label + " (sample " + (chunk.firstSample() + i) + "), outside the "
              + c.numClasses() + " classes the model knows; mix a model trained for this dataset");
        }
        hist[(int) label]++;
      }
    }
    synchronized (counts) {
      counts.put(key, hist);
    }
    return hist;
  }

  /** {@code H(seed, epoch, rank)}: see {@link CounterRng#streamSeed}. */
  static long streamSeed(long seed, long epoch, int rank) {
    return CounterRng.streamSeed(seed, epoch, rank);
  }
}
