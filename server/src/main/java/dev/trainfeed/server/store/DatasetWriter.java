package dev.trainfeed.server.store;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Writes one new dataset version, streaming: samples are appended one at a time or in columnar
 * blocks, and only the chunk being filled is held in memory (about {@link
 * WriterOptions#chunkSizeBytes()}, twice that while compressing).
 *
 * <p>Chunks go to {@code DATA_DIR/tmp/ingest-RANDOM/}; {@link #commit()} writes the manifest,
 * renames that directory to {@code datasets/NAME/VERSION} in one atomic step and then points {@code
 * CURRENT} at it. A crash at any point leaves either the previous state or the whole new version;
 * what it leaves in {@code tmp/} is removed by the next writer or store that opens the directory.
 *
 * <p>The version is the first 16 hex characters of SHA-256 over a format tag, the schema (field
 * names, dtype names, shapes), the chunk layout (samples per chunk) and the SHA-256 of all decoded
 * chunk bytes in order. Compression, source paths and time do not enter it, so the same samples with
 * the same chunk size give the same version everywhere.
 *
 * <p>Not thread-safe: one thread appends and commits.
 */
public final class DatasetWriter implements AutoCloseable {
  private static final String FORMAT_TAG = "trainfeed-dataset-v1";

  private enum State { OPEN, COMMITTED, ABORTED }

  private final StoreLayout layout;
  private final String name;
  private final List<FieldSpec> fields;
  private final WriterOptions options;
  private final int[] fieldBytes;
  private final int sampleBytes;
  private final int samplesPerChunk;
  /** Chunk being filled: field f's samples start at {@code samplesPerChunk * fieldStart[f]}. */
  private final byte[] chunk;
  private final int[] fieldStart;
  private final List<ChunkInfo> chunks = new ArrayList<>();
  private final List<String> sources;
  private final MessageDigest dataDigest = sha256();
  private final CRC32C crc = new CRC32C();
  private final Path tmpDir;
  private final Path lockFile;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private int inChunk;
  private long numSamples;
  private long sizeBytes;
  private long storedBytes;
  private State state = State.OPEN;

  private DatasetWriter(StoreLayout layout, String name, List<FieldSpec> fields,
      WriterOptions options) throws IOException {
    this.layout = layout;
    this.name = name;
    this.fields = List.copyOf(fields);
    this.options = options;
    this.fieldBytes = new int[fields.size()];
    this.fieldStart = new int[fields.size()];
    long total = 0;
    for (int f = 0; f < fields.size(); f++) {
      fieldStart[f] = (int) total;
      fieldBytes[f] = (int) fields.get(f).sampleBytes();
      total += fieldBytes[f];
    }
    this.sampleBytes = (int) total;
    this.samplesPerChunk = Math.max(1, options.chunkSizeBytes() / sampleBytes);
    this.chunk = new byte[Math.multiplyExact(samplesPerChunk, sampleBytes)];
    this.sources = options.recordSources() ? new ArrayList<>() : null;

    layout.cleanStaleTmp();
    // Lock file first, then directory: a cleaner treats a directory without lock file as orphaned.
    Path dir = layout.newTmpPath(StoreLayout.INGEST_PREFIX);
    this.tmpDir = dir;
    this.lockFile = dir.resolveSibling(dir.getFileName() + StoreLayout.LOCK_SUFFIX);
    this.lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE);
    try {
      this.lock = lockChannel.lock();
      Files.createDirectory(tmpDir);
    } catch (IOException | RuntimeException e) {
      lockChannel.close();
      Files.deleteIfExists(lockFile);
      throw e;
    }
  }

  /**
   * Starts a new version of dataset {@code name} in {@code dataDir} (created if missing) and removes
   * what crashed ingests left in {@code dataDir/tmp}.
   *
   * @param fields the schema, in columnar order; at least one, names distinct, one sample of all
   *     fields at most {@link WriterOptions#MAX_CHUNK_SIZE_BYTES}
   * @throws IllegalArgumentException bad name or schema
   */
  public static DatasetWriter create(Path dataDir, String name, List<FieldSpec> fields,
      WriterOptions options) throws IOException {
    DatasetNames.checkName(name);
    Objects.requireNonNull(options, "options");
    if (fields == null || fields.isEmpty()) {
      throw new IllegalArgumentException("dataset '" + name + "' needs at least one field");
    }
    long total = 0;
    var names = new HashSet<String>();
    for (FieldSpec f : fields) {
      if (!names.add(f.name())) {
        throw new IllegalArgumentException("field name '" + f.name() + "' appears twice; "
            + "give every field a distinct name");
      }
      total += f.sampleBytes();
    }
    if (total > WriterOptions.MAX_CHUNK_SIZE_BYTES) {
      throw new IllegalArgumentException("one sample of " + fields + " is " + total
          + " bytes, over the 1 GiB limit of a chunk");
    }
    return new DatasetWriter(new StoreLayout(dataDir), name, fields, options);
  }

  /** The schema this writer was created with. */
  public List<FieldSpec> fields() {
    return fields;
  }

  /** Samples in each full chunk: {@code max(1, floor(chunkSizeBytes / sampleBytes))}. */
  public int samplesPerChunk() {
    return samplesPerChunk;
  }

  /** Samples appended so far. */
  public long numSamples() {
    return numSamples;
  }

  /**
   * Appends one sample: one array per field in schema order, each exactly that field's {@link
   * FieldSpec#sampleBytes()} long, little-endian. Only for writers that do not record sources.
   */
  public void append(byte[]... sample) throws IOException {
    if (sources != null) {
      throw new IllegalStateException("this writer records sources: use append(source, sample)");
    }
    appendColumns(1, wrap(sample));
  }

  /** Appends one sample with its source path; only for writers that record sources. */
  public void append(String source, byte[]... sample) throws IOException {
    if (sources == null) {
      throw new IllegalStateException("this writer does not record sources: set "
          + "WriterOptions.recordSources(true) or use append(sample)");
    }
    Objects.requireNonNull(source, "source");
    appendInternal(1, wrap(sample));
    sources.add(source);
  }

  /**
   * Appends {@code count} samples given column-wise: one buffer per field in schema order, each
   * with exactly {@code count * sampleBytes(field)} remaining bytes, consumed (positions advance).
   * Only for writers that do not record sources.
   */
  public void appendColumns(int count, ByteBuffer... columns) throws IOException {
    if (sources != null) {
      throw new IllegalStateException("this writer records sources: use append(source, sample)");
    }
    appendInternal(count, columns);
  }

  private void appendInternal(int count, ByteBuffer[] columns) throws IOException {
    checkOpen();
    if (count < 0) {
      throw new IllegalArgumentException("count " + count + " is negative");
    }
    if (columns.length != fields.size()) {
      throw new IllegalArgumentException("got " + columns.length + " field values, the schema has "
          + fields.size() + ": " + fields);
    }
    for (int f = 0; f < columns.length; f++) {
      long expected = (long) count * fieldBytes[f];
      if (columns[f].remaining() != expected) {
        throw new IllegalArgumentException("field '" + fields.get(f).name() + "' got "
            + columns[f].remaining() + " bytes for " + count + " samples; expected " + expected
            + " (" + fieldBytes[f] + " per sample)");
      }
    }
    int done = 0;
    while (done < count) {
      int n = Math.min(count - done, samplesPerChunk - inChunk);
      for (int f = 0; f < columns.length; f++) {
        columns[f].get(chunk, samplesPerChunk * fieldStart[f] + inChunk * fieldBytes[f],
            n * fieldBytes[f]);
      }
      inChunk += n;
      done += n;
      numSamples += n;
      if (inChunk == samplesPerChunk) {
        flushChunk();
      }
    }
  }

  private void flushChunk() throws IOException {
    int n = inChunk;
    int decoded = n * sampleBytes;
    if (n < samplesPerChunk) {
      // Short last chunk: close the gaps between the field arrays so they are contiguous.
      for (int f = 1; f < fieldBytes.length; f++) {
        System.arraycopy(chunk, samplesPerChunk * fieldStart[f], chunk, n * fieldStart[f],
            n * fieldBytes[f]);
      }
    }
    dataDigest.update(chunk, 0, decoded);
    ByteBuffer stored;
    if (options.compression() == Compression.ZSTD) {
      byte[] dst = new byte[(int) Zstd.compressBound(decoded)];
      long len = Zstd.compressByteArray(dst, 0, dst.length, chunk, 0, decoded,
          options.zstdLevel());
      stored = ByteBuffer.wrap(dst, 0, (int) len);
    } else {
      stored = ByteBuffer.wrap(chunk, 0, decoded);
    }
    crc.reset();
    crc.update(stored.duplicate());
    int index = chunks.size();
    String file = StoreLayout.chunkFileName(index);
    int storedLen = stored.remaining();
    try (FileChannel ch = FileChannel.open(tmpDir.resolve(file), StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      while (stored.hasRemaining()) {
        ch.write(stored);
      }
      ch.force(true);
    }
    chunks.add(new ChunkInfo(index, file, numSamples - n, n, decoded, storedLen, crc.getValue(),
        options.compression().manifestName()));
    sizeBytes += decoded;
    storedBytes += storedLen;
    inChunk = 0;
  }

  /**
   * Writes the last chunk and the manifest, publishes the version atomically and makes it current.
   * If the same version already exists, the new copy is discarded and CURRENT points at the old one.
   * On failure nothing is published and the temporary directory is removed.
   *
   * @return the manifest of the committed version, as readers will see it
   * @throws IllegalStateException no samples were appended, or the writer is not open
   */
  public DatasetManifest commit() throws IOException {
    checkOpen();
    if (numSamples == 0 && inChunk == 0) {
      throw new IllegalStateException("dataset '" + name + "' has no samples; append at least one "
          + "before commit");
    }
    try {
      if (inChunk > 0) {
        flushChunk();
      }
      String version = version();
      var manifest = new DatasetManifest(DatasetManifest.FORMAT_VERSION, name, version, fields,
          numSamples, sizeBytes, storedBytes, List.copyOf(chunks),
          Instant.now(options.clock()).toString(), sources == null ? null : List.copyOf(sources));
      StoreLayout.writeDurably(tmpDir.resolve(StoreLayout.MANIFEST),
          StoreLayout.JSON.writeValueAsBytes(manifest));
      StoreLayout.fsyncDir(tmpDir);
      Path datasetDir = layout.datasetDir(name);
      Files.createDirectories(datasetDir);
      Path target = datasetDir.resolve(version);
      boolean moved = false;
      if (!Files.isDirectory(target)) {
        try {
          Files.move(tmpDir, target, StandardCopyOption.ATOMIC_MOVE);
          StoreLayout.fsyncDir(datasetDir);
          moved = true;
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
          // Another writer committed the same content first; theirs is as good as ours.
        }
      }
      DatasetManifest published = moved ? manifest : StoreLayout.readManifest(target);
      layout.writeCurrent(name, version);
      finish(State.COMMITTED);
      return published;
    } catch (IOException | RuntimeException e) {
      try {
        abort();
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /** Discards everything written so far; nothing is published. Safe to call more than once. */
  public void abort() throws IOException {
    if (state == State.OPEN) {
      finish(State.ABORTED);
    }
  }

  /** Same as {@link #abort()} unless {@link #commit()} succeeded. */
  @Override
  public void close() throws IOException {
    abort();
  }

  private void finish(State end) throws IOException {
    state = end;
    try {
      StoreLayout.deleteRecursively(tmpDir);
    } finally {
      lock.release();
      lockChannel.close();
      Files.deleteIfExists(lockFile);
    }
  }

  private void checkOpen() {
    if (state != State.OPEN) {
      throw new IllegalStateException("writer for '" + name + "' is already "
          + state.name().toLowerCase(Locale.ROOT));
    }
  }

  private String version() {
    MessageDigest d = sha256();
    putString(d, FORMAT_TAG);
    putLong(d, fields.size());
    for (FieldSpec f : fields) {
      putString(d, f.name());
      putString(d, f.dtype().manifestName());
      long[] shape = f.shape();
      putLong(d, shape.length);
      for (long dim : shape) {
        putLong(d, dim);
      }
    }
    putLong(d, chunks.size());
    for (ChunkInfo c : chunks) {
      putLong(d, c.numSamples());
    }
    d.update(dataDigest.digest());
    return HexFormat.of().formatHex(d.digest()).substring(0, 16);
  }

  private static void putString(MessageDigest d, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    putLong(d, b.length);
    d.update(b);
  }

  private static void putLong(MessageDigest d, long v) {
    d.update(ByteBuffer.allocate(Long.BYTES).putLong(v).array());
  }

  private static ByteBuffer[] wrap(byte[][] sample) {
    ByteBuffer[] out = new ByteBuffer[sample.length];
    for (int i = 0; i < sample.length; i++) {
      out[i] = ByteBuffer.wrap(sample[i]);
    }
    return out;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime provides SHA-256", e);
    }
  }
}
