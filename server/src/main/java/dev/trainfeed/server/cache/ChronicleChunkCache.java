package dev.trainfeed.server.cache;

import dev.trainfeed.server.cache.ResidencyLedger.Admission;
import dev.trainfeed.server.cache.ResidencyLedger.Resident;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import net.openhft.chronicle.bytes.RandomDataInput;
import net.openhft.chronicle.hash.Data;
import net.openhft.chronicle.hash.impl.util.BuildVersion;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;
import net.openhft.chronicle.map.ExternalMapQueryContext;
import net.openhft.chronicle.map.MapEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's {@link ChunkCache}: decoded chunks in an off-heap Chronicle Map persisted to a file,
 * so a restart starts warm.
 *
 * <p><b>Layout.</b> A chunk is stored as fixed-size pages ({@link Builder#pageSize}, default 64
 * KiB of payload plus a {@value PageFormat#HEADER_BYTES}-byte header), keyed by a 16-byte key
 * (64-bit hash of the dataset version, chunk, page). Each page header repeats the full identity
 * (version, chunk, page, page count, chunk length) and carries a CRC32C; {@link #get} checks every
 * page and drops the whole chunk when any page is missing, foreign or damaged ({@link #lease}
 * checks CRCs once per restored chunk, see there). Dataset versions
 * longer than {@value PageFormat#MAX_VERSION_BYTES} UTF-8 bytes are not admitted ({@link #put}
 * returns false); content versions are hex hashes, far shorter.
 *
 * <p><b>Bounds.</b> The decoded bytes held never exceed {@link #capacityBytes()}; the pages in use
 * never exceed {@link #pageBudget()} (capacity / page size, plus 1/8 for the partial last page of
 * each chunk). The map is created with room for 1.25 × that many entries, so concurrent admission
 * and eviction never fill a segment. The file takes about {@code 1.25 × (capacity + capacity /
 * 8)} bytes on disk. Admission and eviction are decided in Java by an {@link EvictionPolicy}
 * (default {@link LruEvictionPolicy}) over whole chunks.
 *
 * <p><b>Trust.</b> A JSON sidecar ({@code <file>.json}) records the geometry, the chronicle-map
 * version and a clean-shutdown flag. At open, a missing or unreadable sidecar, any mismatch, an
 * unclean previous stop, a file whose length or head checksum differs from the one recorded at
 * close, or a map that fails to open or scan, makes the cache delete and recreate the file
 * (logging why) rather than trust it; opening never fails because of the file's contents. The
 * flag is cleared (durably) before the map is touched and set again by {@link #close()}. A clean
 * reopen scans the map to rebuild the index of complete chunks.
 *
 * <p><b>Ownership.</b> An OS lock on {@code <file>.lock} is held for the life of the cache; a
 * second cache on the same file fails at open with {@link CacheFileInUseException}.
 *
 * <p>Chronicle Map needs the JVM flags of the launcher and of Surefire ({@code --add-opens} /
 * {@code --add-exports}, see the parent POM) and a full JDK, since it compiles code on first use
 * (the first open in a JVM takes seconds). This class sets {@code chronicle.analytics.disable=true}
 * before any Chronicle class initializes, so the library never sends usage analytics.
 *
 * <p>Streams read through {@link #lease}: views of the pages in place, pinned until released.
 *
 * <p>Thread-safe. Buffers returned by {@link #get} are fresh heap copies: read-only,
 * little-endian, position 0, limit the chunk's length, unaffected by later evictions.
 */
public final class ChronicleChunkCache implements ChunkCache {

  static {
    // Before any Chronicle class initializes: the library must never phone home.
    System.setProperty("chronicle.analytics.disable", "true");
  }

  /** Default {@link Builder#pageSize}: 64 KiB of payload per page. */
  public static final int DEFAULT_PAGE_SIZE = 64 << 10;
  /** Smallest accepted {@link Builder#pageSize}: 512 bytes. */
  public static final int MIN_PAGE_SIZE = 512;
  /** Largest accepted {@link Builder#pageSize}: 16 MiB. */
  public static final int MAX_PAGE_SIZE = 16 << 20;
  /** Default {@link Builder#capacityBytes}: 1 GiB. */
  public static final long DEFAULT_CAPACITY_BYTES = 1L << 30;
  /** Default {@link Builder#closeWait}: 10 seconds. */
  public static final Duration DEFAULT_CLOSE_WAIT = Duration.ofSeconds(10);
  /** Largest page budget (capacity / page size) a cache file may have. */
  public static final long MAX_PAGES = 1L << 31;

  private static final Logger LOG = LoggerFactory.getLogger(ChronicleChunkCache.class);
  private static final int STRIPES = 64;
  private static final String MAP_NAME = "trainfeed-chunk-cache";

  private final Path file;
  private final Path sidecarPath;
  private final int pageSize;
  private final int valueSize;
  private final CacheSidecar geometry;
  private final ResidencyLedger ledger;
  private final ChronicleMap<byte[], byte[]> map;
  private final CacheFileLock lock;
  private final boolean openedWarm;
  private final ReentrantReadWriteLock[] stripes = new ReentrantReadWriteLock[STRIPES];
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong corruptions = new AtomicLong();
  private final AtomicBoolean warnedLongVersion = new AtomicBoolean();
  private final long closeWaitNanos;
  private volatile boolean directViews = DirectViews.available();
  private volatile PageAddress addresses = RandomDataInput::addressForRead;

  private ChronicleChunkCache(Path file, int pageSize, CacheSidecar geometry,
      ResidencyLedger ledger, ChronicleMap<byte[], byte[]> map, CacheFileLock lock,
      boolean openedWarm, Duration closeWait) {
    this.file = file;
    this.sidecarPath = sidecarPath(file);
    this.pageSize = pageSize;
    this.valueSize = PageFormat.HEADER_BYTES + pageSize;
    this.geometry = geometry;
    this.ledger = ledger;
    this.map = map;
    this.lock = lock;
    this.openedWarm = openedWarm;
    this.closeWaitNanos = closeWait.toNanos();
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantReadWriteLock();
    }
  }

  /** A builder with the defaults documented on its setters. */
  public static Builder builder() {
    return new Builder();
  }

  /** The default cache file under a data directory: {@code DATA_DIR/cache/chunks.cmap}. */
  public static Path defaultFile(Path dataDir) {
    return dataDir.resolve("cache").resolve("chunks.cmap");
  }

  static Path sidecarPath(Path file) {
    return file.resolveSibling(file.getFileName() + ".json");
  }

  static Path lockPath(Path file) {
    return file.resolveSibling(file.getFileName() + ".lock");
  }

  // ---------------------------------------------------------------------------------------------
  // Opening

  private static ChronicleChunkCache open(Builder b, EvictionPolicy policy) throws IOException {
    Path file = b.file.toAbsolutePath();
    Files.createDirectories(file.getParent());
    long basePages = (b.capacityBytes + b.pageSize - 1) / b.pageSize;
    long pageBudget = basePages + basePages / 8 + 8;
    long entries = pageBudget + pageBudget / 4 + 64;
    CacheSidecar geometry = new CacheSidecar(CacheSidecar.FORMAT_VERSION, b.pageSize,
        PageFormat.HEADER_BYTES, b.capacityBytes, pageBudget, entries, chronicleMapVersion(),
        false, 0, 0);
    CacheFileLock lock = CacheFileLock.acquire(file, lockPath(file));
    try {
      Path sidecar = sidecarPath(file);
      boolean existed = Files.exists(file);
      String distrust = existed ? distrust(file, sidecar, geometry) : null;
      // From here until close() the file may change: a crash must make the next open distrust it.
      geometry.write(sidecar);
      ChronicleMap<byte[], byte[]> map = null;
      ResidencyLedger ledger = new ResidencyLedger(b.capacityBytes, pageBudget, policy);
      boolean warm = false;
      if (existed && distrust == null) {
        try {
          map = mapBuilder(b.pageSize, entries).createPersistedTo(file.toFile());
          rebuildIndex(map, ledger, file, b.pageSize);
          warm = true;
        } catch (IOException | RuntimeException | InternalError | AssertionError e) {
          distrust = "opening or scanning it failed: " + e;
          if (map != null) {
            closeQuietly(map);
            map = null;
          }
          ledger.clear();
        }
      }
      if (map == null) {
        if (distrust != null) {
          LOG.warn("Recreating chunk cache file {}: {}", file, distrust);
        }
        Files.deleteIfExists(file);
        map = mapBuilder(b.pageSize, entries).createPersistedTo(file.toFile());
        LOG.info("Created chunk cache file {}: capacity {} bytes, {} pages of {} bytes", file,
            b.capacityBytes, pageBudget, b.pageSize);
      }
      return new ChronicleChunkCache(file, b.pageSize, geometry, ledger, map, lock, warm,
          b.closeWait);
    } catch (IOException | RuntimeException | Error e) {
      try {
        lock.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** Why the existing file must not be reused, or null when it may be. */
  private static String distrust(Path file, Path sidecarPath, CacheSidecar expected) {
    if (!Files.exists(sidecarPath)) {
      return "its sidecar " + sidecarPath.getFileName() + " is missing";
    }
    CacheSidecar found;
    try {
      found = CacheSidecar.read(sidecarPath);
    } catch (IOException | RuntimeException e) {
      String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
      return "its sidecar is unreadable (" + e.getClass().getSimpleName() + ": " + why + ")";
    }
    String mismatch = found.mismatch(expected);
    if (mismatch != null) {
      return mismatch;
    }
    try {
      long size = Files.size(file);
      if (size != found.mapFileBytes()) {
        return "it is " + size + " bytes, but " + found.mapFileBytes() + " at shutdown";
      }
      if (CacheSidecar.headCrc(file) != found.mapHeadCrc32c()) {
        return "its contents changed since shutdown (the CRC32C of the whole file differs)";
      }
    } catch (IOException e) {
      return "it cannot be read (" + e.getMessage() + ")";
    }
    return null;
  }

  private static ChronicleMapBuilder<byte[], byte[]> mapBuilder(int pageSize, long entries) {
    return ChronicleMap.of(byte[].class, byte[].class)
        .name(MAP_NAME)
        .constantKeySizeBySample(new byte[PageFormat.KEY_BYTES])
        .constantValueSizeBySample(new byte[PageFormat.HEADER_BYTES + pageSize])
        .entries(entries)
        .checksumEntries(false) // every page carries its own CRC32C
        .putReturnsNull(true)
        .removeReturnsNull(true);
  }

  static String chronicleMapVersion() {
    try {
      String v = BuildVersion.version();
      return v == null ? "unknown" : v;
    } catch (RuntimeException | LinkageError e) {
      return "unknown";
    }
  }

  /** What the scan learned about one chunk's pages. */
  private static final class PartialChunk {
    final long versionHash;
    final int pageCount;
    final int chunkLength;
    final BitSet seen = new BitSet();
    boolean inconsistent;

    PartialChunk(long versionHash, int pageCount, int chunkLength) {
      this.versionHash = versionHash;
      this.pageCount = pageCount;
      this.chunkLength = chunkLength;
    }
  }

  /**
   * Reads every page header (not the payloads) and restores the chunks whose pages are all
   * present and consistent; deletes stray pages. CRCs are checked later: on every {@link #get},
   * and on the first {@link #lease} of each restored chunk.
   */
  private static void rebuildIndex(ChronicleMap<byte[], byte[]> map, ResidencyLedger ledger,
      Path file, int pageSize) {
    int valueSize = PageFormat.HEADER_BYTES + pageSize;
    Map<ChunkKey, PartialChunk> chunks = new HashMap<>();
    List<byte[]> strays = new ArrayList<>();
    byte[] header = new byte[PageFormat.HEADER_BYTES];
    map.forEachEntry(e -> {
      Data<byte[]> k = e.key();
      Data<byte[]> v = e.value();
      byte[] key = new byte[PageFormat.KEY_BYTES];
      if (k.size() != PageFormat.KEY_BYTES || v.size() != valueSize) {
        strays.add(k.get());
        return;
      }
      k.bytes().read(k.offset(), key, 0, key.length);
      v.bytes().read(v.offset(), header, 0, header.length);
      ByteBuffer kb = ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN);
      long keyHash = kb.getLong(0);
      int keyChunk = kb.getInt(8);
      int keyPage = kb.getInt(12);
      PageFormat.Header h = PageFormat.Header.read(ByteBuffer.wrap(header));
      if (!h.plausible(pageSize) || h.versionHash() != keyHash || h.chunk() != keyChunk
          || h.pageIndex() != keyPage) {
        strays.add(key);
        return;
      }
      String version = PageFormat.version(header, h.versionLength());
      byte[] versionUtf8 = PageFormat.versionBytes(version);
      if (versionUtf8 == null || PageFormat.versionHash(versionUtf8) != keyHash) {
        strays.add(key);
        return;
      }
      PartialChunk p = chunks.computeIfAbsent(new ChunkKey(version, keyChunk),
          ck -> new PartialChunk(keyHash, h.pageCount(), h.chunkLength()));
      if (p.pageCount != h.pageCount() || p.chunkLength != h.chunkLength()) {
        p.inconsistent = true;
      }
      p.seen.set(keyPage);
    });
    long restoredBytes = 0;
    int restored = 0;
    int dropped = 0;
    for (Map.Entry<ChunkKey, PartialChunk> e : chunks.entrySet()) {
      PartialChunk p = e.getValue();
      boolean complete = !p.inconsistent && p.seen.cardinality() == p.pageCount
          && p.seen.nextClearBit(0) == p.pageCount;
      if (complete && ledger.restore(e.getKey(), p.chunkLength, p.pageCount)) {
        restored++;
        restoredBytes += p.chunkLength;
        continue;
      }
      dropped++;
      for (int page = p.seen.nextSetBit(0); page >= 0; page = p.seen.nextSetBit(page + 1)) {
        map.remove(PageFormat.key(p.versionHash, e.getKey().chunk(), page));
      }
    }
    for (byte[] key : strays) {
      map.remove(key);
    }
    LOG.info("Opened chunk cache file {} warm: {} chunks, {} bytes; dropped {} incomplete chunks"
        + " and {} stray pages", file, restored, restoredBytes, dropped, strays.size());
  }

  // ---------------------------------------------------------------------------------------------
  // ChunkCache

  @Override
  public ByteBuffer get(ChunkKey key) {
    Objects.requireNonNull(key, "key");
    checkOpen();
    byte[] versionUtf8 = PageFormat.versionBytes(key.datasetVersion());
    if (versionUtf8 == null) {
      return null;
    }
    Resident r = ledger.acquireForRead(key);
    if (r == null) {
      return null;
    }
    long hash = PageFormat.versionHash(versionUtf8);
    // One copy per byte, straight from the map's memory into the array handed out; the CRC is
    // then checked on that array, so what was checked is exactly what is served.
    byte[] out = new byte[(int) r.bytes];
    byte[] header = new byte[PageFormat.HEADER_BYTES];
    String problem = null;
    ReentrantReadWriteLock.ReadLock read = stripe(hash, key.chunk()).readLock();
    read.lock();
    try {
      if (closed.get()) {
        return null;
      }
      for (int page = 0; page < r.pages && problem == null; page++) {
        problem = readPage(header, out, versionUtf8, hash, key.chunk(), page, r);
      }
    } catch (RuntimeException e) {
      problem = "reading it failed: " + e;
    } finally {
      read.unlock();
    }
    if (problem != null) {
      drop(key, r, hash, problem);
      return null;
    }
    // A fresh array that nobody else holds: the transport writes from it.
    return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * The chunk's pages in place: read-only views of the map's memory, pinned until the returned
   * bytes are released, so a stream sends them without copying them onto the heap first. While
   * pinned the chunk is never evicted, and an invalidation or a failed check of another reader
   * hides it at once but deletes its pages only after the last release; {@link #close()} waits
   * for releases (at most {@link Builder#closeWait}). Each page's header is checked on every
   * lease; the CRC32Cs are checked on the first lease of each residency whose pages this process
   * did not write itself (a clean restart's), since a check on each pass would read every byte
   * once more. Falls back to {@link #get} (a copy) where the JVM cannot make such views.
   */
  @Override
  public ChunkBytes lease(ChunkKey key) {
    Objects.requireNonNull(key, "key");
    checkOpen();
    if (!directViews) {
      return ChunkCache.super.lease(key);
    }
    byte[] versionUtf8 = PageFormat.versionBytes(key.datasetVersion());
    if (versionUtf8 == null) {
      return null;
    }
    Resident r = ledger.pin(key);
    if (r == null) {
      return null;
    }
    long hash = PageFormat.versionHash(versionUtf8);
    boolean verify = !ledger.verified(r);
    ByteBuffer[] pages = new ByteBuffer[r.pages];
    byte[] header = new byte[PageFormat.HEADER_BYTES];
    String problem = null;
    boolean closedNow = false;
    RuntimeException notAddressable = null;
    Error fatal = null;
    ReentrantReadWriteLock.ReadLock read = stripe(hash, key.chunk()).readLock();
    read.lock();
    try {
      closedNow = closed.get();
      for (int page = 0; !closedNow && page < r.pages && problem == null; page++) {
        problem = viewPage(header, pages, versionUtf8, hash, key.chunk(), page, r, verify);
      }
    } catch (UnsupportedOperationException notNative) {
      notAddressable = notNative;
    } catch (RuntimeException e) {
      problem = "reading it failed: " + e;
    } catch (Error e) {
      fatal = e;
    } finally {
      read.unlock();
    }
    if (fatal != null) {
      unpin(r, hash); // outside the read lock: the last unpin of a ghost takes the write lock
      throw fatal;
    }
    if (notAddressable != null) {
      // The map's memory has no address after all: copy from now on.
      directViews = false;
      LOG.info("Chunk cache {} copies chunks for each stream: its memory has no address ({})",
          file, notAddressable.toString());
      unpin(r, hash);
      return ChunkCache.super.lease(key);
    }
    if (closedNow || problem != null) {
      unpin(r, hash);
      if (problem != null) {
        drop(key, r, hash, problem);
      }
      return null;
    }
    if (verify) {
      ledger.markVerified(r);
    }
    return ChunkBytes.paged(pages, pageSize, (int) r.bytes, () -> unpin(r, hash));
  }

  /**
   * Makes {@link #lease} copy like {@link #get} from now on, as it does in a JVM without the
   * {@code --add-opens} that direct views need, so that tests can run that path.
   */
  void copyOnLease() {
    directViews = false;
  }

  /**
   * Replaces how {@link #lease} finds a page's address (tests: one that throws
   * {@link UnsupportedOperationException}, as {@code addressForRead} does for memory that has
   * none, runs the switch to copying).
   */
  void pageAddresses(PageAddress addresses) {
    this.addresses = addresses;
  }

  /** Where a page's payload starts in memory. */
  @FunctionalInterface
  interface PageAddress {
    /**
     * The address of byte {@code at} of {@code bytes}.
     *
     * @throws UnsupportedOperationException the bytes are not in native memory
     */
    long of(RandomDataInput bytes, long at);
  }

  /**
   * Puts a view of page {@code page}'s payload into {@code pages} after checking its header (and,
   * with {@code verify}, its CRC32C); returns null when it is there and intact, otherwise why not.
   */
  private String viewPage(byte[] header, ByteBuffer[] pages, byte[] versionUtf8, long hash,
      int chunk, int page, Resident r, boolean verify) {
    return checkedPage(header, versionUtf8, hash, chunk, page, r, (bytes, at, length, crc) -> {
      // The entry stays where it is until it is removed, which the pin prevents, and the map's
      // memory stays mapped until close, which waits for pins.
      ByteBuffer view = DirectViews.view(addresses.of(bytes, at), length);
      if (verify && PageFormat.crc(header, view) != crc) {
        return false;
      }
      pages[page] = view;
      return true;
    });
  }

  /** Drops one pin of {@code r}; the last pin of a removed chunk deletes its pages. */
  private void unpin(Resident r, long hash) {
    if (!ledger.unpin(r)) {
      return;
    }
    ReentrantReadWriteLock.WriteLock write = stripe(hash, r.key.chunk()).writeLock();
    write.lock();
    try {
      if (!closed.get()) {
        removePagesQuietly(hash, r.key.chunk(), r.pages);
      }
    } finally {
      write.unlock();
    }
    ledger.forget(r);
  }

  /**
   * Copies page {@code page} of a chunk into its place in {@code out} and checks it; returns null
   * when it is there and intact, otherwise why not (missing, foreign or damaged).
   */
  private String readPage(byte[] header, byte[] out, byte[] versionUtf8, long hash, int chunk,
      int page, Resident r) {
    int into = page * pageSize;
    return checkedPage(header, versionUtf8, hash, chunk, page, r, (bytes, at, length, crc) ->
        bytes.read(at, out, into, length) == length
            && PageFormat.crc(header, out, into, length) == crc);
  }

  /** What {@link #checkedPage} does with a page whose header checked out. */
  @FunctionalInterface
  private interface PagePayload {
    /**
     * Takes the {@code length} payload bytes at {@code at} of {@code bytes}; returns false when
     * they fail the page's stored CRC32C {@code crc} (if it checks it).
     */
    boolean take(RandomDataInput bytes, long at, int length, int crc);
  }

  /**
   * Looks up page {@code page} of a chunk under its entry's read lock, reads its header into
   * {@code header} and checks it against the chunk, then hands the payload to {@code payload};
   * returns null when all is well, otherwise why not (missing, foreign or damaged).
   */
  private String checkedPage(byte[] header, byte[] versionUtf8, long hash, int chunk, int page,
      Resident r, PagePayload payload) {
    try (ExternalMapQueryContext<byte[], byte[], ?> c =
        map.queryContext(PageFormat.key(hash, chunk, page))) {
      c.readLock().lock();
      MapEntry<byte[], byte[]> entry = c.entry();
      if (entry == null) {
        return "page " + page + " missing";
      }
      Data<byte[]> value = entry.value();
      RandomDataInput bytes = value.bytes();
      long at = value.offset();
      if (value.size() >= PageFormat.HEADER_BYTES) {
        bytes.read(at, header, 0, PageFormat.HEADER_BYTES);
      }
      String problem = PageFormat.checkHeader(header, value.size(), valueSize, pageSize,
          versionUtf8, hash, chunk, page, r.pages, r.bytes);
      if (problem != null) {
        return problem;
      }
      int length = PageFormat.expectedPayload(r.bytes, page, pageSize);
      int crc = PageFormat.Header.read(ByteBuffer.wrap(header)).crc();
      return payload.take(bytes, at + PageFormat.HEADER_BYTES, length, crc) ? null
          : "page " + page + " fails its CRC32C";
    }
  }

  /** Drops a chunk that failed its check, unless it was already replaced or removed. */
  private void drop(ChunkKey key, Resident r, long hash, String problem) {
    ReentrantReadWriteLock.WriteLock write = stripe(hash, key.chunk()).writeLock();
    write.lock();
    try {
      if (closed.get() || !ledger.remove(key, r.generation)) {
        return; // evicted or invalidated while we read: not damage
      }
      corruptions.incrementAndGet();
      LOG.warn("Dropping chunk {} from cache file {}: {}", key, file, problem);
      if (!ledger.ghost(r)) { // else the last reader's release deletes the pages
        removePages(hash, key.chunk(), r.pages);
      }
    } finally {
      write.unlock();
    }
  }

  @Override
  public boolean put(ChunkKey key, ByteBuffer decoded) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(decoded, "decoded");
    checkOpen();
    byte[] versionUtf8 = PageFormat.versionBytes(key.datasetVersion());
    if (versionUtf8 == null) {
      if (warnedLongVersion.compareAndSet(false, true)) {
        LOG.warn("Not caching chunks of dataset version '{}': longer than {} UTF-8 bytes",
            key.datasetVersion(), PageFormat.MAX_VERSION_BYTES);
      }
      return false;
    }
    if (ledger.isReady(key)) {
      return true;
    }
    int length = decoded.remaining();
    int pages = PageFormat.pageCount(length, pageSize);
    Admission a = ledger.reserve(key, length, pages);
    switch (a.outcome()) {
      case ALREADY_PRESENT:
        return true;
      case REFUSED:
        return false;
      default:
        break;
    }
    for (Resident victim : a.evicted()) {
      deleteEvicted(victim);
    }
    long hash = PageFormat.versionHash(versionUtf8);
    ReentrantReadWriteLock.WriteLock write = stripe(hash, key.chunk()).writeLock();
    write.lock();
    try {
      if (closed.get()) {
        ledger.remove(key, a.generation());
        return false;
      }
      byte[] value = new byte[valueSize];
      int base = decoded.position();
      for (int page = 0; page < pages; page++) {
        PageFormat.encode(value, versionUtf8, hash, key.chunk(), page, pages, length, decoded,
            base + page * pageSize, PageFormat.expectedPayload(length, page, pageSize));
        map.put(PageFormat.key(hash, key.chunk(), page), value);
      }
      if (!ledger.markReady(key, a.generation())) {
        // Invalidated while we wrote: leave no pages behind unless a newer copy owns them.
        if (!ledger.hasEntry(key)) {
          removePages(hash, key.chunk(), pages);
        }
        return false;
      }
      return true;
    } catch (RuntimeException e) {
      LOG.warn("Could not write chunk {} to cache file {}: {}", key, file, e.toString());
      ledger.remove(key, a.generation());
      if (!ledger.hasEntry(key)) {
        removePagesQuietly(hash, key.chunk(), pages);
      }
      return false;
    } finally {
      write.unlock();
    }
  }

  /** Deletes an evicted chunk's pages unless it has been admitted again meanwhile. */
  private void deleteEvicted(Resident victim) {
    byte[] versionUtf8 = PageFormat.versionBytes(victim.key.datasetVersion());
    long hash = PageFormat.versionHash(versionUtf8);
    ReentrantReadWriteLock.WriteLock write = stripe(hash, victim.key.chunk()).writeLock();
    write.lock();
    try {
      if (!closed.get() && !ledger.hasEntry(victim.key)) {
        removePagesQuietly(hash, victim.key.chunk(), victim.pages);
      }
    } finally {
      write.unlock();
    }
  }

  private void removePages(long hash, int chunk, int pages) {
    for (int page = 0; page < pages; page++) {
      map.remove(PageFormat.key(hash, chunk, page));
    }
  }

  private void removePagesQuietly(long hash, int chunk, int pages) {
    try {
      removePages(hash, chunk, pages);
    } catch (RuntimeException e) {
      // Unaccounted pages are harmless: never read, and removed by the scan at the next open.
      LOG.warn("Could not remove pages of chunk {} from cache file {}: {}", chunk, file,
          e.toString());
    }
  }

  @Override
  public boolean contains(ChunkKey key) {
    checkOpen();
    return ledger.isReady(key);
  }

  @Override
  public void invalidate(ChunkKey key) {
    Objects.requireNonNull(key, "key");
    checkOpen();
    byte[] versionUtf8 = PageFormat.versionBytes(key.datasetVersion());
    if (versionUtf8 == null) {
      return;
    }
    long hash = PageFormat.versionHash(versionUtf8);
    ReentrantReadWriteLock.WriteLock write = stripe(hash, key.chunk()).writeLock();
    write.lock();
    try {
      Resident r = ledger.remove(key);
      if (r != null && !closed.get() && !ledger.ghost(r)) {
        removePagesQuietly(hash, key.chunk(), r.pages);
      }
    } finally {
      write.unlock();
    }
  }

  @Override
  public long sizeBytes() {
    return ledger.sizeBytes();
  }

  @Override
  public long capacityBytes() {
    return ledger.capacityBytes();
  }

  @Override
  public long evictions() {
    return ledger.evictions();
  }

  @Override
  public long pinnedBytes() {
    return ledger.pinnedBytes();
  }

  /** Chunks dropped since open because a page was missing, foreign or failed its CRC. */
  public long corruptions() {
    return corruptions.get();
  }

  /** Number of chunks held now. */
  public int chunkCount() {
    return ledger.chunkCount();
  }

  /** Pages held now; at most {@link #pageBudget()}. */
  public long pagesInUse() {
    return ledger.pagesInUse();
  }

  /** The most pages the cache holds: capacity / page size, plus 1/8 for partial last pages. */
  public long pageBudget() {
    return ledger.pageBudget();
  }

  /** Payload bytes per page. */
  public int pageSize() {
    return pageSize;
  }

  /** The map file. */
  public Path file() {
    return file;
  }

  /** Whether open reused the existing file (a warm start) rather than creating it. */
  public boolean openedWarm() {
    return openedWarm;
  }

  /**
   * Closes the map, flushes the file to disk, marks the sidecar clean (so the next open reuses
   * the file) and releases the lock. Later calls other than the size getters throw. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (!awaitReleases()) {
      releaseLock();
      return;
    }
    boolean flushed = closeMap();
    try {
      if (flushed) {
        CacheSidecar clean = geometry.withShutdown(true, Files.size(file),
            CacheSidecar.headCrc(file));
        clean.write(sidecarPath);
      }
    } catch (IOException e) {
      LOG.warn("Could not mark chunk cache file {} clean; the next open recreates it: {}", file,
          e.toString());
    } finally {
      releaseLock();
    }
  }

  /** Stops like a killed server: closes the map and the lock, but leaves the sidecar unclean. */
  void closeWithoutMarkingClean() {
    if (closed.compareAndSet(false, true)) {
      if (awaitReleases()) {
        closeMap();
      }
      releaseLock();
    }
  }

  /**
   * Waits for streams still sending from pinned pages (new leases fail once {@code closed} is
   * set). If they do not let go in time, the map stays mapped (unmapping memory a stream reads
   * would crash the JVM) and the file stays marked unclean, so the next open recreates it.
   */
  private boolean awaitReleases() {
    try {
      if (ledger.awaitNoPins(closeWaitNanos)) {
        return true;
      }
      LOG.warn("Chunk cache {}: {} pinned pages still being sent after {} ms; leaving the map "
          + "mapped and the file unclean (the next open recreates it)", file, ledger.pins(),
          TimeUnit.NANOSECONDS.toMillis(closeWaitNanos));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.warn("Chunk cache {}: interrupted waiting for streams to release pinned pages; leaving "
          + "the map mapped and the file unclean", file);
    }
    return false;
  }

  /** Test access to the underlying map. */
  ChronicleMap<byte[], byte[]> mapForTesting() {
    return map;
  }

  /** Waits for in-flight operations, closes the map and fsyncs the file; false if that failed. */
  private boolean closeMap() {
    for (ReentrantReadWriteLock s : stripes) {
      s.writeLock().lock();
    }
    try {
      map.close();
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.warn("Could not close chunk cache file {} cleanly: {}", file, e.toString());
      return false;
    } finally {
      for (ReentrantReadWriteLock s : stripes) {
        s.writeLock().unlock();
      }
    }
  }

  private void releaseLock() {
    try {
      lock.close();
    } catch (IOException e) {
      LOG.warn("Could not release lock on {}: {}", lockPath(file), e.toString());
    }
  }

  private static void closeQuietly(ChronicleMap<?, ?> map) {
    try {
      map.close();
    } catch (RuntimeException e) {
      LOG.debug("Ignoring failure closing a distrusted map", e);
    }
  }

  private ReentrantReadWriteLock stripe(long versionHash, int chunk) {
    long h = (versionHash ^ (chunk * 0x9e3779b97f4a7c15L));
    h ^= h >>> 32;
    return stripes[(int) (h & (STRIPES - 1))];
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("chunk cache " + file + " is closed");
    }
  }

  /** Options for {@link ChronicleChunkCache}; each setter validates at once. */
  public static final class Builder {
    private Path file;
    private long capacityBytes = DEFAULT_CAPACITY_BYTES;
    private int pageSize = DEFAULT_PAGE_SIZE;
    private Supplier<? extends EvictionPolicy> evictionPolicy = LruEvictionPolicy::new;
    private Duration closeWait = DEFAULT_CLOSE_WAIT;

    private Builder() {}

    /**
     * How long {@link ChronicleChunkCache#close()} waits for streams to release pinned pages
     * ({@link ChronicleChunkCache#lease}) before it gives up on closing the map cleanly (default
     * 10 s; zero or more).
     */
    public Builder closeWait(Duration closeWait) {
      Objects.requireNonNull(closeWait, "closeWait");
      if (closeWait.isNegative()) {
        throw new IllegalArgumentException("closeWait must be zero or more, got " + closeWait);
      }
      this.closeWait = closeWait;
      return this;
    }

    /**
     * The map file ({@code --cache-file}); required unless {@link #dataDir} is set. Its directory
     * is created if missing; {@code <file>.json} and {@code <file>.lock} are kept beside it.
     */
    public Builder file(Path file) {
      this.file = Objects.requireNonNull(file, "file");
      return this;
    }

    /** Uses the default file under a data directory, {@code DATA_DIR/cache/chunks.cmap}. */
    public Builder dataDir(Path dataDir) {
      return file(defaultFile(Objects.requireNonNull(dataDir, "dataDir")));
    }

    /**
     * Bound on the decoded bytes held, in bytes ({@code --cache-size}, default 1 GiB); at least
     * one page, at most {@link #MAX_PAGES} pages. Changing it recreates the file at the next open.
     */
    public Builder capacityBytes(long capacityBytes) {
      if (capacityBytes < 1) {
        throw new IllegalArgumentException("capacityBytes must be positive, got " + capacityBytes
            + "; pass the cache size in bytes (for example 4g = 4294967296)");
      }
      this.capacityBytes = capacityBytes;
      return this;
    }

    /**
     * Payload bytes per page (default 64 KiB), from {@value #MIN_PAGE_SIZE} to 16 MiB. Changing it
     * recreates the file at the next open.
     */
    public Builder pageSize(int pageSize) {
      if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE) {
        throw new IllegalArgumentException("pageSize must be between " + MIN_PAGE_SIZE + " and "
            + MAX_PAGE_SIZE + " bytes, got " + pageSize + "; the default is "
            + DEFAULT_PAGE_SIZE);
      }
      this.pageSize = pageSize;
      return this;
    }

    /**
     * Makes the eviction policy, called once per {@link #build} (default {@code
     * LruEvictionPolicy::new}); each cache needs its own instance.
     */
    public Builder evictionPolicy(Supplier<? extends EvictionPolicy> factory) {
      this.evictionPolicy = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Opens the cache: reuses the file when it can be trusted, otherwise recreates it.
     *
     * @throws CacheFileInUseException another cache holds the file's lock
     * @throws IOException the directory or file cannot be created
     */
    public ChronicleChunkCache build() throws IOException {
      if (file == null) {
        throw new IllegalStateException(
            "no cache file: call file(..) (--cache-file) or dataDir(..)");
      }
      if ((capacityBytes + pageSize - 1) / pageSize > MAX_PAGES) {
        throw new IllegalStateException("capacityBytes " + capacityBytes + " needs more than "
            + MAX_PAGES + " pages of " + pageSize + " bytes; raise pageSize");
      }
      if (capacityBytes < pageSize) {
        throw new IllegalStateException("capacityBytes " + capacityBytes
            + " is smaller than one page of " + pageSize + " bytes; raise capacityBytes or"
            + " lower pageSize");
      }
      return open(this, Objects.requireNonNull(evictionPolicy.get(), "evictionPolicy factory returned null"));
    }
  }
}
