package dev.trainfeed.server.store;

import com.github.luben.zstd.Zstd;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * A {@link ChunkStore} over a local data directory in the layout {@link DatasetWriter} writes:
 * {@code DATA_DIR/datasets/NAME/VERSION/{manifest.json, chunk-000000.tfc …}} and {@code
 * DATA_DIR/datasets/NAME/CURRENT}.
 *
 * <p>Every call reads CURRENT and the directory listing from disk, so a running server sees a
 * committed ingest at once; manifests are cached per version because versions are immutable.
 * Thread-safe.
 */
public final class LocalChunkStore implements ChunkStore {
  private static final Pattern CHUNK_FILE = Pattern.compile("chunk-[0-9]{6,}\\.tfc");

  private final StoreLayout layout;
  private final Map<String, DatasetManifest> manifests = new ConcurrentHashMap<>();

  /**
   * Opens (creating if missing) the data directory {@code dataDir} and removes what crashed ingests
   * and deletions left in {@code dataDir/tmp}.
   */
  public LocalChunkStore(Path dataDir) throws IOException {
    this.layout = new StoreLayout(Objects.requireNonNull(dataDir, "dataDir"));
    layout.cleanStaleTmp();
  }

  /** The data directory, absolute. */
  public Path dataDir() {
    return layout.dataDir();
  }

  /** Directory of one dataset version (which may not exist). */
  public Path versionDir(String name, String version) {
    return layout.versionDir(name, version);
  }

  @Override
  public List<DatasetManifest> list() throws IOException {
    List<DatasetManifest> out = new ArrayList<>();
    for (String name : datasetNames()) {
      String current = layout.readCurrent(name);
      if (current == null) {
        continue; // first version renamed into place, CURRENT not written yet
      }
      DatasetManifest m = manifest(name, current);
      if (m != null) {
        out.add(m);
      }
    }
    return out;
  }

