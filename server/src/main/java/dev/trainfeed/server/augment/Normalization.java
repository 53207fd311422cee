package dev.trainfeed.server.augment;

import java.util.Arrays;

/**
 * Maps values to {@code (value / scale − mean[c]) / std[c]} per channel; the result is sent as
 * FLOAT32. Not random: it applies to every sample.
 *
 * @param scale divisor applied first, &gt; 0
 * @param mean per-channel mean, one entry per channel
 * @param std per-channel standard deviation, one non-zero entry per channel
 */
record Normalization(double scale, double[] mean, double[] std) {
  void apply(Image image) {
    double[] v = image.values;
    int plane = image.height * image.width;
    for (int c = 0; c < image.channels; c++) {
      double m = mean[c];
      double s = std[c];
      for (int i = c * plane; i < (c + 1) * plane; i++) {
        v[i] = (v[i] / scale - m) / s;
      }
    }
  }

  String canonical() {
    return "normalize(" + scale + "," + Arrays.toString(mean) + "," + Arrays.toString(std) + ")";
  }
}
