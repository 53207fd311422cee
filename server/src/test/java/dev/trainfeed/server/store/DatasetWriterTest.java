package dev.trainfeed.server.store;

import static dev.trainfeed.server.store.TestData.FIELDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetWriterTest {
  @TempDir
  Path dataDir;
  @TempDir
  Path otherDir;

  private static WriterOptions opts(int chunkSize, Compression c) {
    return WriterOptions.builder().chunkSizeBytes(chunkSize).compression(c).build();
  }

  @Test
  void sameInputGivesSameVersionInEveryDirectoryAndAgain() throws IOException {
    List<byte[][]> s = TestData.samples(FIELDS, 100, 5);
    DatasetManifest a = TestData.write(dataDir, "d", FIELDS, s, opts(100, Compression.NONE));
    DatasetManifest b = TestData.write(otherDir, "d", FIELDS, s, opts(100, Compression.NONE));
    DatasetManifest again = TestData.write(dataDir, "d", FIELDS, s, opts(100, Compression.NONE));
    assertThat(b.version()).isEqualTo(a.version());
    assertThat(again).isEqualTo(a);
    try (Stream<Path> versions = Files.list(dataDir.resolve("datasets/d"))) {
      assertThat(versions.count()).isEqualTo(2); // CURRENT + one version
    }
    assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
  }

  @Test
  void compressionChangesStoredBytesButNotVersion() throws IOException {
    List<byte[][]> s = TestData.samples(FIELDS, 100, 5);
    DatasetManifest raw = TestData.write(dataDir, "d", FIELDS, s, opts(100, Compression.NONE));
    DatasetManifest z = TestData.write(otherDir, "d", FIELDS, s, opts(100, Compression.ZSTD));
    assertThat(z.version()).isEqualTo(raw.version());
    assertThat(z.sizeBytes()).isEqualTo(raw.sizeBytes());
    Path rawChunk = LocalChunkStoreTest.chunkFile(dataDir, raw, 0);
    Path zChunk = LocalChunkStoreTest.chunkFile(otherDir, z, 0);
    assertThat(Files.readAllBytes(zChunk)).isNotEqualTo(Files.readAllBytes(rawChunk));
    assertThat(z.chunks().get(0).crc32c()).isNotEqualTo(raw.chunks().get(0).crc32c());
  }

  @Test
  void versionDependsOnDataLayoutAndSchema() throws IOException {
    List<byte[][]> s = TestData.samples(FIELDS, 100, 5);
    String base = TestData.write(dataDir, "a", FIELDS, s, opts(100, Compression.NONE)).version();
    String layout = TestData.write(dataDir, "b", FIELDS, s, opts(200, Compression.NONE)).version();
    s.get(57)[1][0] ^= 1;
    String data = TestData.write(dataDir, "c", FIELDS, s, opts(100, Compression.NONE)).version();
    List<FieldSpec> renamed = List.of(FIELDS.get(0), FIELDS.get(1),
        new FieldSpec("target", DType.INT64));
    String schema = TestData.write(dataDir, "e", renamed, s, opts(100, Compression.NONE))
        .version();
    assertThat(List.of(base, layout, data, schema)).doesNotHaveDuplicates();
  }

  @Test
  void samplesPerChunkFollowsChunkSize() throws IOException {
    try (DatasetWriter w = DatasetWriter.create(dataDir, "d", FIELDS, opts(100, Compression.NONE));
        DatasetWriter big = DatasetWriter.create(dataDir, "e", FIELDS, opts(10, Compression.NONE))) {
      assertThat(w.samplesPerChunk()).isEqualTo(4);
      assertThat(big.samplesPerChunk()).isEqualTo(1);
    }
    assertThat(WriterOptions.defaults().chunkSizeBytes()).isEqualTo(4 << 20);
  }

  @Test
  void columnsAndSingleSamplesGiveTheSameDataset() throws IOException {
    List<byte[][]> s = TestData.samples(FIELDS, 30, 9);
    DatasetManifest single = TestData.write(dataDir, "d", FIELDS, s, opts(100, Compression.NONE));
    ByteBuffer[] columns = new ByteBuffer[FIELDS.size()];
    for (int f = 0; f < FIELDS.size(); f++) {
      columns[f] = ByteBuffer.allocate((int) (30 * FIELDS.get(f).sampleBytes()));
      for (byte[][] sample : s) {
        columns[f].put(sample[f]);
      }
      columns[f].flip();
    }
    try (DatasetWriter w = DatasetWriter.create(otherDir, "d", FIELDS,
        opts(100, Compression.NONE))) {
      w.appendColumns(30, columns);
      assertThat(w.commit().version()).isEqualTo(single.version());
    }
  }

  @Test
  void sourcesAreRecordedInOrder() throws IOException {
    WriterOptions o = WriterOptions.builder().chunkSizeBytes(100).recordSources(true).build();
    try (DatasetWriter w = DatasetWriter.create(dataDir, "d", FIELDS, o)) {
      assertThatThrownBy(() -> w.append(TestData.sample(FIELDS, 0, 0)))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("records sources");
      for (int i = 0; i < 9; i++) {
        w.append("img/" + i + ".png", TestData.sample(FIELDS, i, 0));
      }
      assertThat(w.commit().sources()).hasSize(9).startsWith("img/0.png").endsWith("img/8.png");
    }
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      assertThat(store.resolve("d").sources()).hasSize(9);
    }
  }

  @Test
  void abortAndCloseWithoutCommitPublishNothing() throws IOException {
    try (DatasetWriter w = DatasetWriter.create(dataDir, "gone", FIELDS,
        opts(100, Compression.NONE))) {
      for (int i = 0; i < 50; i++) {
        w.append(TestData.sample(FIELDS, i, 0));
      }
    }
    TestData.assertNothingPublished(dataDir, "gone");
    DatasetWriter w = DatasetWriter.create(dataDir, "gone", FIELDS, opts(100, Compression.NONE));
    w.append(TestData.sample(FIELDS, 0, 0));
    w.abort();
    w.abort();
    assertThatThrownBy(w::commit).isInstanceOf(IllegalStateException.class);
    TestData.assertNothingPublished(dataDir, "gone");
  }

  @Test
  void failedNewVersionLeavesCurrentUntouched() throws IOException {
    DatasetManifest old = TestData.write(dataDir, "d", FIELDS, TestData.samples(FIELDS, 10, 1),
        opts(100, Compression.NONE));
    try (DatasetWriter w = DatasetWriter.create(dataDir, "d", FIELDS,
        opts(100, Compression.NONE))) {
      w.append(TestData.sample(FIELDS, 0, 2));
      assertThatThrownBy(() -> w.append(new byte[6], new byte[8]))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the schema has 3");
      assertThatThrownBy(() -> w.append(new byte[5], new byte[8], new byte[8]))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'image'")
          .hasMessageContaining("expected 6");
    }
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      assertThat(store.list()).containsExactly(old);
      assertThat(store.versions("d")).containsExactly(old);
    }
    assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
  }

  @Test
  void invalidArgumentsSayWhatToChange() throws IOException {
    assertThatThrownBy(() -> DatasetWriter.create(dataDir, "bad name", FIELDS,
        WriterOptions.defaults())).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad name");
    assertThatThrownBy(() -> DatasetWriter.create(dataDir, "d", List.of(),
        WriterOptions.defaults())).hasMessageContaining("at least one field");
    assertThatThrownBy(() -> DatasetWriter.create(dataDir, "d",
        List.of(FIELDS.get(0), FIELDS.get(0)), WriterOptions.defaults()))
        .hasMessageContaining("appears twice");
    assertThatThrownBy(() -> WriterOptions.builder().chunkSizeBytes(0).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 byte to 1 GiB");
    assertThatThrownBy(() -> WriterOptions.builder().zstdLevel(23).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 (fastest) to 22");
    try (DatasetWriter w = DatasetWriter.create(dataDir, "empty", FIELDS,
        WriterOptions.defaults())) {
      assertThatThrownBy(w::commit).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("no samples");
    }
    TestData.assertNothingPublished(dataDir, "empty");
  }

  @Test
  void staleTmpIsCleanedWhenAWriterOpens() throws IOException {
    Files.createDirectories(dataDir.resolve("tmp/ingest-00000000/sub"));
    Files.write(dataDir.resolve("tmp/ingest-00000000/chunk-000000.tfc"), new byte[10]);
    try (DatasetWriter w = DatasetWriter.create(dataDir, "d", FIELDS, WriterOptions.defaults())) {
      assertThat(dataDir.resolve("tmp/ingest-00000000")).doesNotExist();
      assertThat(w.numSamples()).isZero();
    }
  }
}
