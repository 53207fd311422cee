package dev.trainfeed.server.augment;

/**
 * IEEE 754 binary16 and bfloat16 conversions (Java 17 has neither); float to half rounds to
 * nearest, ties to even, as numpy does.
 */
final class HalfFloats {
  private HalfFloats() {}

  static float halfToFloat(int bits) {
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0) {
      float f = mant * 0x1.0p-24f;
      return sign == 0 ? f : -f;
    }
    if (exp == 31) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int val = bits & 0x7fffffff;
    if (val >= 0x7f800000) {
      return (short) (sign | 0x7c00 | (val > 0x7f800000 ? 0x200 : 0));
    }
    if (val >= 0x477ff000) {
      // At or above the midpoint between 65504 (the largest half) and 65536: infinity.
      return (short) (sign | 0x7c00);
    }
    if (val >= 0x38800000) {
      int half = (((val >>> 23) - 127 + 15) << 10) | ((val & 0x7fffff) >>> 13);
      int rest = val & 0x1fff;
      if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
        half++;
      }
      return (short) (sign | half);
    }
    // Subnormal half: a multiple of 2^-24; the product is exact in double, rint ties to even.
    return (short) (sign | (int) Math.rint(Float.intBitsToFloat(val) * 0x1.0p24));
  }

  static float bfloat16ToFloat(int bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  static short floatToBfloat16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return (short) ((bits >>> 16) | 0x40);
    }
    return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
  }
}
