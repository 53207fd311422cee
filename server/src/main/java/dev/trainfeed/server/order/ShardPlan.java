package dev.trainfeed.server.order;

/**
 * How one rank's share of an epoch is cut into batches, as PyTorch's DistributedSampler does it.
 *
 * <p>With {@code dropLast=false}, {@code S = ceil(N/W)} and the epoch order is extended by its own
 * first {@code W·S − N} entries (padding, flagged on the wire); with {@code dropLast=true},
 * {@code S = floor(N/W)}. Rank {@code r} gets extended positions {@code [r·S, (r+1)·S)} in
 * {@code ceil(S/B)} batches (the last may be short), or {@code floor(S/B)} full batches with
 * {@code dropLast}. Every rank gets the same number of batches.
 */
public final class ShardPlan {
  private final long numSamples;
  private final int rank;
  private final int samplesPerBatch;
  private final long perRank;
  private final long numBatches;

  private ShardPlan(long numSamples, int worldSize, int rank, int samplesPerBatch,
      boolean dropLast) {
    this.numSamples = numSamples;
    this.rank = rank;
    this.samplesPerBatch = samplesPerBatch;
    this.perRank = dropLast ? numSamples / worldSize : (numSamples + worldSize - 1) / worldSize;
    this.numBatches = dropLast ? perRank / samplesPerBatch
        : (perRank + samplesPerBatch - 1) / samplesPerBatch;
  }

  /**
   * The plan for one rank.
   *
   * @param numSamples {@code N}, at least 1
   * @param worldSize {@code W}, at least 1
   * @param rank {@code r}, in {@code [0, W)}
   * @param samplesPerBatch real samples per full batch ({@code B} minus synthetic ones), at least 1
   * @param dropLast whether to drop the tail instead of padding
   */
  public static ShardPlan of(long numSamples, int worldSize, int rank, int samplesPerBatch,
      boolean dropLast) {
    if (numSamples < 1) {
      throw new IllegalArgumentException("dataset has no samples");
    }
    if (worldSize < 1 || rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("rank " + rank + " is outside world size " + worldSize);
    }
    if (samplesPerBatch < 1) {
      throw new IllegalArgumentException("samples per batch must be at least 1");
    }
    return new ShardPlan(numSamples, worldSize, rank, samplesPerBatch, dropLast);
  }

  /** Samples this rank gets per epoch, {@code S}. */
  public long samplesPerRank() {
    return perRank;
  }

  /** Batches this rank gets per epoch (the same for every rank). */
  public long numBatches() {
    return numBatches;
  }

  /** Real samples in batch {@code batch}. */
  public int batchLength(long batch) {
    checkBatch(batch);
    return (int) Math.min(samplesPerBatch, perRank - batch * samplesPerBatch);
  }

  /** Extended-order position of the first sample of batch {@code batch}. */
  public long firstPosition(long batch) {
    checkBatch(batch);
    return rank * perRank + batch * samplesPerBatch;
  }

  /** Whether an extended position is padding (a repeat from the start of the order). */
  public boolean isPadding(long extendedPosition) {
    return extendedPosition >= numSamples;
  }

  /** The position in the epoch order that an extended position stands for. */
  public long orderPosition(long extendedPosition) {
    return extendedPosition % numSamples;
  }

  private void checkBatch(long batch) {
    if (batch < 0 || batch >= numBatches) {
      throw new IndexOutOfBoundsException("batch " + batch + " of " + numBatches);
    }
  }
}
