package dev.trainfeed.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxIngestTest {
  private static final int N = 40;
  private static final int ROWS = 4;
  private static final int COLS = 3;

  @TempDir
  Path dir;
  @TempDir
  Path dataDir;

  static byte[] images(int n) {
    ByteBuffer b = ByteBuffer.allocate(16 + n * ROWS * COLS);
    b.putInt(0x803).putInt(n).putInt(ROWS).putInt(COLS);
    for (int i = 0; i < n * ROWS * COLS; i++) {
      b.put((byte) (i * 7));
    }
    return b.array();
  }

  static byte[] labels(int n) {
    ByteBuffer b = ByteBuffer.allocate(8 + n);
    b.putInt(0x801).putInt(n);
    for (int i = 0; i < n; i++) {
      b.put((byte) (i % 10 + 250 * (i % 2)));
    }
    return b.array();
  }

  static byte[] gzip(byte[] b) throws IOException {
    var out = new ByteArrayOutputStream();
    try (var gz = new GZIPOutputStream(out)) {
      gz.write(b);
    }
    return out.toByteArray();
  }

  private DatasetManifest ingest(Path img, Path lab) throws IOException {
    return Ingest.run(IngestOptions.builder().dataDir(dataDir).name("mnist")
        .source(new IdxIngest(img, lab))
        .writerOptions(WriterOptions.builder().chunkSizeBytes(60).build()).build());
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void plainAndGzippedRoundTrip(boolean gz) throws IOException {
    Path img = dir.resolve(gz ? "images.idx3-ubyte.gz" : "images.idx3-ubyte");
    Path lab = dir.resolve(gz ? "labels.idx1-ubyte.gz" : "labels.idx1-ubyte");
    Files.write(img, gz ? gzip(images(N)) : images(N));
    Files.write(lab, gz ? gzip(labels(N)) : labels(N));
    DatasetManifest m = ingest(img, lab);
    assertThat(m.fields()).containsExactly(new FieldSpec("image", DType.UINT8, ROWS, COLS),
        new FieldSpec("label", DType.INT64));
    assertThat(m.chunks().size()).isGreaterThan(12);
    byte[] pixels = images(N);
    byte[] labelBytes = labels(N);
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      for (int i = 0; i < N; i++) {
        int off = 16 + i * ROWS * COLS;
        assertThat(TestData.field(store, m, i, "image"))
            .isEqualTo(Arrays.copyOfRange(pixels, off, off + ROWS * COLS));
        assertThat(TestData.int64(TestData.field(store, m, i, "label")))
            .isEqualTo(labelBytes[8 + i] & 0xff);
      }
    }
  }

  @Test
  void gzippedAndPlainGiveSameVersion() throws IOException {
    Files.write(dir.resolve("i"), images(N));
    Files.write(dir.resolve("l"), labels(N));
    Files.write(dir.resolve("i.gz"), gzip(images(N)));
    Files.write(dir.resolve("l.gz"), gzip(labels(N)));
    assertThat(ingest(dir.resolve("i.gz"), dir.resolve("l.gz")).version())
        .isEqualTo(ingest(dir.resolve("i"), dir.resolve("l")).version());
  }

  private void assertRejected(byte[] img, byte[] lab, String... parts) throws IOException {
    Files.write(dir.resolve("img"), img);
    Files.write(dir.resolve("lab"), lab);
    assertThatThrownBy(() -> ingest(dir.resolve("img"), dir.resolve("lab")))
        .isInstanceOf(MalformedSourceException.class).message().contains(parts);
    TestData.assertNothingPublished(dataDir, "mnist");
  }

  @Test
  void countMismatch() throws IOException {
    assertRejected(images(N), labels(N - 1), "img", "lab", "40 images", "39 labels");
  }

  @Test
  void badMagic() throws IOException {
    assertRejected(labels(N), labels(N), "img", "magic is 0x00000801", "expected 0x00000803");
  }

  @Test
  void truncatedPlainAndGzipped() throws IOException {
    byte[] img = images(N);
    assertRejected(Arrays.copyOf(img, img.length - 1), labels(N), "img", "truncated");
    assertRejected(gzip(Arrays.copyOf(img, img.length - 20)), labels(N), "img", "truncated");
    byte[] gz = gzip(img);
    assertRejected(Arrays.copyOf(gz, gz.length / 2), labels(N), "img", "damaged");
    assertRejected(Arrays.copyOf(img, 10), labels(N), "img", "header");
  }
}
