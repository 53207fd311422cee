package dev.trainfeed.client;

import dev.trainfeed.client.internal.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A dense tensor of one field for a whole batch: batch dimension first, elements little-endian in
 * C order. The bytes are those received from the server, wrapped without copying; the {@code
 * to...Array()} methods copy and convert.
 */
public final class Tensor {
  private final String name;
  private final DType dtype;
  private final long[] shape;
  private final ByteBuffer data;
  private final int numElements;

  /**
   * Creates a tensor over {@code data}'s remaining bytes, which are not copied and must not change.
   *
   * @param name field name, not null
   * @param dtype element type, not null
   * @param shape dimensions, each ≥ 0, batch dimension first
   * @param data exactly product(shape) × dtype.byteSize() bytes, little-endian
   * @throws IllegalArgumentException if the shape is negative or does not match the byte count
   */
  public Tensor(String name, DType dtype, long[] shape, ByteBuffer data) {
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape.clone();
    long elements = 1;
    for (long d : this.shape) {
      if (d < 0) {
        throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension in shape "
            + Arrays.toString(shape));
      }
      elements = Math.multiplyExact(elements, d);
    }
    if (elements * dtype.byteSize() != data.remaining()) {
      throw new IllegalArgumentException("tensor '" + name + "' of " + dtype + " and shape "
          + Arrays.toString(shape) + " needs " + elements * dtype.byteSize() + " bytes, has "
          + data.remaining());
    }
    this.numElements = (int) elements;
    this.data = data.slice().asReadOnlyBuffer();
  }

  /** Returns the field name. */
  public String name() {
    return name;
  }

  /** Returns the element type. */
  public DType dtype() {
    return dtype;
  }

  /** Returns a copy of the dimensions, batch dimension first. */
  public long[] shape() {
    return shape.clone();
  }

  /** Returns the number of elements: the product of the dimensions. */
  public int numElements() {
    return numElements;
  }

  /** Returns the number of samples: the first dimension, or 1 for a scalar. */
  public int numSamples() {
    return shape.length == 0 ? 1 : (int) shape[0];
  }

  /** Returns a read-only little-endian view of all bytes, positioned at 0; no copy. */
  public ByteBuffer asByteBuffer() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Returns a read-only little-endian view of the bytes of sample {@code i}; no copy.
   *
   * @param i sample index, 0 ≤ i &lt; {@link #numSamples()}
   */
  public ByteBuffer sampleBytes(int i) {
    int samples = numSamples();
    Objects.checkIndex(i, samples);
    int sampleBytes = samples == 0 ? 0 : data.capacity() / samples;
    return data.duplicate().position(i * sampleBytes).limit((i + 1) * sampleBytes).slice()
        .order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Returns a copy of the raw little-endian bytes. */
  public byte[] toByteArray() {
    byte[] out = new byte[data.capacity()];
    data.duplicate().get(out);
    return out;
  }

  /**
   * Returns the elements converted to float, for every dtype: integers by value (UINT8 as 0..255),
   * FLOAT16 and BFLOAT16 decoded exactly; INT32, INT64 and FLOAT64 rounded to the nearest float.
   */
  public float[] toFloatArray() {
    return toFloatArray(1f);
  }

  /**
   * Returns the elements converted as by {@link #toFloatArray()}, each multiplied by {@code scale};
   * for UINT8 images {@code 1 / 255f} gives values in [0, 1].
   */
  public float[] toFloatArray(float scale) {
    ByteBuffer b = asByteBuffer();
    float[] out = new float[numElements];
    switch (dtype) {
      case UINT8 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = (b.get(i) & 0xff) * scale;
        }
      }
      case INT8 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = b.get(i) * scale;
        }
      }
      case INT32 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = b.getInt(i * 4) * scale;
        }
      }
      case INT64 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = b.getLong(i * 8) * scale;
        }
      }
      case FLOAT16 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = HalfFloats.float16ToFloat(b.getShort(i * 2)) * scale;
        }
      }
      case BFLOAT16 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = HalfFloats.bfloat16ToFloat(b.getShort(i * 2)) * scale;
        }
      }
      case FLOAT32 -> {
        b.asFloatBuffer().get(out);
        if (scale != 1f) {
          for (int i = 0; i < out.length; i++) {
            out[i] *= scale;
          }
        }
      }
      case FLOAT64 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = (float) (b.getDouble(i * 8) * scale);
        }
      }
    }
    return out;
  }

  /** Returns the elements converted to double, for every dtype; exact except INT64 beyond 2^53. */
  public double[] toDoubleArray() {
    ByteBuffer b = asByteBuffer();
    double[] out = new double[numElements];
    switch (dtype) {
      case FLOAT64 -> b.asDoubleBuffer().get(out);
      case INT64 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = b.getLong(i * 8);
        }
      }
      case INT32 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = b.getInt(i * 4);
        }
      }
      default -> {
        // Every other dtype is exact in float.
        float[] floats = toFloatArray();
        for (int i = 0; i < out.length; i++) {
          out[i] = floats[i];
        }
      }
    }
    return out;
  }

  /**
   * Returns the elements as long, for integer dtypes (UINT8 as 0..255).
   *
   * @throws IllegalStateException if the dtype is floating-point; use {@link #toFloatArray()}
   */
  public long[] toLongArray() {
    requireInteger("toLongArray");
    ByteBuffer b = asByteBuffer();
    long[] out = new long[numElements];
    if (dtype == DType.INT64) {
      b.asLongBuffer().get(out);
    } else {
      int[] ints = toIntArray();
      for (int i = 0; i < out.length; i++) {
        out[i] = ints[i];
      }
    }
    return out;
  }

  /**
   * Returns the elements as int, for integer dtypes (UINT8 as 0..255).
   *
   * @throws IllegalStateException if the dtype is floating-point; use {@link #toFloatArray()}
   * @throws ArithmeticException if an INT64 element does not fit in an int
   */
  public int[] toIntArray() {
    requireInteger("toIntArray");
    ByteBuffer b = asByteBuffer();
    int[] out = new int[numElements];
    switch (dtype) {
      case UINT8 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = b.get(i) & 0xff;
        }
      }
      case INT8 -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = b.get(i);
        }
      }
      case INT32 -> b.asIntBuffer().get(out);
      default -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = Math.toIntExact(b.getLong(i * 8));
        }
      }
    }
    return out;
  }

  private void requireInteger(String method) {
    if (dtype.isFloatingPoint()) {
      throw new IllegalStateException(method + "() needs an integer tensor; '" + name + "' is "
          + dtype + ", use toFloatArray() or toDoubleArray()");
    }
  }

  @Override
  public String toString() {
    return "Tensor{" + name + ", " + dtype + ", " + Arrays.toString(shape) + "}";
  }
}
