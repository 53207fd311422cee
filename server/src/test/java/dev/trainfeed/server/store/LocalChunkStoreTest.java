package dev.trainfeed.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class LocalChunkStoreTest extends ChunkStoreContract {

  @Override
  protected ChunkStore openStore(Path dataDir) throws IOException {
    return new LocalChunkStore(dataDir);
  }

  @Override
  protected void corruptChunk(Path dataDir, DatasetManifest m, int chunk) throws IOException {
    Path file = chunkFile(dataDir, m, chunk);
    byte[] b = Files.readAllBytes(file);
    b[b.length / 2] ^= 0x01;
    Files.write(file, b);
  }

  static Path chunkFile(Path dataDir, DatasetManifest m, int chunk) {
    return dataDir.resolve("datasets").resolve(m.name()).resolve(m.version())
        .resolve(m.chunks().get(chunk).file());
  }

  @Test
  void layoutOnDisk() throws IOException {
    DatasetManifest m = write("layout", 10, 1, Compression.NONE, 1);
    Path ds = dataDir.resolve("datasets/layout");
    assertThat(Files.readString(ds.resolve("CURRENT")).trim()).isEqualTo(m.version());
    assertThat(ds.resolve(m.version()).resolve("manifest.json")).isRegularFile();
    assertThat(ds.resolve(m.version()).resolve("chunk-000000.tfc")).isRegularFile();
    assertThat(m.version()).matches("[0-9a-f]{16}");
    try (Stream<Path> s = Files.list(ds)) {
      assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
          .containsExactly("CURRENT", m.version());
    }
  }

  @Test
  void chunkFileNamesAreAsciiWhateverTheDefaultLocale() throws IOException {
    Locale before = Locale.getDefault();
    Locale.setDefault(Locale.forLanguageTag("ar-EG")); // formats %d with Arabic-Indic digits
    try {
      DatasetManifest m = write("locale", 10, 1, Compression.NONE, 1);
      assertThat(m.chunks().get(0).file()).isEqualTo("chunk-000000.tfc");
      try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
        assertThat(store.readChunk(m, 0).remaining()).isPositive();
      }
    } finally {
      Locale.setDefault(before);
    }
  }

  @Test
  void runningStoreSeesNewIngestsAndNewVersions() throws IOException {
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      assertThat(store.list()).isEmpty();
      DatasetManifest v1 = write("live", 10, 1, Compression.NONE, 1);
      assertThat(store.list()).containsExactly(v1);
      DatasetManifest v2 = write("live", 10, 2, Compression.NONE, 2);
      assertThat(store.list()).containsExactly(v2);
      assertThat(store.resolve("live")).isEqualTo(v2);
      assertThat(store.resolve(v1.ref())).isEqualTo(v1);
    }
  }

  @Test
  void deleteRemovesOldVersionsButNotTheCurrentOne() throws IOException {
    DatasetManifest v1 = write("del", 10, 1, Compression.NONE, 1);
    DatasetManifest v2 = write("del", 10, 2, Compression.NONE, 2);
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      store.resolve(v1.ref()); // cached, must still disappear
      assertThatThrownBy(() -> store.delete("del", v2.version()))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("current version");
      store.delete("del", v1.version());
      assertThat(store.versions("del")).containsExactly(v2);
      assertThatThrownBy(() -> store.resolve(v1.ref()))
          .isInstanceOf(DatasetNotFoundException.class);
      assertThatThrownBy(() -> store.delete("del", v1.version()))
          .isInstanceOf(DatasetNotFoundException.class);
      store.delete("del", null);
      assertThat(store.list()).isEmpty();
      assertThat(dataDir.resolve("datasets/del")).doesNotExist();
      assertThatThrownBy(() -> store.delete("del", null))
          .isInstanceOf(DatasetNotFoundException.class);
      try (Stream<Path> tmp = Files.list(dataDir.resolve("tmp"))) {
        assertThat(tmp.toList()).isEmpty();
      }
    }
  }

  @Test
  void truncatedOrMissingChunkIsCorrupted() throws IOException {
    DatasetManifest m = write("trunc", 40, 1, Compression.NONE, 1);
    Path c1 = chunkFile(dataDir, m, 1);
    Files.write(c1, new byte[3]);
    Files.delete(chunkFile(dataDir, m, 2));
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      assertThatThrownBy(() -> store.readChunk(m, 1)).isInstanceOf(ChunkCorruptedException.class)
          .hasMessageContaining("chunk 1").hasMessageContaining("is 3 bytes");
      assertThatThrownBy(() -> store.readChunk(m, 2)).isInstanceOf(ChunkCorruptedException.class)
          .hasMessageContaining("chunk 2").hasMessageContaining("missing");
    }
  }

  @Test
  void zstdFrameOfWrongDecodedSizeIsCorrupted() throws IOException {
    DatasetManifest m = write("zsize", 40, 1, Compression.ZSTD, 1);
    // A valid frame with a matching checksum and stored size, but 1 byte too short when decoded.
    ChunkInfo c = m.chunks().get(0);
    byte[] frame = Zstd.compress(new byte[(int) c.decodedBytes() - 1]);
    Files.write(chunkFile(dataDir, m, 0), frame);
    CRC32C crc = new CRC32C();
    crc.update(frame);
    List<ChunkInfo> chunks = new ArrayList<>(m.chunks());
    chunks.set(0, new ChunkInfo(0, c.file(), 0, c.numSamples(), c.decodedBytes(), frame.length,
        crc.getValue(), "zstd"));
    DatasetManifest patched = new DatasetManifest(m.formatVersion(), m.name(), m.version(),
        m.fields(), m.numSamples(), m.sizeBytes(), m.storedBytes(), chunks, m.createdAt(), null);
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      assertThatThrownBy(() -> store.readChunk(patched, 0))
          .isInstanceOf(ChunkCorruptedException.class).hasMessageContaining("chunk 0")
          .hasMessageContaining("decodes to");
    }
  }

  @Test
  void crashedIngestIsInvisibleAndCleanedOnOpen() throws IOException {
    DatasetManifest old = write("crash", 10, 1, Compression.NONE, 1);
    // What a writer killed mid-ingest leaves: a temp dir with chunks and maybe its lock file.
    Path crashed = dataDir.resolve("tmp/ingest-deadbeef");
    Files.createDirectories(crashed);
    Files.write(crashed.resolve("chunk-000000.tfc"), new byte[] {1, 2, 3});
    Files.write(dataDir.resolve("tmp/ingest-deadbeef.lock"), new byte[0]);
    Path orphan = dataDir.resolve("tmp/ingest-0badf00d");
    Files.createDirectories(orphan);
    Files.createDirectories(dataDir.resolve("tmp/delete-12345678/x"));
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      assertThat(store.list()).containsExactly(old);
      try (Stream<Path> tmp = Files.list(dataDir.resolve("tmp"))) {
        assertThat(tmp.toList()).isEmpty();
      }
    }
  }

  @Test
  void crashBeforeFirstCurrentLeavesNoVisibleDataset() throws IOException {
    DatasetManifest m = write("first", 10, 1, Compression.NONE, 1);
    Files.delete(dataDir.resolve("datasets/first/CURRENT"));
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      assertThat(store.list()).isEmpty();
      assertThatThrownBy(() -> store.resolve("first")).isInstanceOf(DatasetNotFoundException.class);
      assertThat(store.resolve(m.ref())).isEqualTo(m);
    }
  }

  @Test
  void liveIngestInAnotherWriterIsNotCleaned() throws IOException {
    try (DatasetWriter w = DatasetWriter.create(dataDir, "live", TestData.FIELDS,
        opts(Compression.NONE, 1))) {
      for (int i = 0; i < 20; i++) {
        w.append(TestData.sample(TestData.FIELDS, i, 1));
      }
      try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
        assertThat(store.list()).isEmpty();
      }
      DatasetManifest m = w.commit();
      assertThat(m.numSamples()).isEqualTo(20);
    }
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      assertThat(store.resolve("live").numSamples()).isEqualTo(20);
    }
  }
}
