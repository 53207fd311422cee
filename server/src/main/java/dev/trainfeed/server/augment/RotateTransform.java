package dev.trainfeed.server.augment;

import dev.trainfeed.server.order.SplitMix64;

/**
 * Rotates the image about its centre by an angle drawn uniformly from
 * {@code [-maxDegrees, maxDegrees]}; positive angles turn it counter-clockwise as displayed (rows
 * downwards), as {@code numpy.rot90} does for 90°. Output pixels are bilinear interpolations of
 * the source; source positions outside the image count as 0, so the size stays and corners fill
 * with 0.
 */
record RotateTransform(double probability, double maxDegrees) implements Transform {
  /** Source coordinates this close to a whole pixel are taken as that pixel: 90° stays exact. */
  private static final double SNAP = 1e-9;

  @Override
  public int keyIndex() {
    return 4;
  }

  @Override
  public void apply(Image image, SplitMix64 random) {
    rotate(image, maxDegrees * (2 * random.nextDouble() - 1));
  }

  static void rotate(Image image, double degrees) {
    double rad = Math.toRadians(degrees);
    double cos = Math.cos(rad);
    double sin = Math.sin(rad);
    int h = image.height;
    int w = image.width;
    double cx = (w - 1) / 2.0;
    double cy = (h - 1) / 2.0;
    double[] src = image.values;
    double[] dst = image.spare;
    int plane = h * w;
    for (int y = 0; y < h; y++) {
      double dy = y - cy;
      for (int x = 0; x < w; x++) {
        double dx = x - cx;
        double sx = cx + dx * cos - dy * sin;
        double sy = cy + dx * sin + dy * cos;
        int x0 = (int) Math.floor(sx);
        int y0 = (int) Math.floor(sy);
        double fx = sx - x0;
        double fy = sy - y0;
        if (fx < SNAP) {
          fx = 0;
        } else if (fx > 1 - SNAP) {
          x0++;
          fx = 0;
        }
        if (fy < SNAP) {
          fy = 0;
        } else if (fy > 1 - SNAP) {
          y0++;
          fy = 0;
        }
        for (int c = 0; c < image.channels; c++) {
          int base = c * plane;
          double v = weight(src, base, w, h, x0, y0) * (1 - fx) * (1 - fy);
          if (fx != 0) {
            v += weight(src, base, w, h, x0 + 1, y0) * fx * (1 - fy);
          }
          if (fy != 0) {
            v += weight(src, base, w, h, x0, y0 + 1) * (1 - fx) * fy;
            if (fx != 0) {
              v += weight(src, base, w, h, x0 + 1, y0 + 1) * fx * fy;
            }
          }
          dst[base + y * w + x] = v;
        }
      }
    }
    image.swap();
  }

  private static double weight(double[] src, int base, int w, int h, int x, int y) {
    return x < 0 || y < 0 || x >= w || y >= h ? 0 : src[base + y * w + x];
  }

  @Override
  public String canonical() {
    return "rotation(" + probability + "," + maxDegrees + ")";
  }
}
