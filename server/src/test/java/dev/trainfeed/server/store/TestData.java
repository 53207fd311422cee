package dev.trainfeed.server.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Deterministic samples, expected chunk bytes and on-disk assertions shared by the store tests. */
final class TestData {
  /** Three fields, 6 + 8 + 8 = 22 bytes per sample. */
  static final List<FieldSpec> FIELDS = List.of(new FieldSpec("image", DType.UINT8, 2, 3),
      new FieldSpec("value", DType.FLOAT32, 2), new FieldSpec("label", DType.INT64));

  private TestData() {}

  /** Sample {@code i}: pseudo-random bytes per field that depend on {@code salt}. */
  static byte[][] sample(List<FieldSpec> fields, long i, long salt) {
    byte[][] out = new byte[fields.size()][];
    long x = i * 0x9E3779B97F4A7C15L + salt;
    for (int f = 0; f < fields.size(); f++) {
      out[f] = new byte[(int) fields.get(f).sampleBytes()];
      for (int b = 0; b < out[f].length; b++) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        out[f][b] = (byte) x;
      }
    }
    return out;
  }

  static List<byte[][]> samples(List<FieldSpec> fields, int n, long salt) {
    List<byte[][]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(sample(fields, i, salt));
    }
    return out;
  }

  static DatasetManifest write(Path dataDir, String name, List<FieldSpec> fields,
      List<byte[][]> samples, WriterOptions opts) throws IOException {
    try (DatasetWriter w = DatasetWriter.create(dataDir, name, fields, opts)) {
      for (byte[][] s : samples) {
        w.append(s);
      }
      return w.commit();
    }
  }

  /** The columnar bytes chunk {@code c} must decode to. */
  static byte[] expectedChunk(List<byte[][]> samples, ChunkInfo c) {
    var out = new ByteArrayOutputStream();
    int numFields = samples.get(0).length;
    for (int f = 0; f < numFields; f++) {
      for (long i = c.firstSample(); i < c.endSample(); i++) {
        out.writeBytes(samples.get((int) i)[f]);
      }
    }
    return out.toByteArray();
  }

  /** The bytes of field {@code field} of sample {@code id}, read through the store. */
  static byte[] field(ChunkStore store, DatasetManifest m, long id, String field)
      throws IOException {
    int c = m.chunkOf(id);
    ChunkInfo info = m.chunks().get(c);
    ByteBuffer chunk = store.readChunk(m, c);
    int f = m.fieldIndex(field);
    int size = (int) m.fields().get(f).sampleBytes();
    byte[] out = new byte[size];
    chunk.get((int) (m.fieldOffset(info, f) + (id - info.firstSample()) * size), out);
    return out;
  }

  static long int64(byte[] b) {
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  /** An npy file with the given header values (padded as numpy pads) and raw data. */
  static byte[] npy(int major, String descr, boolean fortran, String shape, byte[] data) {
    String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False")
        + ", 'shape': " + shape + ", }";
    int pre = major == 1 ? 10 : 12;
    int pad = 64 - (pre + dict.length() + 1) % 64;
    String header = dict + " ".repeat(pad % 64) + "\n";
    byte[] h = header.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    ByteBuffer b = ByteBuffer.allocate(pre + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) major)
        .put((byte) 0);
    if (major == 1) {
      b.putShort((short) h.length);
    } else {
      b.putInt(h.length);
    }
    return b.put(h).put(data).array();
  }

  /** Asserts that {@code name} was not published and that no ingest left anything in tmp. */
  static void assertNothingPublished(Path dataDir, String name) throws IOException {
    Path ds = dataDir.resolve("datasets").resolve(name);
    assertThat(ds.resolve("CURRENT")).doesNotExist();
    if (Files.exists(ds)) {
      try (Stream<Path> s = Files.list(ds)) {
        assertThat(s.toList()).isEmpty();
      }
    }
    Path tmp = dataDir.resolve("tmp");
    if (Files.exists(tmp)) {
      try (Stream<Path> s = Files.list(tmp)) {
        assertThat(s.toList()).isEmpty();
      }
    }
  }
}
