package dev.trainfeed.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IngestTest {
  @TempDir
  Path dir;
  @TempDir
  Path dataDir;

  @Test
  void progressIsThrottledMonotonicAndEndsAtTotal() throws IOException {
    StringBuilder csv = new StringBuilder("a\n");
    for (int i = 0; i < 5000; i++) {
      csv.append(i).append('\n');
    }
    Files.writeString(dir.resolve("a.csv"), csv);
    List<long[]> calls = new ArrayList<>();
    DatasetManifest m = Ingest.run(IngestOptions.builder().dataDir(dataDir).name("p")
        .source(new CsvIngest(dir.resolve("a.csv"), null))
        .progress((done, total) -> calls.add(new long[] {done, total})).build());
    assertThat(m.numSamples()).isEqualTo(5000);
    assertThat(calls).hasSizeBetween(2, 1001);
    assertThat(calls.get(calls.size() - 1)).containsExactly(5000, 5000);
    assertThat(calls).extracting(c -> c[0]).isSorted();
  }

  @Test
  void newIngestOfSameNameReplacesCurrentAndKeepsOldVersion() throws IOException {
    Files.writeString(dir.resolve("a.csv"), "a\n1\n2\n");
    IngestOptions o = IngestOptions.builder().dataDir(dataDir).name("d")
        .source(new CsvIngest(dir.resolve("a.csv"), null)).build();
    DatasetManifest v1 = Ingest.run(o);
    Files.writeString(dir.resolve("a.csv"), "a\n1\n3\n");
    DatasetManifest v2 = Ingest.run(IngestOptions.builder().dataDir(dataDir).name("d")
        .source(new CsvIngest(dir.resolve("a.csv"), null)).build());
    Files.writeString(dir.resolve("a.csv"), "a\n1\nx\n");
    assertThatThrownBy(() -> Ingest.run(IngestOptions.builder().dataDir(dataDir).name("d")
        .source(new CsvIngest(dir.resolve("a.csv"), null)).build()))
        .isInstanceOf(MalformedSourceException.class);
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      assertThat(store.resolve("d")).isEqualTo(v2);
      assertThat(store.versions("d")).containsExactlyInAnyOrder(v1, v2);
    }
    assertThat(dataDir.resolve("tmp")).isEmptyDirectory();
  }

  @Test
  void optionsAreValidatedEagerly() {
    assertThatThrownBy(() -> IngestOptions.builder().name("d").source(new NpyIngest(dir)).build())
        .hasMessageContaining("dataDir");
    assertThatThrownBy(() -> IngestOptions.builder().dataDir(dir).name("d").build())
        .hasMessageContaining("source");
    assertThatThrownBy(() -> IngestOptions.builder().dataDir(dir).name("d/e")
        .source(new NpyIngest(dir)).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("d/e");
  }
}