  @Override
  public List<DatasetManifest> versions(String name) throws IOException {
    Path dir = layout.datasetDir(name);
    List<DatasetManifest> out = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        String v = p.getFileName().toString();
        if (DatasetNames.VERSION.matcher(v).matches() && Files.isDirectory(p)) {
          DatasetManifest m = manifest(name, v);
          if (m != null) {
            out.add(m);
          }
        }
      }
    } catch (NoSuchFileException e) {
      throw notFound(name);
    }
    if (out.isEmpty()) {
      throw notFound(name);
    }
    // Parsed, not compared as text: Instant.toString omits zero fractions ("…00Z" > "…00.5Z").
    out.sort(Comparator.comparing(LocalChunkStore::createdAt).reversed()
        .thenComparing(DatasetManifest::version));
    return out;
  }

  @Override
  public DatasetManifest resolve(String ref) throws IOException {
    String[] parts = DatasetNames.parseRef(ref);
    String name = parts[0];
    String version = parts[1];
    if (version == null) {
      version = layout.readCurrent(name);
      if (version == null) {
        throw notFound(name);
      }
    }
    DatasetManifest m = manifest(name, version);
    if (m == null) {
      throw new DatasetNotFoundException("dataset '" + name + "' has no version " + version
          + "; `trainfeed datasets` lists what exists");
    }
    return m;
  }

  @Override
  public ByteBuffer readChunk(DatasetManifest dataset, int chunk) throws IOException {
    if (chunk < 0 || chunk >= dataset.chunks().size()) {
      throw new IllegalArgumentException("chunk " + chunk + " of " + dataset.ref()
          + " does not exist; it has chunks 0 to " + (dataset.chunks().size() - 1));
    }
    ChunkInfo info = dataset.chunks().get(chunk);
    if (!CHUNK_FILE.matcher(info.file()).matches()) {
      throw corrupted(dataset, info, "has an invalid file name", null);
    }
    Path file = layout.versionDir(dataset.name(), dataset.version()).resolve(info.file());
    byte[] stored;
    try {
      stored = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw corrupted(dataset, info, "is missing", e);
    }
    if (stored.length != info.storedBytes()) {
      throw corrupted(dataset, info, "is " + stored.length + " bytes, the manifest says "
          + info.storedBytes(), null);
    }
    CRC32C crc = new CRC32C();
    crc.update(stored);
    if (crc.getValue() != info.crc32c()) {
      throw corrupted(dataset, info, "fails its CRC32C check (" + Long.toHexString(crc.getValue())
          + ", manifest " + Long.toHexString(info.crc32c()) + ")", null);
    }
    if (info.decodedBytes() > WriterOptions.MAX_CHUNK_SIZE_BYTES) {
      throw corrupted(dataset, info, "claims " + info.decodedBytes() + " decoded bytes", null);
    }
    byte[] decoded = switch (info.compression()) {
      case "none" -> stored;
      case "zstd" -> unzstd(dataset, info, stored);
      default -> throw corrupted(dataset, info, "has unknown compression '" + info.compression()
          + "'", null);
    };
    if (decoded.length != info.decodedBytes()) {
      throw corrupted(dataset, info, "decodes to " + decoded.length + " bytes, the manifest says "
          + info.decodedBytes(), null);
    }
    return ByteBuffer.wrap(decoded).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Deletes one version of {@code name}, or with {@code version == null} the whole dataset. Each
   * removal is an atomic rename out of {@code datasets/} followed by a recursive delete, so readers
   * never see a half-deleted version. Streams already reading the version fail; callers check first.
   *
   * @throws IllegalArgumentException {@code version} is the current one (delete the dataset, or
   *     ingest a new version first)
   * @throws DatasetNotFoundException no such dataset or version
   */
  public void delete(String name, String version) throws IOException {
    Path dir = layout.datasetDir(name);
    if (!Files.isDirectory(dir)) {
      throw notFound(name);
    }
    if (version == null) {
      layout.deleteAtomically(dir);
    } else {
      DatasetNames.parseRef(name + "@" + version);
      if (version.equals(layout.readCurrent(name))) {
        throw new IllegalArgumentException("version " + version + " is the current version of '"
            + name + "'; delete the whole dataset or ingest a new version first");
      }
      Path vdir = dir.resolve(version);
      if (!Files.isDirectory(vdir)) {
        throw new DatasetNotFoundException("dataset '" + name + "' has no version " + version);
      }
      layout.deleteAtomically(vdir);
    }
    manifests.keySet().removeIf(k -> k.startsWith(name + "@"));
  }

  private List<String> datasetNames() throws IOException {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(layout.datasets())) {
      for (Path p : entries) {
        String n = p.getFileName().toString();
        if (DatasetNames.PATTERN.matcher(n).matches() && Files.isDirectory(p)) {
          names.add(n);
        }
      }
    }
    names.sort(Comparator.naturalOrder());
    return names;
  }

  /** The manifest of an existing version, or null when the version directory is gone. */
  private DatasetManifest manifest(String name, String version) throws IOException {
    Path dir = layout.versionDir(name, version);
    String key = name + "@" + version;
    // Versions are immutable, but one may be deleted (and later re-ingested): check it still exists.
    if (!Files.isDirectory(dir)) {
      manifests.remove(key);
      return null;
    }
    DatasetManifest cached = manifests.get(key);
    if (cached != null) {
      return cached;
    }
    DatasetManifest m;
    try {
      m = StoreLayout.readManifest(dir);
    } catch (NoSuchFileException | FileNotFoundException e) {
      return null;
    }
    if (!m.name().equals(name) || !m.version().equals(version)) {
      throw new IOException(dir.resolve(StoreLayout.MANIFEST) + " describes " + m.ref()
          + ", not " + key);
    }
    manifests.put(key, m);
    return m;
  }

  private byte[] unzstd(DatasetManifest dataset, ChunkInfo info, byte[] stored)
      throws ChunkCorruptedException {
    byte[] out = new byte[(int) info.decodedBytes()];
    long n;
    try {
      n = Zstd.decompressByteArray(out, 0, out.length, stored, 0, stored.length);
    } catch (RuntimeException e) {
      throw corrupted(dataset, info, "cannot be decompressed: " + e.getMessage(), e);
    }
    if (Zstd.isError(n)) {
      throw corrupted(dataset, info, "cannot be decompressed: " + Zstd.getErrorName(n), null);
    }
    if (n != out.length) {
      throw corrupted(dataset, info, "decodes to " + n + " bytes, the manifest says "
          + info.decodedBytes(), null);
    }
    return out;
  }

  private ChunkCorruptedException corrupted(DatasetManifest dataset, ChunkInfo info,
      String problem, Throwable cause) {
    Path file = layout.versionDir(dataset.name(), dataset.version()).resolve(info.file());
    return new ChunkCorruptedException("dataset '" + dataset.name() + "' version "
        + dataset.version() + " chunk " + info.index() + " (" + file + ") " + problem, cause);
  }

  private static Instant createdAt(DatasetManifest m) {
    try {
      return Instant.parse(m.createdAt());
    } catch (RuntimeException e) {
      return Instant.EPOCH;
    }
  }

  private static DatasetNotFoundException notFound(String name) {
    return new DatasetNotFoundException("no dataset '" + name + "'; `trainfeed datasets` lists "
        + "what exists");
  }
}
