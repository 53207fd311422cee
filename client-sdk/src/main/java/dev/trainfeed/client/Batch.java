package dev.trainfeed.client;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One batch of one rank's epoch, as the server sent it: the sample ids, one {@link Tensor} per
 * requested field, per-sample flags and the {@link ResumeToken} that continues after it.
 * Accessors return copies of arrays; the tensors' bytes are shared, read-only.
 */
public final class Batch {
  private static final boolean[] NONE = new boolean[0];

  private final long index;
  private final long epoch;
  private final long[] sampleIds;
  private final List<Tensor> tensors;
  private final boolean[] synthetic;
  private final boolean[] padding;
  private final ResumeToken resumeToken;

  /**
   * Creates a batch.
   *
   * @param index 0-based batch number within this rank's epoch, ≥ 0
   * @param epoch the epoch, ≥ 0
   * @param sampleIds one id per sample
   * @param tensors one tensor per field, names distinct
   * @param synthetic empty when no sample is synthetic, else one flag per sample
   * @param padding empty when no sample is a padding repeat, else one flag per sample
   * @param resumeToken the token that continues after this batch, not null
   * @throws IllegalArgumentException if a flag array has neither 0 nor sampleIds.length entries,
   *     or two tensors share a name
   */
  public Batch(long index, long epoch, long[] sampleIds, List<Tensor> tensors, boolean[] synthetic,
      boolean[] padding, ResumeToken resumeToken) {
    if (index < 0 || epoch < 0) {
      throw new IllegalArgumentException("index and epoch must be >= 0, were " + index + ", " + epoch);
    }
    this.index = index;
    this.epoch = epoch;
    this.sampleIds = sampleIds.clone();
    this.tensors = List.copyOf(tensors);
    this.synthetic = flags("synthetic", synthetic);
    this.padding = flags("padding", padding);
    this.resumeToken = Objects.requireNonNull(resumeToken, "resumeToken");
    if (this.tensors.stream().map(Tensor::name).distinct().count() != this.tensors.size()) {
      throw new IllegalArgumentException("tensor names must be distinct: " + this.tensors);
    }
  }

  private boolean[] flags(String what, boolean[] flags) {
    if (flags.length != 0 && flags.length != sampleIds.length) {
      throw new IllegalArgumentException(what + " has " + flags.length + " flags for "
          + sampleIds.length + " samples; pass one per sample or none");
    }
    return flags.length == 0 ? NONE : flags.clone();
  }

  /** Returns the 0-based batch number within this rank's epoch. */
  public long index() {
    return index;
  }

  /** Returns the epoch this batch belongs to. */
  public long epoch() {
    return epoch;
  }

  /**
   * Returns a copy of the sample ids: positions 0 … N-1 in the dataset's stored order for real
   * samples, N + i for synthetic sample i.
   */
  public long[] sampleIds() {
    return sampleIds.clone();
  }

  /** Returns the number of samples in this batch. */
  public int size() {
    return sampleIds.length;
  }

  /**
   * Returns the tensor of one field.
   *
   * @throws IllegalArgumentException if this batch has no such field
   */
  public Tensor tensor(String name) {
    for (Tensor t : tensors) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    List<String> names = new ArrayList<>();
    tensors.forEach(t -> names.add(t.name()));
    throw new IllegalArgumentException("batch has no field '" + name + "'; it has " + names);
  }

  /** Returns all tensors, in the server's order; unmodifiable. */
  public List<Tensor> tensors() {
    return tensors;
  }

  /** Returns one flag per sample, true for synthetic samples; empty when none is synthetic. */
  public boolean[] synthetic() {
    return synthetic.clone();
  }

  /**
   * Returns whether sample {@code i} is synthetic.
   *
   * @param i sample index, 0 ≤ i &lt; {@link #size()}
   */
  public boolean isSynthetic(int i) {
    Objects.checkIndex(i, sampleIds.length);
    return synthetic.length != 0 && synthetic[i];
  }

  /**
   * Returns one flag per sample, true for padding repeats that even out the ranks' shares; empty
   * when none is padding.
   */
  public boolean[] padding() {
    return padding.clone();
  }

  /**
   * Returns whether sample {@code i} is a padding repeat.
   *
   * @param i sample index, 0 ≤ i &lt; {@link #size()}
   */
  public boolean isPadding(int i) {
    Objects.checkIndex(i, sampleIds.length);
    return padding.length != 0 && padding[i];
  }

  /** Returns the token that resumes the stream after this batch; it knows this batch's epoch. */
  public ResumeToken resumeToken() {
    return resumeToken;
  }

  @Override
  public String toString() {
    return "Batch{epoch=" + epoch + ", index=" + index + ", size=" + sampleIds.length + ", tensors="
        + tensors + (sampleIds.length <= 8 ? ", sampleIds=" + Arrays.toString(sampleIds) : "") + "}";
  }
}
