package dev.trainfeed.server.stream;

import dev.trainfeed.server.store.FieldSpec;
import dev.trainfeed.server.synth.CounterRng;
import dev.trainfeed.server.synth.LoadedModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * The synthetic samples mixed into one (rank, epoch) stream: synthetic sample i is the sample
 * {@code Synthesize(model, seed = H(seed, epoch, rank), index i)} returns, with, for a conditional
 * model, its class drawn by {@link CounterRng#categorical} in the dataset's class frequencies.
 * Holds a reference to the model version the stream started with until {@link #close}.
 * Used by one stream's drain task at a time.
 */
final class SyntheticTail implements AutoCloseable {
  /** Where a requested field comes from. */
  enum Source {
    /** The model's output field. */
    OUTPUT,
    /** The class of a conditional model. */
    CLASS
  }

  private final LoadedModel model;
  private final long seed;
  private final int perBatch;
  private final Source[] fields;
  private final long[] cumulative;
  private boolean closed;

  /**
   * A tail.
   *
   * @param model a retained model version; closing the tail releases it
   * @param seed {@code H(seed, epoch, rank)}
   * @param perBatch k, synthetic samples per batch
   * @param fields per requested field (request order), where it comes from
   * @param cumulative cumulative class counts for a conditional model; null otherwise
   */
  SyntheticTail(LoadedModel model, long seed, int perBatch, Source[] fields, long[] cumulative) {
    this.model = model;
    this.seed = seed;
    this.perBatch = perBatch;
    this.fields = fields.clone();
    this.cumulative = cumulative;
  }

  /** The model version this stream uses. */
  LoadedModel model() {
    return model;
  }

  /** k, synthetic samples per batch. */
  int perBatch() {
    return perBatch;
  }

  /**
   * Bytes of synthetic samples {@code [first, first + count)} per requested field, in request
   * order, each in the dataset field's dtype and shape.
   */
  byte[][] fields(long first, int count) throws Exception {
    long[] classes = null;
    if (cumulative != null) {
      classes = new long[count];
      for (int i = 0; i < count; i++) {
        classes[i] = CounterRng.categorical(seed, first + i, CounterRng.STREAM_CLASS, cumulative);
      }
    }
    LoadedModel.Samples s = model.generate(seed, first, count, classes);
    byte[][] out = new byte[fields.length][];
    for (int f = 0; f < fields.length; f++) {
      out[f] = fields[f] == Source.OUTPUT ? s.field() : longsLittleEndian(s.classes());
    }
    return out;
  }

  static byte[] longsLittleEndian(long[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    b.asLongBuffer().put(values);
    return b.array();
  }

  /**
   * Where each requested field comes from, or {@code INVALID_ARGUMENT} naming the first field
   * the model does not yield in the dataset's dtype and shape.
   */
  static Source[] match(String modelName, List<FieldSpec> modelOutputs, String classField,
      List<FieldSpec> requested) {
    Source[] out = new Source[requested.size()];
    for (int i = 0; i < out.length; i++) {
      FieldSpec want = requested.get(i);
      FieldSpec have = modelOutputs.stream().filter(o -> o.name().equals(want.name())).findFirst()
          .orElseThrow(() -> Errors.invalid("synthetic.model '" + modelName + "' does not yield "
              + "field '" + want.name() + "' (it yields " + modelOutputs + "); select fields "
              + "the model yields with fields, or mix another model"));
      if (have.dtype() != want.dtype() || !Arrays.equals(have.shape(), want.shape())) {
        throw Errors.invalid("synthetic.model '" + modelName + "' yields field '" + want.name()
            + "' as " + have + " but the dataset has " + want + "; mix a model trained for "
            + "this dataset");
      }
      out[i] = want.name().equals(classField) ? Source.CLASS : Source.OUTPUT;
    }
    return out;
  }

  /** Lets the model version go (once). */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      model.release();
    }
  }
}
