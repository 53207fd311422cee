package dev.trainfeed.server.augment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.trainfeed.server.order.SplitMix64;
import org.junit.jupiter.api.Test;

/** Each transform on tiny images, with the exact pixels expected. */
class TransformsTest {
  /** A one-channel image with these rows. */
  private static Image gray(double[][] rows) {
    Image img = new Image(rows.length, rows[0].length, 1);
    for (int y = 0; y < rows.length; y++) {
      System.arraycopy(rows[y], 0, img.values, y * img.width, img.width);
    }
    return img;
  }

  private static double[][] rows(Image img, int channel) {
    double[][] out = new double[img.height][img.width];
    for (int y = 0; y < img.height; y++) {
      for (int x = 0; x < img.width; x++) {
        out[y][x] = img.values[img.at(channel, y, x)];
      }
    }
    return out;
  }

  private static final double[][] A = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};

  @Test
  void flipMirrorsEveryRowOfEveryChannel() {
    Image img = new Image(2, 3, 2);
    for (int i = 0; i < img.values.length; i++) {
      img.values[i] = i;
    }
    FlipTransform.flip(img);
    assertThat(img.values).containsExactly(2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9);
  }

  @Test
  void rotationByRightAnglesMatchesNumpyRot90Exactly() {
    Image img = gray(A);
    RotateTransform.rotate(img, 90);
    // numpy.rot90(A): counter-clockwise.
    assertThat(rows(img, 0)).isEqualTo(new double[][] {{3, 6, 9}, {2, 5, 8}, {1, 4, 7}});
    img = gray(A);
    RotateTransform.rotate(img, -90);
    assertThat(rows(img, 0)).isEqualTo(new double[][] {{7, 4, 1}, {8, 5, 2}, {9, 6, 3}});
    img = gray(A);
    RotateTransform.rotate(img, 180);
    assertThat(rows(img, 0)).isEqualTo(new double[][] {{9, 8, 7}, {6, 5, 4}, {3, 2, 1}});
    img = gray(A);
    RotateTransform.rotate(img, 0);
    assertThat(rows(img, 0)).isEqualTo(A);
  }

  @Test
  void smallAngleInterpolatesBilinearlyAndFillsOutsideWithZero() {
    double[][] flat = new double[5][5];
    for (double[] r : flat) {
      java.util.Arrays.fill(r, 100);
    }
    Image img = gray(flat);
    RotateTransform.rotate(img, 30);
    double[][] out = rows(img, 0);
    // The centre and the pixels whose source stays inside keep the constant.
    assertThat(out[2][2]).isCloseTo(100, within(1e-9));
    assertThat(out[1][2]).isCloseTo(100, within(1e-9));
    // Corner (0, 0): source (x, y) = (3 − √3, 1 − √3) ≈ (1.268, −0.732): its upper neighbours lie
    // outside and count as 0, so the value is 100 · (1 − 0.732).
    assertThat(out[0][0]).isCloseTo(100 * (2 - Math.sqrt(3)), within(1e-9));
    // Corner (0, 4): source ≈ (4.732, 1.268): right of the last column, weight 1 − 0.732.
    assertThat(out[0][4]).isCloseTo(100 * (2 - Math.sqrt(3)), within(1e-9));
  }

  @Test
  void smallAngleOnAGradientMatchesTheBilinearFormula() {
    // f(x, y) = x is linear, so bilinear interpolation is exact inside the image: the rotated
    // value at (x, y) is the source x coordinate, cx + dx·cos θ − dy·sin θ.
    double[][] ramp = new double[7][7];
    for (double[] r : ramp) {
      for (int x = 0; x < 7; x++) {
        r[x] = x;
      }
    }
    Image img = gray(ramp);
    RotateTransform.rotate(img, 10);
    double t = Math.toRadians(10);
    for (int y = 2; y <= 4; y++) {
      for (int x = 2; x <= 4; x++) {
        assertThat(rows(img, 0)[y][x]).isCloseTo(3 + (x - 3) * Math.cos(t) - (y - 3) * Math.sin(t),
            within(1e-9));
      }
    }
  }

  @Test
  void cropShiftsWithZeroPaddingAndKeepsTheSize() {
    Image img = gray(A);
    CropTransform.shift(img, 1, -1);
    assertThat(rows(img, 0)).isEqualTo(new double[][] {{0, 4, 5}, {0, 7, 8}, {0, 0, 0}});
    // Padding 0 always crops the image itself.
    img = gray(A);
    new CropTransform(1, 0).apply(img, new SplitMix64(5));
    assertThat(rows(img, 0)).isEqualTo(A);
  }

  @Test
  void cropOffsetsCoverTheWholePaddedRange() {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (long seed = 0; seed < 400; seed++) {
      Image img = gray(A);
      new CropTransform(1, 1).apply(img, new SplitMix64(seed));
      seen.add(java.util.Arrays.deepToString(rows(img, 0)));
    }
    // Offsets (dy, dx) in {-1, 0, 1}²: nine distinct crops.
    assertThat(seen).hasSize(9);
  }

  @Test
  void cutoutZeroesTheSquareInEveryChannel() {
    Image img = new Image(3, 3, 2);
    java.util.Arrays.fill(img.values, 1);
    CutoutTransform.erase(img, 1, 0, 2);
    for (int c = 0; c < 2; c++) {
      assertThat(rows(img, c)).isEqualTo(new double[][] {{1, 1, 1}, {0, 0, 1}, {0, 0, 1}});
    }
  }

  @Test
  void cutoutStaysInsideTheImage() {
    for (long seed = 0; seed < 200; seed++) {
      Image img = gray(A);
      new CutoutTransform(1, 3).apply(img, new SplitMix64(seed));
      assertThat(img.values).containsOnly(0);
    }
  }

  @Test
  void brightnessContrastScalesAroundTheMeanThenShifts() {
    Image img = gray(new double[][] {{10, 20}, {30, 40}});
    BrightnessContrastTransform.adjust(img, 2, 5);
    // mean 25: (v − 25)·2 + 25 + 5.
    assertThat(img.values).containsExactly(0, 20, 40, 60);
  }

  @Test
  void brightnessAndContrastStayInTheirRanges() {
    for (long seed = 0; seed < 100; seed++) {
      Image img = gray(new double[][] {{0, 2}});
      new BrightnessContrastTransform(1, 0.1, 0.5, 255).apply(img, new SplitMix64(seed));
      double factor = (img.values[1] - img.values[0]) / 2;
      double offset = (img.values[0] + img.values[1]) / 2 - 1;
      assertThat(factor).isBetween(0.5, 1.5);
      assertThat(offset).isBetween(-25.5, 25.5);
    }
  }

  @Test
  void noiseHasTheRequestedMeanAndStandardDeviation() {
    Image img = new Image(64, 64, 3);
    java.util.Arrays.fill(img.values, 0.5);
    new NoiseTransform(1, 0.1, 1).apply(img, new SplitMix64(42));
    double sum = 0;
    double sq = 0;
    for (double v : img.values) {
      sum += v;
      sq += (v - 0.5) * (v - 0.5);
    }
    int n = img.values.length;
    assertThat(sum / n).isCloseTo(0.5, within(0.005));
    assertThat(Math.sqrt(sq / n)).isCloseTo(0.1, within(0.003));
    // In units of the range: uint8 noise of 0.1 is 25.5 grey levels.
    Image u8 = new Image(64, 64, 3);
    new NoiseTransform(1, 0.1, 255).apply(u8, new SplitMix64(42));
    assertThat(u8.values[7]).isCloseTo((img.values[7] - 0.5) * 255, within(1e-9));
  }

  @Test
  void normalizationUsesScaleThenPerChannelMeanAndStd() {
    Image img = new Image(1, 2, 2);
    System.arraycopy(new double[] {0, 255, 51, 102}, 0, img.values, 0, 4);
    new Normalization(255, new double[] {0.5, 0.2}, new double[] {0.5, 0.1}).apply(img);
    assertThat(img.values[0]).isCloseTo(-1, within(1e-12));
    assertThat(img.values[1]).isCloseTo(1, within(1e-12));
    assertThat(img.values[2]).isCloseTo(0, within(1e-12));
    assertThat(img.values[3]).isCloseTo(2, within(1e-12));
  }

  @Test
  void halfFloatsRoundTripAndRoundToNearestEven() {
    for (int bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) == 0x7c00 && (bits & 0x3ff) != 0) {
        continue;
      }
      float f = HalfFloats.halfToFloat(bits);
      assertThat(HalfFloats.floatToHalf(f) & 0xffff).isEqualTo(bits);
    }
    assertThat(HalfFloats.halfToFloat(0x3c00)).isEqualTo(1f);
    assertThat(HalfFloats.floatToHalf(65504f)).isEqualTo((short) 0x7bff);
    assertThat(HalfFloats.floatToHalf(65520f)).isEqualTo((short) 0x7c00);
    // 1 + 2^-11 is halfway between 1 and the next half: ties to even gives 1.
    assertThat(HalfFloats.floatToHalf(1 + 0x1.0p-11f)).isEqualTo((short) 0x3c00);
    assertThat(HalfFloats.bfloat16ToFloat(HalfFloats.floatToBfloat16(1.5f))).isEqualTo(1.5f);
    assertThat(HalfFloats.floatToBfloat16(1 + 0x1.0p-8f)).isEqualTo((short) 0x3f80);
  }
}
