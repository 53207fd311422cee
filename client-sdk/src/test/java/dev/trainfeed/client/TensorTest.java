package dev.trainfeed.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.Test;

class TensorTest {

  private static Tensor tensor(DType dtype, long[] shape, ByteBuffer le) {
    return new Tensor("t", dtype, shape, le.flip());
  }

  private static ByteBuffer bytes(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }

  @Test
  void uint8IsUnsignedAndScales() {
    Tensor t = tensor(DType.UINT8, new long[] {2, 2}, bytes(4).put(new byte[] {0, 1, (byte) 128,
        (byte) 255}));
    assertThat(t.toIntArray()).containsExactly(0, 1, 128, 255);
    assertThat(t.toLongArray()).containsExactly(0, 1, 128, 255);
    assertThat(t.toFloatArray()).containsExactly(0f, 1f, 128f, 255f);
    assertThat(t.toFloatArray(1 / 255f)).containsExactly(0f, 1 / 255f, 128 / 255f, 1f);
    assertThat(t.toDoubleArray()).containsExactly(0, 1, 128, 255);
    assertThat(t.toByteArray()).containsExactly(0, 1, 128, 255);
    assertThat(t.numSamples()).isEqualTo(2);
    assertThat(t.numElements()).isEqualTo(4);
  }

  @Test
  void int8IsSigned() {
    Tensor t = tensor(DType.INT8, new long[] {3}, bytes(3).put(new byte[] {-128, -1, 127}));
    assertThat(t.toIntArray()).containsExactly(-128, -1, 127);
    assertThat(t.toFloatArray()).containsExactly(-128f, -1f, 127f);
  }

  @Test
  void int32AndInt64() {
    Tensor i32 = tensor(DType.INT32, new long[] {2}, bytes(8).putInt(-7).putInt(Integer.MAX_VALUE));
    assertThat(i32.toIntArray()).containsExactly(-7, Integer.MAX_VALUE);
    assertThat(i32.toLongArray()).containsExactly(-7L, Integer.MAX_VALUE);
    assertThat(i32.toDoubleArray()).containsExactly(-7d, Integer.MAX_VALUE);
    Tensor i64 = tensor(DType.INT64, new long[] {2}, bytes(16).putLong(-3).putLong(1L << 40));
    assertThat(i64.toLongArray()).containsExactly(-3L, 1L << 40);
    assertThat(i64.toDoubleArray()).containsExactly(-3d, 0x1p40);
    assertThat(i64.toFloatArray()).containsExactly(-3f, 0x1p40f);
    assertThatThrownBy(i64::toIntArray).isInstanceOf(ArithmeticException.class);
  }

  @Test
  void float16DecodesKnownValues() {
    short[] bits = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x0400, 0x3555, 0x7C00, (short) 0xFC00,
        (short) 0x8000, 0x0000};
    ByteBuffer b = bytes(bits.length * 2);
    for (short s : bits) {
      b.putShort(s);
    }
    Tensor t = tensor(DType.FLOAT16, new long[] {bits.length}, b);
    assertThat(t.toFloatArray()).containsExactly(1f, -2f, 65504f, 0x1p-24f, 0x1p-14f, 0.33325195f,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f);
    assertThat(Float.floatToRawIntBits(t.toFloatArray()[8])).isEqualTo(0x80000000);
    Tensor nan = tensor(DType.FLOAT16, new long[] {1}, bytes(2).putShort((short) 0x7E00));
    assertThat(nan.toFloatArray()[0]).isNaN();
    assertThat(nan.toDoubleArray()[0]).isNaN();
  }

  @Test
  void bfloat16DecodesKnownValues() {
    short[] bits = {0x3F80, (short) 0xC040, 0x4049, 0x7F80, 0x0000, 0x3C00};
    ByteBuffer b = bytes(bits.length * 2);
    for (short s : bits) {
      b.putShort(s);
    }
    Tensor t = tensor(DType.BFLOAT16, new long[] {bits.length}, b);
    assertThat(t.toFloatArray()).containsExactly(1f, -3f, 3.140625f, Float.POSITIVE_INFINITY, 0f,
        0.0078125f);
    assertThat(t.toFloatArray(2f)).containsExactly(2f, -6f, 6.28125f, Float.POSITIVE_INFINITY, 0f,
        0.015625f);
  }

  @Test
  void float32AndFloat64() {
    Tensor f32 = tensor(DType.FLOAT32, new long[] {2, 1}, bytes(8).putFloat(1.5f).putFloat(-2.25f));
    assertThat(f32.toFloatArray()).containsExactly(1.5f, -2.25f);
    assertThat(f32.toFloatArray(2f)).containsExactly(3f, -4.5f);
    assertThat(f32.toDoubleArray()).containsExactly(1.5, -2.25);
    Tensor f64 = tensor(DType.FLOAT64, new long[] {2}, bytes(16).putDouble(0.1).putDouble(-1e300));
    assertThat(f64.toDoubleArray()).containsExactly(0.1, -1e300);
    assertThat(f64.toFloatArray()).containsExactly(0.1f, Float.NEGATIVE_INFINITY);
    assertThatThrownBy(f64::toLongArray).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("use toFloatArray()");
    assertThatThrownBy(f32::toIntArray).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void byteBufferViewsAreReadOnlyLittleEndianAndShareTheBytes() {
    ByteBuffer backing = bytes(12).putInt(1).putInt(2).putInt(3);
    Tensor t = tensor(DType.INT32, new long[] {3}, backing);
    ByteBuffer view = t.asByteBuffer();
    assertThat(view.isReadOnly()).isTrue();
    assertThat(view.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    assertThat(view.getInt(4)).isEqualTo(2);
    assertThatThrownBy(() -> view.putInt(0, 9)).isInstanceOf(ReadOnlyBufferException.class);
    backing.putInt(4, 20);
    assertThat(t.toIntArray()).containsExactly(1, 20, 3);
    ByteBuffer sample = t.sampleBytes(2);
    assertThat(sample.remaining()).isEqualTo(4);
    assertThat(sample.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    assertThat(sample.getInt()).isEqualTo(3);
    assertThatThrownBy(() -> t.sampleBytes(3)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void sampleBytesOfMultiDimensionalSamples() {
    ByteBuffer b = bytes(12);
    for (int i = 0; i < 6; i++) {
      b.putShort((short) i);
    }
    Tensor t = new Tensor("img", DType.INT8, new long[] {3, 2, 2}, b.flip());
    assertThat(t.sampleBytes(1).remaining()).isEqualTo(4);
    assertThat(t.sampleBytes(1).getShort()).isEqualTo((short) 2);
  }

  @Test
  void constructorChecksShapeAgainstBytes() {
    assertThatThrownBy(() -> new Tensor("x", DType.FLOAT32, new long[] {2, 3}, bytes(20)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tensor 'x' of FLOAT32 and shape [2, 3] needs 24 bytes, has 20");
    assertThatThrownBy(() -> new Tensor("x", DType.UINT8, new long[] {-1}, bytes(0)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void dtypeSizes() {
    assertThat(DType.values()).extracting(DType::byteSize).containsExactly(1, 1, 4, 8, 2, 2, 4, 8);
  }
}
