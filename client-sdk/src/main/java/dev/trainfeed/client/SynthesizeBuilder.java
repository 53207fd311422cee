package dev.trainfeed.client;

import dev.trainfeed.client.internal.BatchStream;
import dev.trainfeed.client.internal.ProtoMapping;
import dev.trainfeed.client.internal.Replicas;
import dev.trainfeed.client.internal.SynthesizeParams;

/**
 * Settings of one stream of synthetic samples; {@link #open()} starts it. Made by {@link
 * TrainFeedClient#synthesize(String)}. {@link #count(long)} and {@link #batchSize(int)} are
 * required.
 *
 * <p>Sample i is a pure function of (model version, seed, i, class, execution provider): the same
 * settings give the same bytes, whatever the batch size, and a resumed stream continues exactly.
 * Every sample is flagged synthetic and its sample id is its index. The iterator reconnects like
 * {@link BatchStreamBuilder}'s.
 */
public final class SynthesizeBuilder {
  private final Replicas replicas;
  private final String model;
  private long count;
  private int batchSize;
  private long seed;
  private Long classLabel;
  private int prefetch = 4;
  private ResumeToken resumeFrom;

  SynthesizeBuilder(Replicas replicas, String model) {
    this.replicas = replicas;
    this.model = model;
  }

  /**
   * Sets how many samples the stream holds; required.
   *
   * @param count ≥ 1
   */
  public SynthesizeBuilder count(long count) {
    if (count < 1) {
      throw new IllegalArgumentException("count must be >= 1, was " + count);
    }
    this.count = count;
    return this;
  }

  /**
   * Sets the samples per batch; required. The last batch may be shorter.
   *
   * @param batchSize ≥ 1
   */
  public SynthesizeBuilder batchSize(int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, was " + batchSize);
    }
    this.batchSize = batchSize;
    return this;
  }

  /** Sets the latent seed; default 0. Any value; read as unsigned 64-bit by the server. */
  public SynthesizeBuilder seed(long seed) {
    this.seed = seed;
    return this;
  }

  /**
   * Generates every sample of this class (conditional models only); default: the server draws
   * classes uniformly.
   *
   * @param classLabel 0 ≤ classLabel &lt; the model's classes
   */
  public SynthesizeBuilder classLabel(long classLabel) {
    if (classLabel < 0) {
      throw new IllegalArgumentException("classLabel must be >= 0, was " + classLabel);
    }
    this.classLabel = classLabel;
    return this;
  }

  /**
   * Sets how many batches are requested ahead through gRPC flow control; default 4.
   *
   * @param depth 1 to 1024
   */
  public SynthesizeBuilder prefetch(int depth) {
    if (depth < 1 || depth > 1024) {
      throw new IllegalArgumentException("prefetch must be between 1 and 1024 batches, was "
          + depth);
    }
    this.prefetch = depth;
    return this;
  }

  /**
   * Starts after the batch that carried {@code token}; the other settings must be the ones that
   * stream had, and the model must not have been replaced since. Default: from sample 0.
   */
  public SynthesizeBuilder resumeFrom(ResumeToken token) {
    if (token == null) {
      throw new IllegalArgumentException("token must not be null; omit resumeFrom(...) to start "
          + "at sample 0");
    }
    this.resumeFrom = token;
    return this;
  }

  /**
   * Opens the stream and requests the first {@code prefetch} batches.
   *
   * @throws IllegalStateException if {@link #count(long)} or {@link #batchSize(int)} was not set
   */
  public BatchIterator open() {
    if (count == 0 || batchSize == 0) {
      throw new IllegalStateException("call count(n) and batchSize(n) before open()");
    }
    SynthesizeParams p = new SynthesizeParams(model, count, batchSize, seed, classLabel,
        resumeFrom == null ? new byte[0] : resumeFrom.toBytes(), prefetch);
    return new BatchStream(replicas, 0, 1, p.resumeToken(), prefetch,
        (stub, epoch, token, observer) -> stub.synthesize(ProtoMapping.request(p, token),
            observer));
  }
}
