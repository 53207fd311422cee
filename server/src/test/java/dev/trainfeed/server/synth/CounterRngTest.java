package dev.trainfeed.server.synth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The counter-based generator: pure, well spread, standard normals. */
class CounterRngTest {

  @Test
  void valuesArePureFunctionsOfTheirKey() {
    assertThat(CounterRng.normal(1, 2, 3, 4)).isEqualTo(CounterRng.normal(1, 2, 3, 4));
    assertThat(CounterRng.normal(1, 2, 3, 4)).isNotEqualTo(CounterRng.normal(1, 3, 3, 4));
    assertThat(CounterRng.normal(1, 2, 3, 4)).isNotEqualTo(CounterRng.normal(2, 2, 3, 4));
    assertThat(CounterRng.streamSeed(5, 0, 0)).isNotEqualTo(CounterRng.streamSeed(5, 0, 1))
        .isNotEqualTo(CounterRng.streamSeed(5, 1, 0));
    // Pinned so that other implementations can check theirs against docs/4-synthesis.md.
    assertThat(CounterRng.bits(0, 0, 0, 0)).isEqualTo(CounterRng.mix(CounterRng.mix(
        CounterRng.mix(CounterRng.mix(0x5EED5EED5EED5EEDL)))));
  }

  @Test
  void normalsHaveMeanZeroAndVarianceOne() {
    int n = 200_000;
    double sum = 0;
    double sq = 0;
    for (int i = 0; i < n; i++) {
      double v = CounterRng.normal(7, i / 16, 1, i % 16);
      sum += v;
      sq += v * v;
    }
    assertThat(sum / n).isBetween(-0.01, 0.01);
    assertThat(sq / n).isBetween(0.98, 1.02);
  }

  @Test
  void categoricalFollowsTheCounts() {
    long[] cum = {10, 10, 40};
    int[] hits = new int[3];
    for (int i = 0; i < 40_000; i++) {
      hits[CounterRng.categorical(3, i, 2, cum)]++;
    }
    assertThat(hits[1]).isZero();
    assertThat(hits[0]).isBetween(9_000, 11_000);
    assertThat(hits[2]).isBetween(29_000, 31_000);
  }
}
