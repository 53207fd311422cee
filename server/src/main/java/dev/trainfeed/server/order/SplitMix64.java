package dev.trainfeed.server.order;

/**
 * The SplitMix64 generator (Steele, Lea, Flood 2014), written out so that the epoch order is the
 * same on every JVM and can be reproduced in any language (see {@code docs/2-order.md}). The
 * augmentation stage draws its random choices from it too ({@code docs/3-augmentation.md}).
 */
public final class SplitMix64 {
  private long state;

  /** A generator whose first output is {@code mix(seed + 0x9E3779B97F4A7C15)}. */
  public SplitMix64(long seed) {
    this.state = seed;
  }

  /** The next 64 uniformly distributed bits. */
  public long nextLong() {
    state += 0x9E3779B97F4A7C15L;
    return mix(state);
  }

  /** The SplitMix64 finalizer: a bijective 64-bit mix. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Uniform in {@code [0, bound)} without modulo bias (rejection on the top of the range). */
  public long nextBounded(long bound) {
    long r = nextLong() >>> 1;
    long v = r % bound;
    while (r - v + (bound - 1) < 0) {
      r = nextLong() >>> 1;
      v = r % bound;
    }
    return v;
  }

  /** Uniform in {@code [0, 1)}: the top 53 bits of {@link #nextLong()} times 2^-53. */
  public double nextDouble() {
    return (nextLong() >>> 11) * 0x1.0p-53;
  }

  /** Fisher–Yates shuffle of {@code a}, from the last element down. */
  void shuffle(long[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = (int) nextBounded(i + 1L);
      long t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  void shuffle(int[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = (int) nextBounded(i + 1L);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
