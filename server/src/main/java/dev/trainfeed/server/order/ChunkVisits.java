package dev.trainfeed.server.order;

import java.util.Arrays;
import java.util.BitSet;
import java.util.function.LongToIntFunction;

/**
 * The chunks one rank's epoch visits, in the order of their first visit: the future a stream
 * tells the prefetcher and the eviction policy about. It follows from the epoch order and the
 * shard plan alone, so it is known in full the moment a stream starts.
 */
public final class ChunkVisits {
  private ChunkVisits() {}

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
    long batches = shard.numBatches();
    if (fromBatch < 0 || fromBatch > batches) {
      throw new IndexOutOfBoundsException("fromBatch " + fromBatch + " of " + batches);
    }
    if (fromBatch == batches) {
      return new int[0];
    }
    long from = shard.firstPosition(fromBatch);
    long end = shard.firstPosition(batches - 1) + shard.batchLength(batches - 1);
    // A separate cursor keeps the caller's window memory intact.
    EpochOrder cursor = order.cursor();
    BitSet seen = new BitSet(numChunks);
    int[] out = new int[Math.min(numChunks, 64)];
    int n = 0;
    for (long ext = from; ext < end; ext++) {
      int c = chunkOf.applyAsInt(cursor.sampleAt(shard.orderPosition(ext)));
      if (!seen.get(c)) {
        seen.set(c);
        if (n == out.length) {
          out = Arrays.copyOf(out, Math.min(numChunks, 2 * n));
        }
        out[n++] = c;
        if (n == numChunks) {
          break;
        }
      }
    }
    return Arrays.copyOf(out, n);
  }
}
