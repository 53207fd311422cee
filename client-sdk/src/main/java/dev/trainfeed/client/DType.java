package dev.trainfeed.client;

/** Element type of a {@link Tensor} or a dataset field. Bytes on the wire are little-endian. */
public enum DType {
  /** Unsigned 8-bit integer, 0 to 255. */
  UINT8(1),
  /** Signed 8-bit integer. */
  INT8(1),
  /** Signed 32-bit integer. */
  INT32(4),
  /** Signed 64-bit integer. */
  INT64(8),
  /** IEEE 754 half precision (binary16). */
  FLOAT16(2),
  /** bfloat16: the upper 16 bits of an IEEE 754 single. */
  BFLOAT16(2),
  /** IEEE 754 single precision. */
  FLOAT32(4),
  /** IEEE 754 double precision. */
  FLOAT64(8);

  private final int byteSize;

  DType(int byteSize) {
    this.byteSize = byteSize;
  }

  /** Returns the size of one element in bytes: 1, 2, 4 or 8. */
  public int byteSize() {
    return byteSize;
  }

  /** Returns whether elements are floating-point numbers (FLOAT16, BFLOAT16, FLOAT32, FLOAT64). */
  public boolean isFloatingPoint() {
    return this == FLOAT16 || this == BFLOAT16 || this == FLOAT32 || this == FLOAT64;
  }
}
