package dev.trainfeed.server.order;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The order in which one epoch visits a dataset's samples: a block shuffle that depends only on
 * (dataset version, seed, epoch, shuffle window), so it is the same on every server, after every
 * restart, for every world size and batch size.
 *
 * <p>Without shuffle the order is the stored order. With shuffle: the chunks are permuted, the
 * permuted chunk list is cut into windows of {@code shuffleWindow} chunks, and the samples of each
 * window are permuted among themselves. Reads stay local (a window at a time) while samples from
 * different chunks mix. Permutations of a window are computed when first needed, so memory is
 * bounded by one window, not by the dataset. The exact algorithm is in {@code docs/2-order.md}.
 *
 * <p>Not thread-safe: each stream owns its instance.
 */
public final class EpochOrder {
  /** Shuffle window used when a request says 0, in chunks. */
  public static final int DEFAULT_SHUFFLE_WINDOW = 16;

  private final long numSamples;
  private final boolean shuffle;
  private final long key;
  private final long[] chunkStarts;
  private final int[] chunkSizes;
  private final int[] chunkOrder;
  private final int window;
  /** Position in the epoch order at which each window starts; one extra entry = N. */
  private final long[] windowStarts;

  private int cachedWindow = -1;
  private long[] cachedPermutation;

  private EpochOrder(EpochOrder other) {
    this.numSamples = other.numSamples;
    this.shuffle = other.shuffle;
    this.key = other.key;
    this.chunkStarts = other.chunkStarts;
    this.chunkSizes = other.chunkSizes;
    this.chunkOrder = other.chunkOrder;
    this.window = other.window;
    this.windowStarts = other.windowStarts;
  }

  private EpochOrder(int[] chunkSizes, boolean shuffle, long key, int window) {
    this.chunkSizes = chunkSizes.clone();
    this.shuffle = shuffle;
    this.key = key;
    this.window = window;
    this.chunkStarts = new long[chunkSizes.length];
    long n = 0;
    for (int i = 0; i < chunkSizes.length; i++) {
      if (chunkSizes[i] <= 0) {
        throw new IllegalArgumentException("chunk " + i + " has " + chunkSizes[i] + " samples");
      }
      chunkStarts[i] = n;
      n += chunkSizes[i];
    }
    this.numSamples = n;
    this.chunkOrder = new int[chunkSizes.length];
    for (int i = 0; i < chunkOrder.length; i++) {
      chunkOrder[i] = i;
    }
    if (shuffle) {
      new SplitMix64(key).shuffle(chunkOrder);
    }
    int windows = shuffle ? (chunkSizes.length + window - 1) / window : 1;
    this.windowStarts = new long[windows + 1];
    long pos = 0;
    for (int w = 0; w < windows; w++) {
      windowStarts[w] = pos;
      if (shuffle) {
        for (int c = w * window; c < Math.min(chunkOrder.length, (w + 1) * window); c++) {
          pos += chunkSizes[chunkOrder[c]];
        }
      } else {
        pos = n;
      }
    }
    windowStarts[windows] = pos;
  }

  /**
   * The order of one epoch.
   *
   * @param datasetVersion the dataset's content version
   * @param chunkSampleCounts samples in each chunk, in stored order (all positive)
   * @param shuffle false for stored order
   * @param seed the request's seed
   * @param epoch the epoch number
   * @param shuffleWindow window in chunks, at least 1 (callers map the wire's 0 to
   *     {@link #DEFAULT_SHUFFLE_WINDOW})
   */
  public static EpochOrder of(String datasetVersion, int[] chunkSampleCounts, boolean shuffle,
      long seed, long epoch, int shuffleWindow) {
    if (shuffleWindow < 1) {
      throw new IllegalArgumentException("shuffle window must be at least 1 chunk, got "
          + shuffleWindow);
    }
    return new EpochOrder(chunkSampleCounts, shuffle,
        shuffle ? orderKey(datasetVersion, seed, epoch, shuffleWindow) : 0L, shuffleWindow);
  }

  /**
   * The 64-bit key of an epoch's permutation: the first 8 bytes (little-endian) of SHA-256 over
   * {@code "trainfeed.order.v1\0" + version (UTF-8) + "\0" + seed, epoch (8 bytes LE each) +
   * window (4 bytes LE)}.
   */
  static long orderKey(String datasetVersion, long seed, long epoch, int shuffleWindow) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update("trainfeed.order.v1\0".getBytes(StandardCharsets.UTF_8));
      sha.update(datasetVersion.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(seed).putLong(epoch).putInt(shuffleWindow);
      sha.update(b.array());
      return ByteBuffer.wrap(sha.digest()).order(ByteOrder.LITTLE_ENDIAN).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java platform", e);
    }
  }

  /**
   * The same order with its own window memory, for a second cursor (the prefetcher's) that would
   * otherwise make this one recompute its window on every switch.
   */
  public EpochOrder cursor() {
    return new EpochOrder(this);
  }

  /** Number of samples, {@code N}. */
  public long size() {
    return numSamples;
  }

  /** The sample id at {@code position} of this epoch's order, for {@code 0 <= position < N}. */
  public long sampleAt(long position) {
    if (position < 0 || position >= numSamples) {
      throw new IndexOutOfBoundsException("position " + position + " of " + numSamples);
    }
    if (!shuffle) {
      return position;
    }
    int w = Arrays.binarySearch(windowStarts, position);
    if (w < 0) {
      w = -w - 2;
    }
    // Empty trailing windows cannot occur (every chunk has samples), so w is the window.
    return windowPermutation(w)[(int) (position - windowStarts[w])];
  }

  private long[] windowPermutation(int w) {
    if (w != cachedWindow) {
      long[] ids = new long[(int) (windowStarts[w + 1] - windowStarts[w])];
      int k = 0;
      for (int c = w * window; c < Math.min(chunkOrder.length, (w + 1) * window); c++) {
        int chunk = chunkOrder[c];
        for (int s = 0; s < chunkSizes[chunk]; s++) {
          ids[k++] = chunkStarts[chunk] + s;
        }
      }
      new SplitMix64(SplitMix64.mix(key + w + 1)).shuffle(ids);
      cachedPermutation = ids;
      cachedWindow = w;
    }
    return cachedPermutation;
  }
}
