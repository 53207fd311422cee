package dev.trainfeed.server.order;

import java.util.Arrays;
import java.util.function.LongToIntFunction;

/**
 * The chunks one rank's epoch visits, in the order of their first visit: the future a stream
 * tells the prefetcher and the eviction policy about. It follows from the epoch order and the
 * shard plan alone, so it is known in full the moment a stream starts.
 */
public final class ChunkVisits {
  private ChunkVisits() {}

  /**
   * What one rank's epoch asks of each chunk, from a batch on.
   *
   * @param sequence distinct chunks in first-visit order
   * @param uses for every chunk of the dataset, how many sample reads it serves (padding repeats
   *     included); 0 for chunks never visited
   */
  public record Visits(int[] sequence, int[] uses) {}

  /**
   * Distinct chunks of the batches {@code fromBatch …} of {@code shard} (through the last batch
   * the rank is sent), in first-visit order.
   *
   * @param order the epoch order
   * @param shard the rank's share of it
   * @param fromBatch the first batch still to send, {@code 0 … numBatches} (at the end: empty)
   * @param numChunks chunks in the dataset
   * @param chunkOf the chunk index holding a sample id
   */
  public static int[] firstVisits(EpochOrder order, ShardPlan shard, long fromBatch,
      int numChunks, LongToIntFunction chunkOf) {
    return visits(order, shard, fromBatch, numChunks, chunkOf).sequence();
  }

  /**
   * The first-visit order of {@link #firstVisits} and, in the same pass, how many sample reads
   * each chunk serves, so that a stream can let go of a chunk after its last one.
   *
   * @throws IndexOutOfBoundsException {@code fromBatch} is outside {@code 0 … numBatches}
   */
  public static Visits visits(EpochOrder order, ShardPlan shard, long fromBatch, int numChunks,
      LongToIntFunction chunkOf) {
    long batches = shard.numBatches();
    if (fromBatch < 0 || fromBatch > batches) {
      throw new IndexOutOfBoundsException("fromBatch " + fromBatch + " of " + batches);
    }
    int[] uses = new int[numChunks];
    if (fromBatch == batches) {
      return new Visits(new int[0], uses);
    }
    long from = shard.firstPosition(fromBatch);
    long end = shard.firstPosition(batches - 1) + shard.batchLength(batches - 1);
    // A separate cursor keeps the caller's window memory intact.
    EpochOrder cursor = order.cursor();
    int[] out = new int[Math.min(numChunks, 64)];
    int n = 0;
    for (long ext = from; ext < end; ext++) {
      int c = chunkOf.applyAsInt(cursor.sampleAt(shard.orderPosition(ext)));
      if (uses[c]++ == 0) {
        if (n == out.length) {
          out = Arrays.copyOf(out, Math.min(numChunks, 2 * n));
        }
        out[n++] = c;
      }
    }
    return new Visits(Arrays.copyOf(out, n), uses);
  }
}
