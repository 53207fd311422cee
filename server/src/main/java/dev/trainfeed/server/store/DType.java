package dev.trainfeed.server.store;

import java.util.Locale;

/**
 * Element type of a field, with its size in bytes and its names in manifests ({@code "float32"}) and
 * on the wire ({@code DTYPE_FLOAT32} = {@link #wireNumber()}). Values are stored little-endian.
 */
public enum DType {
  UINT8(1, 1),
  INT8(1, 2),
  INT32(4, 3),
  INT64(8, 4),
  FLOAT16(2, 5),
  BFLOAT16(2, 6),
  FLOAT32(4, 7),
  FLOAT64(8, 8);

  private final int byteSize;
  private final int wireNumber;

  DType(int byteSize, int wireNumber) {
    this.byteSize = byteSize;
    this.wireNumber = wireNumber;
  }

  /** Bytes per element. */
  public int byteSize() {
    return byteSize;
  }

  /** The number of this type in the wire enum {@code trainfeed.v1.DType}. */
  public int wireNumber() {
    return wireNumber;
  }

  /** Lower-case name as written in manifests, for example {@code "float32"}. */
  public String manifestName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a manifest name ({@code "uint8"}, case-insensitive). */
  public static DType fromManifestName(String name) {
    for (DType t : values()) {
      if (t.manifestName().equalsIgnoreCase(name)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown dtype '" + name + "'; expected one of uint8, int8, "
        + "int32, int64, float16, bfloat16, float32, float64");
  }

  /** The type with wire number {@code n}. */
  public static DType fromWireNumber(int n) {
    for (DType t : values()) {
      if (t.wireNumber == n) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown dtype number " + n);
  }
}
