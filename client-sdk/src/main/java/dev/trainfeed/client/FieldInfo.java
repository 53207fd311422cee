package dev.trainfeed.client;

import java.util.Arrays;
import java.util.Objects;

/** One field of a dataset: its name, element type and the shape of ONE sample. */
public final class FieldInfo {
  private final String name;
  private final DType dtype;
  private final long[] shape;

  /**
   * Creates a field description.
   *
   * @param name field name, not null
   * @param dtype element type, not null
   * @param shape shape of one sample (no batch dimension); copied
   */
  public FieldInfo(String name, DType dtype, long[] shape) {
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape.clone();
  }

  /** Returns the field name. */
  public String name() {
    return name;
  }

  /** Returns the element type. */
  public DType dtype() {
    return dtype;
  }

  /** Returns a copy of the shape of one sample, without the batch dimension. */
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FieldInfo f && name.equals(f.name) && dtype == f.dtype
        && Arrays.equals(shape, f.shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape));
  }

  @Override
  public String toString() {
    return name + ":" + dtype + Arrays.toString(shape);
  }
}
