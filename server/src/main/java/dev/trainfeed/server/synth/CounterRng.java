package dev.trainfeed.server.synth;

/**
 * A counter-based random generator: every value is a pure function of (seed, index, stream,
 * component), so a synthetic sample's latents never depend on which other samples were drawn
 * before it, in the same batch or at all. The algorithm is fixed by {@code docs/4-synthesis.md}
 * and reproducible in any language:
 *
 * <pre>
 *   mix(z)            = SplitMix64 finalizer (Steele, Lea, Flood 2014)
 *   bits(s, i, t, j)  = mix(mix(mix(mix(s ^ 0x5EED5EED5EED5EEDL) + i) + t) + j)
 *   uniform(s,i,t,j)  = ((bits >>> 11) + 1) · 2^-53               in (0, 1]
 *   normal(s,i,t,j)   = Box–Muller on uniform(s,i,t,2⌊j/2⌋), uniform(s,i,t,2⌊j/2⌋+1):
 *                       r = sqrt(-2 ln u1); j even → r·cos(2π u2), j odd → r·sin(2π u2)
 * </pre>
 *
 * <p>{@link StrictMath} keeps the normals bit-identical on every JVM. Stateless and thread-safe.
 */
public final class CounterRng {
  /** Stream of the latent vector components. */
  public static final long STREAM_LATENT = 1;
  /** Stream of the class drawn for a conditional model. */
  public static final long STREAM_CLASS = 2;
  /** Stream free for callers (for example the noise of latent-space augmentation). */
  public static final long STREAM_NOISE = 3;

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private CounterRng() {}

  /** The SplitMix64 finalizer: a bijective 64-bit mix. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** 64 random bits for (seed, index, stream, component). */
  public static long bits(long seed, long index, long stream, long component) {
    return mix(mix(mix(mix(seed ^ 0x5EED5EED5EED5EEDL) + index) + stream) + component);
  }

  /** A uniform double in (0, 1] for (seed, index, stream, component). */
  public static double uniform(long seed, long index, long stream, long component) {
    return ((bits(seed, index, stream, component) >>> 11) + 1) * 0x1.0p-53;
  }

  /** A standard normal for (seed, index, stream, component) by the Box–Muller transform. */
  public static double normal(long seed, long index, long stream, long component) {
    long pair = component & ~1L;
    double u1 = uniform(seed, index, stream, pair);
    double u2 = uniform(seed, index, stream, pair + 1);
    double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
    double a = 2.0 * StrictMath.PI * u2;
    return (component & 1L) == 0 ? r * StrictMath.cos(a) : r * StrictMath.sin(a);
  }

  /** Writes {@code dim} standard normals of sample {@code index} into {@code out[at …]}. */
  public static void normals(long seed, long index, long stream, int dim, float[] out, int at) {
    for (int j = 0; j < dim; j++) {
      out[at + j] = (float) normal(seed, index, stream, j);
    }
  }

  /**
   * An index drawn from the discrete distribution {@code cumulative} (non-decreasing counts, the
   * last one the total) for (seed, index, stream): the smallest c with
   * {@code cumulative[c] > floor(uniform · total)}.
   */
  public static int categorical(long seed, long index, long stream, long[] cumulative) {
    long total = cumulative[cumulative.length - 1];
    long r = (long) Math.floor((uniform(seed, index, stream, 0) - 0x1.0p-53) * total);
    int lo = 0;
    int hi = cumulative.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (cumulative[mid] > r) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  /**
   * The seed of the synthetic samples mixed into one (rank, epoch) stream:
   * {@code H(seed, epoch, rank) = mix(mix(mix(seed + GOLDEN) ^ epoch) + rank)}, with GOLDEN the
   * SplitMix64 increment {@code 0x9E3779B97F4A7C15}.
   */
  public static long streamSeed(long seed, long epoch, int rank) {
    return mix(mix(mix(seed + GOLDEN) ^ epoch) + Integer.toUnsignedLong(rank));
  }
}
