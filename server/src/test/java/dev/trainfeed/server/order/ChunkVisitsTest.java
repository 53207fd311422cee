package dev.trainfeed.server.order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongToIntFunction;
import org.junit.jupiter.api.Test;

class ChunkVisitsTest {
  private static final int CHUNKS = 23;
  private static final int PER_CHUNK = 9;
  private static final long N = (long) CHUNKS * PER_CHUNK - 4; // a short last chunk

  private static int[] layout() {
    int[] counts = new int[CHUNKS];
    java.util.Arrays.fill(counts, PER_CHUNK);
    counts[CHUNKS - 1] = PER_CHUNK - 4;
    return counts;
  }

  private static final LongToIntFunction CHUNK_OF = id -> (int) (id / PER_CHUNK);

  @Test
  void sequenceAndUsesMatchAWalkOverTheRanksBatches() {
    EpochOrder order = EpochOrder.of("v1", layout(), true, 17, 2, 4);
    for (int world : new int[] {1, 3, 4}) {
      for (int rank = 0; rank < world; rank++) {
        ShardPlan shard = ShardPlan.of(N, world, rank, 10, false);
        for (long from : new long[] {0, 1, shard.numBatches() - 1}) {
          Set<Integer> firsts = new LinkedHashSet<>();
          int[] uses = new int[CHUNKS];
          for (long b = from; b < shard.numBatches(); b++) {
            for (int i = 0; i < shard.batchLength(b); i++) {
              long ext = shard.firstPosition(b) + i;
              int c = CHUNK_OF.applyAsInt(order.sampleAt(shard.orderPosition(ext)));
              firsts.add(c);
              uses[c]++;
            }
          }
          ChunkVisits.Visits v = ChunkVisits.visits(order, shard, from, CHUNKS, CHUNK_OF);
          List<Integer> seq = new ArrayList<>();
          for (int c : v.sequence()) {
            seq.add(c);
          }
          assertThat(seq).as("world %d rank %d from %d", world, rank, from)
              .containsExactlyElementsOf(firsts);
          assertThat(v.uses()).isEqualTo(uses);
          assertThat(ChunkVisits.firstVisits(order, shard, from, CHUNKS, CHUNK_OF))
              .isEqualTo(v.sequence());
        }
      }
    }
  }

  @Test
  void theEndOfTheEpochVisitsNothingAndBeyondItIsAnError() {
    EpochOrder order = EpochOrder.of("v1", layout(), false, 1, 0, 1);
    ShardPlan shard = ShardPlan.of(N, 2, 1, 8, true);
    ChunkVisits.Visits end = ChunkVisits.visits(order, shard, shard.numBatches(), CHUNKS,
        CHUNK_OF);
    assertThat(end.sequence()).isEmpty();
    assertThat(end.uses()).containsOnly(0);
    assertThatThrownBy(() -> ChunkVisits.visits(order, shard, shard.numBatches() + 1, CHUNKS,
        CHUNK_OF)).isInstanceOf(IndexOutOfBoundsException.class);
  }
}
