package dev.trainfeed.server.store;

import static dev.trainfeed.server.store.TestData.FIELDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tests every {@link ChunkStore} must pass. Datasets are written with {@link DatasetWriter} into a
 * local data directory; an implementation's {@link #openStore} serves what is there.
 */
abstract class ChunkStoreContract {
  /** 22-byte samples in 100-byte chunks: 4 samples per chunk, so 150 samples make 38 chunks. */
  static final int CHUNK_SIZE = 100;

  @TempDir
  Path dataDir;

  /** A store serving the datasets written to {@code dataDir}. */
  protected abstract ChunkStore openStore(Path dataDir) throws IOException;

  /** Changes one stored byte of {@code chunk} so that its checksum fails. */
  protected abstract void corruptChunk(Path dataDir, DatasetManifest m, int chunk)
      throws IOException;

  static WriterOptions opts(Compression c, long createdAtMillis) {
    return WriterOptions.builder().chunkSizeBytes(CHUNK_SIZE).compression(c)
        .clock(Clock.fixed(Instant.ofEpochMilli(createdAtMillis), ZoneOffset.UTC)).build();
  }

  DatasetManifest write(String name, int n, long salt, Compression c, long createdAtMillis)
      throws IOException {
    return TestData.write(dataDir, name, FIELDS, TestData.samples(FIELDS, n, salt),
        opts(c, createdAtMillis));
  }

  @Test
  void emptyStoreListsNothing() throws IOException {
    try (ChunkStore store = openStore(dataDir)) {
      assertThat(store.list()).isEmpty();
    }
  }

  @Test
  void listsCurrentVersionsSortedByName() throws IOException {
    write("zeta", 10, 1, Compression.NONE, 1);
    // Written "…01Z" and "…01.500Z": newest first needs time order, not text order.
    DatasetManifest alphaOld = write("alpha", 10, 2, Compression.NONE, 1000);
    DatasetManifest alphaNew = write("alpha", 12, 3, Compression.NONE, 1500);
    try (ChunkStore store = openStore(dataDir)) {
      assertThat(store.list()).extracting(DatasetManifest::ref)
          .containsExactly(alphaNew.ref(), "zeta@" + store.resolve("zeta").version());
      assertThat(store.versions("alpha")).containsExactly(alphaNew, alphaOld);
      assertThat(store.resolve("alpha")).isEqualTo(alphaNew);
      assertThat(store.resolve(alphaOld.ref())).isEqualTo(alphaOld);
      assertThat(alphaOld.version()).isNotEqualTo(alphaNew.version());
    }
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void readChunkReturnsWhatWasWrittenAcrossManyChunks(Compression c) throws IOException {
    List<byte[][]> samples = TestData.samples(FIELDS, 150, 7);
    DatasetManifest m = TestData.write(dataDir, "many", FIELDS, samples, opts(c, 1));
    assertThat(m.chunks()).hasSize(38);
    assertThat(m.numSamples()).isEqualTo(150);
    long next = 0;
    try (ChunkStore store = openStore(dataDir)) {
      DatasetManifest resolved = store.resolve("many");
      assertThat(resolved).isEqualTo(m);
      for (ChunkInfo info : resolved.chunks()) {
        assertThat(info.firstSample()).isEqualTo(next);
        next = info.endSample();
        assertThat(info.compression()).isEqualTo(c.manifestName());
        ByteBuffer b = store.readChunk(resolved, info.index());
        assertThat(b.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.position()).isZero();
        assertThat((long) b.remaining()).isEqualTo(info.decodedBytes());
        byte[] got = new byte[b.remaining()];
        b.get(got);
        assertThat(got).isEqualTo(TestData.expectedChunk(samples, info));
      }
    }
    assertThat(next).isEqualTo(150);
  }

  @ParameterizedTest
  @EnumSource(Compression.class)
  void corruptedChunkFailsItsChecksum(Compression c) throws IOException {
    DatasetManifest m = write("broken", 40, 1, c, 1);
    corruptChunk(dataDir, m, 3);
    try (ChunkStore store = openStore(dataDir)) {
      store.readChunk(m, 2);
      assertThatThrownBy(() -> store.readChunk(m, 3))
          .isInstanceOf(ChunkCorruptedException.class)
          .hasMessageContaining("broken").hasMessageContaining(m.version())
          .hasMessageContaining("chunk 3").hasMessageContaining("chunk-000003.tfc");
    }
  }

  @Test
  void unknownDatasetOrVersionIsNotFound() throws IOException {
    write("known", 5, 1, Compression.NONE, 1);
    try (ChunkStore store = openStore(dataDir)) {
      assertThatThrownBy(() -> store.resolve("unknown"))
          .isInstanceOf(DatasetNotFoundException.class).hasMessageContaining("unknown");
      assertThatThrownBy(() -> store.resolve("known@0123456789abcdef"))
          .isInstanceOf(DatasetNotFoundException.class).hasMessageContaining("0123456789abcdef");
      assertThatThrownBy(() -> store.versions("unknown"))
          .isInstanceOf(DatasetNotFoundException.class);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "../etc", "has space", ".hidden", "a@XYZ", "a@", "a@b@c", "x/y"})
  void malformedRefIsIllegalArgument(String ref) throws IOException {
    try (ChunkStore store = openStore(dataDir)) {
      assertThatThrownBy(() -> store.resolve(ref)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void chunkIndexOutOfRangeIsIllegalArgument() throws IOException {
    DatasetManifest m = write("small", 10, 1, Compression.NONE, 1);
    try (ChunkStore store = openStore(dataDir)) {
      assertThatThrownBy(() -> store.readChunk(m, m.chunks().size()))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("small");
      assertThatThrownBy(() -> store.readChunk(m, -1))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
