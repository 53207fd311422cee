package dev.trainfeed.server.stream;

import dev.trainfeed.proto.v1.SynthesizeRequest;
import dev.trainfeed.server.order.InvalidResumeTokenException;
import dev.trainfeed.server.order.ResumeTokenCodec;
import dev.trainfeed.server.order.SynthesizeSettings;
import dev.trainfeed.server.store.FieldSpec;
import dev.trainfeed.server.synth.CounterRng;
import dev.trainfeed.server.synth.LoadedModel;
import dev.trainfeed.server.synth.ModelDescriptor;
import dev.trainfeed.server.synth.ModelRegistry;
import io.grpc.Status;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The batches of one {@code Synthesize} call: batch b holds samples
 * {@code [b·batch_size, min(count, (b+1)·batch_size))} with {@code sample_ids} = their indices and
 * every {@code synthetic} flag set. A conditional model without {@code class_label} gets classes
 * drawn uniformly by {@link CounterRng#categorical} on {@link CounterRng#STREAM_CLASS}. Holds the
 * model version the call started on until {@link #release}.
 */
final class SynthesisSource implements BatchSource {
  private final LoadedModel model;
  private final SynthesizeSettings settings;
  private final ResumeTokenCodec tokens;
  private final long firstBatch;
  private final long[] uniform;
  private boolean released;

  private SynthesisSource(LoadedModel model, SynthesizeSettings settings, ResumeTokenCodec tokens,
      long firstBatch) {
    this.model = model;
    this.settings = settings;
    this.tokens = tokens;
    this.firstBatch = firstBatch;
    ModelDescriptor.Conditioning c = model.descriptor().conditioning();
    this.uniform = c == null || settings.classLabel() >= 0 ? null : uniformCumulative(
        c.numClasses());
  }

  static long[] uniformCumulative(int classes) {
    long[] cum = new long[classes];
    for (int i = 0; i < classes; i++) {
      cum[i] = i + 1L;
    }
    return cum;
  }

  /**
   * Validates a request against the contract and the loaded models, and retains the model.
   *
   * @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT, NOT_FOUND or FAILED_PRECONDITION
   */
  static SynthesisSource open(SynthesizeRequest r, ModelRegistry models, ResumeTokenCodec tokens) {
    if (r.getCount() == 0) {
      throw Errors.invalid("count must be at least 1");
    }
    if (r.getCount() < 0) {
      throw Errors.invalid("count " + Long.toUnsignedString(r.getCount()) + " is too large");
    }
    if (r.getBatchSize() == 0) {
      throw Errors.invalid("batch_size must be at least 1");
    }
    if (r.getBatchSize() < 0) {
      throw Errors.invalid("batch_size " + Integer.toUnsignedString(r.getBatchSize())
          + " is too large");
    }
    if (r.getModel().isEmpty()) {
      throw Errors.invalid("model is empty; name a model from ListModels");
    }
    SynthesizeSettings.Position resume = null;
    if (!r.getResumeToken().isEmpty()) {
      try {
        resume = SynthesizeSettings.parseToken(tokens, r.getResumeToken().toByteArray());
      } catch (InvalidResumeTokenException e) {
        throw Errors.invalid(e.getMessage());
      }
    }
    Optional<LoadedModel> found = models.acquire(r.getModel());
    if (found.isEmpty()) {
      throw Status.NOT_FOUND.withDescription("model '" + r.getModel() + "' not found; ListModels "
          + "shows the models this server runs " + names(models.list())).asRuntimeException();
    }
    LoadedModel m = found.get();
    try {
      ModelDescriptor d = m.descriptor();
      if (d.kind() == ModelDescriptor.Kind.AE) {
        throw Status.FAILED_PRECONDITION.withDescription("model '" + r.getModel() + "' is an "
            + "autoencoder (kind ae): it has no prior to sample from; use it for augmentation, "
            + "or synthesize from a gan or vae").asRuntimeException();
      }
      if (r.hasClassLabel()) {
        if (!d.conditional()) {
          throw Errors.invalid("class_label: model '" + r.getModel() + "' is not conditional; "
              + "leave class_label unset");
        }
        int k = d.conditioning().numClasses();
        if (r.getClassLabel() < 0 || r.getClassLabel() >= k) {
          throw Errors.invalid("class_label " + r.getClassLabel() + " is outside 0.." + (k - 1)
              + " for model '" + r.getModel() + "'");
        }
      }
      SynthesizeSettings s = new SynthesizeSettings(m.name(), m.version(), r.getSeed(),
          r.getCount(), r.getBatchSize(), r.hasClassLabel() ? r.getClassLabel() : -1);
      long first = 0;
      if (resume != null) {
        Optional<String> diff = resume.settings().firstDifference(s);
        if (diff.isPresent()) {
          throw Status.FAILED_PRECONDITION.withDescription("resume_token was issued for a "
              + "Synthesize call with a different " + diff.get() + "; send the same request as "
              + "the call that issued it").asRuntimeException();
        }
        if (resume.nextIndex() > r.getCount() || (resume.nextIndex() != r.getCount()
            && resume.nextIndex() % r.getBatchSize() != 0)) {
          throw Errors.invalid("resume_token points outside this stream");
        }
        first = resume.nextIndex() == r.getCount() ? (r.getCount() - 1) / r.getBatchSize() + 1
            : resume.nextIndex() / r.getBatchSize();
      }
      return new SynthesisSource(m, s, tokens, first);
    } catch (RuntimeException e) {
      m.release();
      throw e;
    }
  }

  private static String names(List<LoadedModel> models) {
    return models.isEmpty() ? "(none are loaded)"
        : models.stream().map(LoadedModel::name).toList().toString();
  }

  /** The first batch to send (0, or where a resume token points). */
  long firstBatch() {
    return firstBatch;
  }

  /** Batches in the whole call: ceil(count / batch_size). */
  long endBatch() {
    return (settings.count() - 1) / settings.batchSize() + 1;
  }

  /** Bytes of the largest batch's payload. */
  long largestBatchBytes() {
    long perSample = 0;
    for (FieldSpec f : model.outputs()) {
      perSample += f.sampleBytes();
    }
    return perSample * Math.min(settings.batchSize(), settings.count());
  }

  @Override
  public BatchPayload assemble(long index) throws Exception {
    long first = index * settings.batchSize();
    int n = (int) Math.min(settings.batchSize(), settings.count() - first);
    long[] classes = null;
    if (model.descriptor().conditional()) {
      classes = new long[n];
      for (int i = 0; i < n; i++) {
        classes[i] = settings.classLabel() >= 0 ? settings.classLabel()
            : CounterRng.categorical(settings.seed(), first + i, CounterRng.STREAM_CLASS, uniform);
      }
    }
    LoadedModel.Samples s = model.generate(settings.seed(), first, n, classes);
    long[] ids = new long[n];
    boolean[] synthetic = new boolean[n];
    for (int i = 0; i < n; i++) {
      ids[i] = first + i;
      synthetic[i] = true;
    }
    List<FieldSpec> outputs = model.outputs();
    List<TensorPayload> tensors = new ArrayList<>(outputs.size());
    for (int f = 0; f < outputs.size(); f++) {
      FieldSpec spec = outputs.get(f);
      byte[] data = f == 0 ? s.field() : SyntheticTail.longsLittleEndian(s.classes());
      long[] shape = new long[spec.shape().length + 1];
      shape[0] = n;
      System.arraycopy(spec.shape(), 0, shape, 1, spec.shape().length);
      // The arrays are ours alone, so the payload refers to them without a copy.
      tensors.add(new TensorPayload(spec.name(), spec.dtype().wireNumber(), shape)
          .add(ByteBuffer.wrap(data), 0, data.length));
    }
    return new BatchPayload(index, 0, ids, tensors, settings.token(tokens, first + n), synthetic,
        new boolean[0]);
  }

  @Override
  public void release() {
    if (!released) {
      released = true;
      model.release();
    }
  }
}
