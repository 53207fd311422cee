package dev.trainfeed.server.synth;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Converts between a model's float values and a dataset field's bytes, as a descriptor's
 * {@link ModelDescriptor.OutputField} says: linear from the model range onto the field range;
 * integer dtypes round half up and clamp to the field range. Bytes are little-endian.
 */
public final class ValueMapping {
  private final ModelDescriptor.OutputField field;
  private final double scale;
  private final boolean integral;

  /** A mapping for {@code field}. */
  public ValueMapping(ModelDescriptor.OutputField field) {
    this.field = field;
    this.scale = (field.fieldHigh() - field.fieldLow()) / (field.modelHigh() - field.modelLow());
    this.integral = switch (field.dtype()) {
      case UINT8, INT8, INT32, INT64 -> true;
      default -> false;
    };
  }

  /** The field value of model value {@code v}, before the cast to the field's dtype. */
  public double toField(float v) {
    double x = (v - field.modelLow()) * scale + field.fieldLow();
    if (integral) {
      // NaN from a broken model becomes the low end rather than an undefined cast.
      x = Double.isNaN(x) ? field.fieldLow() : Math.floor(x + 0.5);
      x = Math.max(field.fieldLow(), Math.min(field.fieldHigh(), x));
    }
    return x;
  }

  /** The model value of field value {@code x}: the inverse line, no rounding. */
  public float toModel(double x) {
    return (float) ((x - field.fieldLow()) / scale + field.modelLow());
  }

  /**
   * Writes {@code count} model values from {@code values[from …]} as field elements into
   * {@code out} at byte offset {@code outAt}.
   */
  public void write(float[] values, int from, int count, byte[] out, int outAt) {
    ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    b.position(outAt);
    for (int i = 0; i < count; i++) {
      double x = toField(values[from + i]);
      switch (field.dtype()) {
        case UINT8, INT8 -> b.put((byte) (long) x);
        case INT32 -> b.putInt((int) (long) x);
        case INT64 -> b.putLong((long) x);
        case FLOAT32 -> b.putFloat((float) x);
        case FLOAT64 -> b.putDouble(x);
        default -> throw new IllegalStateException("descriptor dtype " + field.dtype()
            + " was rejected at load");
      }
    }
  }

  /**
   * Reads {@code count} field elements from {@code in} at byte offset {@code inAt} as model values
   * into {@code out[outAt …]} (the encoder's input).
   */
  public void read(byte[] in, int inAt, int count, float[] out, int outAt) {
    ByteBuffer b = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN);
    b.position(inAt);
    for (int i = 0; i < count; i++) {
      double x = switch (field.dtype()) {
        case UINT8 -> Byte.toUnsignedInt(b.get());
        case INT8 -> b.get();
        case INT32 -> b.getInt();
        case INT64 -> b.getLong();
        case FLOAT32 -> b.getFloat();
        case FLOAT64 -> b.getDouble();
        default -> throw new IllegalStateException("descriptor dtype " + field.dtype()
            + " was rejected at load");
      };
      out[outAt + i] = toModel(x);
    }
  }
}
