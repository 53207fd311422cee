package dev.trainfeed.client.internal;

/** Decoding of the 16-bit float formats FLOAT16 (IEEE binary16) and BFLOAT16. */
public final class HalfFloats {
  private HalfFloats() {}

  /** Returns the float that the IEEE 754 binary16 value with these bits denotes, exactly. */
  public static float float16ToFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      // Zero or subnormal: mantissa × 2^-24, exact in float.
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  /** Returns the float whose upper 16 bits are these bfloat16 bits. */
  public static float bfloat16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }
}
