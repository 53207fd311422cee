package dev.trainfeed.server.augment;

/**
 * One sample being augmented: its values as doubles, channel planes one after another
 * ({@code (c·height + y)·width + x}), whatever the field's layout. The spare buffer lets geometric
 * transforms write their output without allocating. Not thread-safe.
 */
final class Image {
  final int height;
  final int width;
  final int channels;
  /** The values, in the field's own units (0..255 for uint8). */
  double[] values;
  /** A buffer of the same size that transforms may overwrite. */
  double[] spare;

  Image(int height, int width, int channels) {
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.values = new double[height * width * channels];
    this.spare = new double[values.length];
  }

  /** Index of (channel, row, column) in {@link #values}. */
  int at(int c, int y, int x) {
    return (c * height + y) * width + x;
  }

  /** Makes {@link #spare} the values and the old values the spare buffer. */
  void swap() {
    double[] t = values;
    values = spare;
    spare = t;
  }
}
