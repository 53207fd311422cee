package dev.trainfeed.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvIngestTest {
  @TempDir
  Path dir;
  @TempDir
  Path dataDir;

  private DatasetManifest ingest(Path csv, String label) throws IOException {
    return Ingest.run(IngestOptions.builder().dataDir(dataDir).name("csv")
        .source(new CsvIngest(csv, label))
        .writerOptions(WriterOptions.builder().chunkSizeBytes(40).build()).build());
  }

  private static float[] floats(byte[] b) {
    ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[b.length / 4];
    for (int i = 0; i < out.length; i++) {
      out[i] = bb.getFloat();
    }
    return out;
  }

  @Test
  void numericFeaturesAndIntegerLabelsAcrossManyChunks() throws IOException {
    StringBuilder csv = new StringBuilder("a,label,b,c\n");
    for (int i = 0; i < 60; i++) {
      csv.append(i * 0.5f).append(',').append(i % 7 - 2).append(',').append(-i).append(",\"1e")
          .append(i % 5).append("\"\n");
    }
    csv.append("\n");
    Path file = dir.resolve("data.csv");
    Files.writeString(file, csv);
    DatasetManifest m = ingest(file, "label");
    assertThat(m.fields()).containsExactly(new FieldSpec("features", DType.FLOAT32, 3),
        new FieldSpec("label", DType.INT64));
    assertThat(m.numSamples()).isEqualTo(60);
    assertThat(m.chunks().size()).isGreaterThan(12);
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      for (int i = 0; i < 60; i++) {
        assertThat(floats(TestData.field(store, m, i, "features")))
            .containsExactly(i * 0.5f, -i, (float) Math.pow(10, i % 5));
        assertThat(TestData.int64(TestData.field(store, m, i, "label"))).isEqualTo(i % 7 - 2);
      }
    }
  }

  @Test
  void stringLabelsMapToSortedIds() throws IOException {
    Path file = dir.resolve("iris.csv");
    Files.writeString(file, "x,species\n1,virginica\n2,setosa\n3,\"versi,color\"\n4,setosa\n"
        + "5,3.0\n");
    DatasetManifest m = ingest(file, "species");
    List<Long> labels = new ArrayList<>();
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      for (int i = 0; i < 5; i++) {
        labels.add(TestData.int64(TestData.field(store, m, i, "label")));
      }
    }
    // Sorted: "3.0" < "setosa" < "versi,color" < "virginica".
    assertThat(labels).containsExactly(3L, 1L, 2L, 1L, 0L);
    assertThat(new CsvIngest(file, "species").labelNames())
        .containsExactly("3.0", "setosa", "versi,color", "virginica");
  }

  @Test
  void withoutLabelColumnEveryColumnIsAFeature() throws IOException {
    Path file = dir.resolve("plain.csv");
    Files.writeString(file, "\uFEFFa,b\n1,2\n3,NaN\n");
    DatasetManifest m = ingest(file, null);
    assertThat(m.fields()).containsExactly(new FieldSpec("features", DType.FLOAT32, 2));
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      assertThat(floats(TestData.field(store, m, 1, "features"))).containsExactly(3f, Float.NaN);
    }
  }

  private void assertRejected(String content, String label, String... parts) throws IOException {
    Path file = dir.resolve("bad.csv");
    Files.writeString(file, content);
    assertThatThrownBy(() -> ingest(file, label)).isInstanceOf(MalformedSourceException.class)
        .message().contains(parts).contains("bad.csv");
    TestData.assertNothingPublished(dataDir, "csv");
  }

  @Test
  void raggedRowNamesLine() throws IOException {
    assertRejected("a,b,label\n1,2,0\n3,4,1\n5,0\n", "label", "line 4", "2 columns",
        "header has 3");
  }

  @Test
  void nonNumericValueNamesLineAndColumn() throws IOException {
    assertRejected("a,b,label\n1,2,0\n3,abc,1\n", "label", "line 3", "column 'b'", "'abc'");
    assertRejected("a,b\n1,2f\n", null, "line 2", "column 'b'");
    assertRejected("a,b\n1,\n", null, "line 2", "column 'b'");
  }

  @Test
  void otherMalformedFiles() throws IOException {
    assertRejected("a,b\n", null, "no data rows");
    assertRejected("", null, "empty");
    assertRejected("a,b\n1,2\n", "label", "no column 'label'");
    assertRejected("label\n1\n", "label", "no feature columns");
    assertRejected("a,b\n\"1,2\n", null, "line 2", "unterminated quote");
  }
}
