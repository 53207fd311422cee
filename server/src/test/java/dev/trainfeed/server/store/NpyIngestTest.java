package dev.trainfeed.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NpyIngestTest {
  private static final int N = 50;

  @TempDir
  Path src;
  @TempDir
  Path dataDir;

  /** descr, dtype, per-sample shape text (after N), per-sample shape. */
  private record Case(String descr, DType dtype, String shapeTail, long[] shape) {}

  private static final List<Case> CASES = List.of(
      new Case("|u1", DType.UINT8, ", 2, 3", new long[] {2, 3}),
      new Case("|i1", DType.INT8, ",", new long[] {}),
      new Case("<i4", DType.INT32, ", 4", new long[] {4}),
      new Case("<i8", DType.INT64, ",", new long[] {}),
      new Case("<f2", DType.FLOAT16, ", 3", new long[] {3}),
      new Case("<f4", DType.FLOAT32, ", 2, 2", new long[] {2, 2}),
      new Case("<f8", DType.FLOAT64, ", 1", new long[] {1}));

  private static byte[] data(Case c, long salt) {
    FieldSpec f = new FieldSpec("x", c.dtype(), c.shape());
    ByteBuffer b = ByteBuffer.allocate((int) (N * f.sampleBytes()));
    for (int i = 0; i < N; i++) {
      b.put(TestData.sample(List.of(f), i, salt)[0]);
    }
    return b.array();
  }

  private DatasetManifest ingest(int chunkSize) throws IOException {
    return Ingest.run(IngestOptions.builder().dataDir(dataDir).name("npy")
        .source(new NpyIngest(src))
        .writerOptions(WriterOptions.builder().chunkSizeBytes(chunkSize).build()).build());
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3})
  void everyDtypeRoundTripsAcrossManyChunks(int npyVersion) throws IOException {
    byte[][] data = new byte[CASES.size()][];
    for (int k = 0; k < CASES.size(); k++) {
      Case c = CASES.get(k);
      data[k] = data(c, k);
      // Names chosen so that name order differs from list order.
      Files.write(src.resolve("f" + (CASES.size() - k) + "_" + c.dtype().manifestName() + ".npy"),
          TestData.npy(npyVersion, c.descr(), false, "(" + N + c.shapeTail() + ")", data[k]));
    }
    Files.writeString(src.resolve("README.txt"), "ignored");
    DatasetManifest m = ingest(64);
    assertThat(m.numSamples()).isEqualTo(N);
    assertThat(m.chunks().size()).isGreaterThan(12);
    assertThat(m.fields()).extracting(FieldSpec::name).isSorted().hasSize(CASES.size());
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      for (int k = 0; k < CASES.size(); k++) {
        Case c = CASES.get(k);
        String name = "f" + (CASES.size() - k) + "_" + c.dtype().manifestName();
        FieldSpec spec = m.fields().get(m.fieldIndex(name));
        assertThat(spec).isEqualTo(new FieldSpec(name, c.dtype(), c.shape()));
        int size = (int) spec.sampleBytes();
        for (int i = 0; i < N; i++) {
          assertThat(TestData.field(store, m, i, name))
              .isEqualTo(Arrays.copyOfRange(data[k], i * size, (i + 1) * size));
        }
      }
    }
  }

  @Test
  void bigEndianIsConvertedToLittleEndian() throws IOException {
    ByteBuffer be = ByteBuffer.allocate(N * 4).order(ByteOrder.BIG_ENDIAN);
    ByteBuffer le = ByteBuffer.allocate(N * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < N; i++) {
      be.putInt(i * 1000003);
      le.putInt(i * 1000003);
    }
    Files.write(src.resolve("x.npy"), TestData.npy(1, ">i4", false, "(" + N + ",)", be.array()));
    DatasetManifest m = ingest(64);
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      for (int i = 0; i < N; i++) {
        assertThat(TestData.field(store, m, i, "x"))
            .isEqualTo(Arrays.copyOfRange(le.array(), i * 4, i * 4 + 4));
      }
    }
  }

  @Test
  void sameFilesGiveSameVersion() throws IOException {
    Files.write(src.resolve("x.npy"), TestData.npy(1, "<f4", false, "(50, 2, 2)", data(CASES.get(5), 1)
        .clone()));
    String first = ingest(64).version();
    Files.write(src.resolve("x.npy"), TestData.npy(2, "<f4", false, "(50, 2, 2)", data(CASES.get(5),
        1)));
    assertThat(ingest(64).version()).isEqualTo(first);
  }

  private void assertRejected(String... messageParts) {
    assertThatThrownBy(() -> ingest(64)).isInstanceOf(MalformedSourceException.class)
        .message().contains(messageParts);
    try {
      TestData.assertNothingPublished(dataDir, "npy");
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void truncatedData() throws IOException {
    byte[] full = TestData.npy(1, "<i4", false, "(50, 4)", data(CASES.get(2), 0));
    Files.write(src.resolve("a.npy"), Arrays.copyOf(full, full.length - 5));
    assertRejected("a.npy", "truncated");
  }

  @Test
  void truncatedHeader() throws IOException {
    Files.write(src.resolve("a.npy"), Arrays.copyOf(TestData.npy(1, "<i4", false, "(50,)",
        new byte[200]), 30));
    assertRejected("a.npy", "truncated", "header");
  }

  @Test
  void badMagic() throws IOException {
    byte[] b = TestData.npy(1, "<i4", false, "(50,)", new byte[200]);
    b[1] = 'X';
    Files.write(src.resolve("a.npy"), b);
    assertRejected("a.npy", "magic");
  }

  @Test
  void fortranOrder() throws IOException {
    Files.write(src.resolve("a.npy"), TestData.npy(1, "<i4", true, "(50, 2)", new byte[400]));
    assertRejected("a.npy", "Fortran order");
  }

  @ParameterizedTest
  @ValueSource(strings = {"<u2", "|b1", "<c8", "|i4", "=f4", "<U3"})
  void unsupportedDtype(String descr) throws IOException {
    Files.write(src.resolve("a.npy"), TestData.npy(1, descr, false, "(50,)", new byte[400]));
    assertRejected("a.npy", "unsupported dtype", descr);
  }

  @Test
  void mismatchedFirstDimensions() throws IOException {
    Files.write(src.resolve("a.npy"), TestData.npy(1, "|u1", false, "(50,)", new byte[50]));
    Files.write(src.resolve("b.npy"), TestData.npy(1, "|u1", false, "(49,)", new byte[49]));
    assertRejected("a.npy", "b.npy", "50", "49", "first dimension");
  }

  @Test
  void emptyDirectory() throws IOException {
    Files.writeString(src.resolve("notes.txt"), "no arrays here");
    assertRejected(src.toString(), "no .npy files");
  }

  @Test
  void scalarArrayAndUnknownVersion() throws IOException {
    Files.write(src.resolve("a.npy"), TestData.npy(1, "<i4", false, "()", new byte[4]));
    assertRejected("a.npy", "scalar");
    byte[] b = TestData.npy(1, "<i4", false, "(1,)", new byte[4]);
    b[6] = 4;
    Files.write(src.resolve("a.npy"), b);
    assertRejected("a.npy", "version 4.0");
  }
}
