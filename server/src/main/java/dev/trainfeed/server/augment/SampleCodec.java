package dev.trainfeed.server.augment;

import dev.trainfeed.server.store.DType;
import java.nio.ByteBuffer;

/**
 * Reads one sample's little-endian bytes into an {@link Image} and writes it back, in the field's
 * layout. uint8 values are rounded to nearest (ties to even) and clamped to 0..255 on the way
 * out; floating-point values are neither clamped nor rescaled.
 */
final class SampleCodec {
  private SampleCodec() {}

  /** Element types augmentation reads: uint8 and the floating-point types. */
  static boolean readable(DType dtype) {
    return switch (dtype) {
      case UINT8, FLOAT16, BFLOAT16, FLOAT32, FLOAT64 -> true;
      default -> false;
    };
  }

  static void decode(ByteBuffer in, int offset, DType dtype, Layout layout, Image image) {
    double[] v = image.values;
    int plane = image.height * image.width;
    // HWC interleaves channels; CHW and HW are already planar.
    int channels = layout == Layout.HWC ? image.channels : 1;
    int pixels = channels == 1 ? v.length : plane;
    if (dtype == DType.UINT8 && in.hasArray()) {
      // The common case, without a ByteBuffer call per element.
      byte[] b = in.array();
      int e = in.arrayOffset() + offset;
      for (int p = 0; p < pixels; p++) {
        for (int c = 0, i = p; c < channels; c++, i += plane) {
          v[i] = b[e++] & 0xff;
        }
      }
      return;
    }
    int e = 0;
    for (int p = 0; p < pixels; p++) {
      for (int c = 0, i = p; c < channels; c++, i += plane) {
        v[i] = read(in, offset, dtype, e++);
      }
    }
  }

  static void encode(Image image, DType dtype, Layout layout, ByteBuffer out, int offset) {
    double[] v = image.values;
    int plane = image.height * image.width;
    int channels = layout == Layout.HWC ? image.channels : 1;
    int pixels = channels == 1 ? v.length : plane;
    if (dtype == DType.UINT8 && out.hasArray()) {
      byte[] b = out.array();
      int e = out.arrayOffset() + offset;
      for (int p = 0; p < pixels; p++) {
        for (int c = 0, i = p; c < channels; c++, i += plane) {
          b[e++] = toUint8(v[i]);
        }
      }
      return;
    }
    int e = 0;
    for (int p = 0; p < pixels; p++) {
      for (int c = 0, i = p; c < channels; c++, i += plane) {
        write(out, offset, dtype, e++, v[i]);
      }
    }
  }

  private static byte toUint8(double value) {
    return (byte) Math.max(0, Math.min(255, Math.rint(value)));
  }

  private static double read(ByteBuffer in, int offset, DType dtype, int e) {
    return switch (dtype) {
      case UINT8 -> in.get(offset + e) & 0xff;
      case FLOAT16 -> HalfFloats.halfToFloat(in.getShort(offset + 2 * e));
      case BFLOAT16 -> HalfFloats.bfloat16ToFloat(in.getShort(offset + 2 * e));
      case FLOAT32 -> in.getFloat(offset + 4 * e);
      case FLOAT64 -> in.getDouble(offset + 8 * e);
      default -> throw new IllegalStateException("augmentation cannot read " + dtype);
    };
  }

  private static void write(ByteBuffer out, int offset, DType dtype, int e, double value) {
    switch (dtype) {
      case UINT8 -> out.put(offset + e, toUint8(value));
      case FLOAT16 -> out.putShort(offset + 2 * e, HalfFloats.floatToHalf((float) value));
      case BFLOAT16 -> out.putShort(offset + 2 * e, HalfFloats.floatToBfloat16((float) value));
      case FLOAT32 -> out.putFloat(offset + 4 * e, (float) value);
      case FLOAT64 -> out.putDouble(offset + 8 * e, value);
      default -> throw new IllegalStateException("augmentation cannot write " + dtype);
    }
  }
}
