package dev.trainfeed.server.store;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One field of a dataset: a name, an element type and the shape of ONE sample (an empty shape is a
 * scalar).
 */
public final class FieldSpec {
  private final String name;
  private final DType dtype;
  private final long[] shape;

  /** Creates a field; {@code shape} dimensions must be positive. */
  public FieldSpec(String name, DType dtype, long... shape) {
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape.clone();
    for (long d : this.shape) {
      if (d <= 0) {
        throw new IllegalArgumentException("field '" + name + "' has a non-positive dimension in "
            + Arrays.toString(shape));
      }
    }
  }

  @JsonCreator
  static FieldSpec fromJson(@JsonProperty("name") String name, @JsonProperty("dtype") String dtype,
      @JsonProperty("shape") List<Long> shape) {
    return new FieldSpec(name, DType.fromManifestName(dtype),
        shape.stream().mapToLong(Long::longValue).toArray());
  }

  /** Field name, for example {@code "image"}. */
  @JsonProperty("name")
  public String name() {
    return name;
  }

  /** Element type. */
  @JsonIgnore
  public DType dtype() {
    return dtype;
  }

  @JsonProperty("dtype")
  String dtypeName() {
    return dtype.manifestName();
  }

  /** Shape of one sample (a copy). */
  @JsonProperty("shape")
  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements in one sample. */
  @JsonIgnore
  public long elementsPerSample() {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Bytes of one sample of this field. */
  @JsonIgnore
  public long sampleBytes() {
    return Math.multiplyExact(elementsPerSample(), dtype.byteSize());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FieldSpec f && f.name.equals(name) && f.dtype == dtype
        && Arrays.equals(f.shape, shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape));
  }

  @Override
  public String toString() {
    return name + ":" + dtype.manifestName() + Arrays.toString(shape);
  }
}
