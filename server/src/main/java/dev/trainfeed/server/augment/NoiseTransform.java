package dev.trainfeed.server.augment;

import dev.trainfeed.server.order.SplitMix64;

/**
 * Adds Gaussian noise of standard deviation {@code stddev × range} to every value, drawn in the
 * order of the planar (channel, row, column) view by the Box–Muller transform: each pair of
 * uniforms {@code u1, u2} gives {@code r·cos(2πu2)} then {@code r·sin(2πu2)} with
 * {@code r = sqrt(−2 ln(1 − u1))}.
 *
 * @param range the field's value range (255 for uint8, 1 for floats, or the normalize scale)
 */
record NoiseTransform(double probability, double stddev, double range) implements Transform {
  @Override
  public int keyIndex() {
    return 6;
  }

  @Override
  public void apply(Image image, SplitMix64 random) {
    double sigma = stddev * range;
    double[] v = image.values;
    for (int i = 0; i < v.length; i += 2) {
      double r = Math.sqrt(-2 * Math.log(1 - random.nextDouble()));
      double a = 2 * Math.PI * random.nextDouble();
      v[i] += sigma * r * Math.cos(a);
      if (i + 1 < v.length) {
        v[i + 1] += sigma * r * Math.sin(a);
      }
    }
  }

  @Override
  public String canonical() {
    return "noise(" + probability + "," + stddev + ")";
  }
}
