package dev.trainfeed.server.order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShardPlanTest {

  /** Every world size 1–9 over sizes that do not divide, with and without drop_last. */
  @Test
  void shardsCoverTheEpochLikeDistributedSampler() {
    for (long n : new long[] {1, 2, 7, 10, 31, 100, 257}) {
      for (int w = 1; w <= 9; w++) {
        for (int b : new int[] {1, 3, 8, 64}) {
          checkNoDropLast(n, w, b);
          checkDropLast(n, w, b);
        }
      }
    }
  }

  private static void checkNoDropLast(long n, int w, int b) {
    long s = (n + w - 1) / w;
    Map<Long, Integer> seen = new HashMap<>();
    long batches = -1;
    long padding = 0;
    for (int r = 0; r < w; r++) {
      ShardPlan p = ShardPlan.of(n, w, r, b, false);
      assertThat(p.samplesPerRank()).isEqualTo(s);
      if (batches < 0) {
        batches = p.numBatches();
      }
      assertThat(p.numBatches()).as("equal batch counts n=%d w=%d b=%d", n, w, b)
          .isEqualTo(batches).isEqualTo((s + b - 1) / b);
      long expectedPos = r * s;
      long total = 0;
      for (long i = 0; i < p.numBatches(); i++) {
        assertThat(p.firstPosition(i)).isEqualTo(expectedPos);
        int len = p.batchLength(i);
        assertThat(len).isBetween(1, b);
        if (i < p.numBatches() - 1) {
          assertThat(len).isEqualTo(b);
        }
        for (long e = expectedPos; e < expectedPos + len; e++) {
          if (p.isPadding(e)) {
            padding++;
          }
          seen.merge(p.orderPosition(e), 1, Integer::sum);
        }
        expectedPos += len;
        total += len;
      }
      assertThat(total).isEqualTo(s);
    }
    assertThat(padding).isEqualTo(w * s - n);
    for (long pos = 0; pos < n; pos++) {
      assertThat(seen.get(pos)).as("position %d n=%d w=%d", pos, n, w).isNotNull();
    }
    if (w == 1) {
      assertThat(seen.values()).allMatch(c -> c == 1);
    }
  }

  private static void checkDropLast(long n, int w, int b) {
    long s = n / w;
    for (int r = 0; r < w; r++) {
      ShardPlan p = ShardPlan.of(n, w, r, b, true);
      assertThat(p.samplesPerRank()).isEqualTo(s);
      assertThat(p.numBatches()).isEqualTo(s / b);
      for (long i = 0; i < p.numBatches(); i++) {
        assertThat(p.batchLength(i)).isEqualTo(b);
        for (long e = p.firstPosition(i); e < p.firstPosition(i) + b; e++) {
          assertThat(p.isPadding(e)).isFalse();
          assertThat(e).isLessThan((r + 1) * s);
        }
      }
    }
  }

  @Test
  void rejectsBadArguments() {
    assertThatThrownBy(() -> ShardPlan.of(10, 2, 2, 1, false))
        .hasMessageContaining("rank 2 is outside world size 2");
    assertThatThrownBy(() -> ShardPlan.of(10, 1, 0, 0, false))
        .hasMessageContaining("at least 1");
    assertThatThrownBy(() -> ShardPlan.of(0, 1, 0, 1, false)).hasMessageContaining("no samples");
  }
}
