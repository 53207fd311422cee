package dev.trainfeed.server.synth;

import java.util.Arrays;

/**
 * Sample-quality measures on feature vectors (one row per sample): MMD with an RBF kernel and
 * k-NN manifold precision and recall (Kynkäänniemi et al., 2019).
 *
 * <ul>
 *   <li>{@link #mmd}: the unbiased estimate of MMD² with {@code k(x, y) = exp(−‖x−y‖² / h)}, where
 *       the bandwidth {@code h} is fixed once per evaluation by the median heuristic ({@link
 *       #medianSquaredDistance} of the real reference samples), so that all rows of a report are
 *       comparable. 0 means indistinguishable; larger is worse.</li>
 *   <li>{@link #precision}: the fraction of candidate samples within the k-th nearest-neighbour
 *       radius of some reference sample (are candidates realistic?); {@link #recall} swaps the
 *       roles (do the candidates cover the reference?). k = 3.</li>
 * </ul>
 */
public final class SampleQuality {
  /** Neighbours that fix a sample's manifold radius. */
  public static final int K = 3;

  private SampleQuality() {}

  static double sq(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      double d = a[i] - b[i];
      s += d * d;
    }
    return s;
  }

  /** Median of the pairwise squared distances within {@code x} (the median heuristic). */
  public static double medianSquaredDistance(float[][] x) {
    int n = x.length;
    double[] d = new double[n * (n - 1) / 2];
    int at = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        d[at++] = sq(x[i], x[j]);
      }
    }
    Arrays.sort(d);
    return Math.max(d[d.length / 2], 1e-12);
  }

  /** Unbiased MMD² between {@code x} and {@code y} with bandwidth {@code h}. */
  public static double mmd(float[][] x, float[][] y, double h) {
    return mean(x, x, h, true) + mean(y, y, h, true) - 2 * mean(x, y, h, false);
  }

  private static double mean(float[][] a, float[][] b, double h, boolean same) {
    double s = 0;
    long n = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < b.length; j++) {
        if (same && i == j) {
          continue;
        }
        s += Math.exp(-sq(a[i], b[j]) / h);
        n++;
      }
    }
    return s / n;
  }

  /** The distance from each sample of {@code x} to its K-th nearest other sample in {@code x}. */
  static double[] radii(float[][] x) {
    double[] r = new double[x.length];
    double[] d = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x.length; j++) {
        d[j] = i == j ? Double.POSITIVE_INFINITY : sq(x[i], x[j]);
      }
      double[] sorted = d.clone();
      Arrays.sort(sorted);
      r[i] = sorted[K - 1];
    }
    return r;
  }

  /** The fraction of {@code candidates} inside the k-NN manifold of {@code reference}. */
  public static double precision(float[][] reference, float[][] candidates) {
    double[] r = radii(reference);
    int inside = 0;
    for (float[] c : candidates) {
      for (int i = 0; i < reference.length; i++) {
        if (sq(c, reference[i]) <= r[i]) {
          inside++;
          break;
        }
      }
    }
    return inside / (double) candidates.length;
  }

  /** The fraction of {@code reference} inside the k-NN manifold of {@code candidates}. */
  public static double recall(float[][] reference, float[][] candidates) {
    return precision(candidates, reference);
  }
}
