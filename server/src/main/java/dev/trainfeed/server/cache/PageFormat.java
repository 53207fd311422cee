package dev.trainfeed.server.cache;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The fixed-size key and value layout of {@link ChronicleChunkCache}'s map entries.
 *
 * <p>Key ({@value #KEY_BYTES} bytes, little-endian): 64-bit hash of the dataset version, chunk
 * index, page index. Value ({@value #HEADER_BYTES} + page size bytes, little-endian):
 *
 * <pre>
 *   0  int   magic "TFCP"         20 int  page index
 *   4  short format (1)           24 int  page count of the chunk
 *   6  short version length       28 int  chunk decoded length
 *   8  long  version hash         32 int  payload length
 *  16  int   chunk index          36 int  CRC32C of bytes [0,36) + [40, header) + payload
 *  40  byte[{@value #MAX_VERSION_BYTES}] version, UTF-8, zero padded
 *  {@value #HEADER_BYTES} payload, zero padded to the page size
 * </pre>
 *
 * The header carries the full version so a hash collision in the key is detected on read.
 */
final class PageFormat {
  static final int KEY_BYTES = 16;
  static final int MAX_VERSION_BYTES = 128;
  static final int HEADER_BYTES = 40 + MAX_VERSION_BYTES;
  static final int MAGIC = 0x50434654; // "TFCP" little-endian
  static final short FORMAT = 1;

  private static final int CRC_OFFSET = 36;

  private PageFormat() {}

  /** Pages needed for a chunk of {@code length} bytes (at least one, so empty chunks persist). */
  static int pageCount(long length, int pageSize) {
    return (int) Math.max(1, (length + pageSize - 1) / pageSize);
  }

  /** The UTF-8 version bytes, or null when longer than {@link #MAX_VERSION_BYTES}. */
  static byte[] versionBytes(String version) {
    byte[] b = version.getBytes(StandardCharsets.UTF_8);
    return b.length <= MAX_VERSION_BYTES ? b : null;
  }

  /** 64-bit FNV-1a of the UTF-8 bytes, finished with the SplitMix64 mixer. */
  static long versionHash(byte[] versionUtf8) {
    long h = 0xcbf29ce484222325L;
    for (byte b : versionUtf8) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    h ^= h >>> 31;
    return h;
  }

  /** The key ({@link #KEY_BYTES} bytes) of page {@code page} of a chunk. */
  static byte[] key(long versionHash, int chunk, int page) {
    byte[] key = new byte[KEY_BYTES];
    ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(versionHash).putInt(chunk).putInt(page);
    return key;
  }

  /** The fields of a page header. */
  record Header(int magic, short format, int versionLength, long versionHash, int chunk,
      int pageIndex, int pageCount, int chunkLength, int payloadLength, int crc) {

    static Header read(ByteBuffer page) {
      ByteBuffer b = page.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      return new Header(b.getInt(0), b.getShort(4), b.getShort(6) & 0xffff, b.getLong(8),
          b.getInt(16), b.getInt(20), b.getInt(24), b.getInt(28), b.getInt(32), b.getInt(36));
    }

    /** Whether the structural fields are self-consistent for pages of {@code pageSize}. */
    boolean plausible(int pageSize) {
      return magic == MAGIC && format == FORMAT && versionLength <= MAX_VERSION_BYTES
          && pageCount >= 1 && pageIndex >= 0 && pageIndex < pageCount && chunkLength >= 0
          && pageCount == PageFormat.pageCount(chunkLength, pageSize)
          && payloadLength == expectedPayload(chunkLength, pageIndex, pageSize);
    }
  }

  /** Payload length of page {@code page} of a chunk of {@code chunkLength} bytes. */
  static int expectedPayload(long chunkLength, int page, int pageSize) {
    long start = (long) page * pageSize;
    return (int) Math.max(0, Math.min(pageSize, chunkLength - start));
  }

  /**
   * Fills {@code value} (length {@code HEADER_BYTES + pageSize}) with page {@code page} of {@code
   * chunkBytes}, whose bytes are read from {@code src} at absolute index {@code srcOffset}.
   */
  static void encode(byte[] value, byte[] versionUtf8, long versionHash, int chunk, int page,
      int pageCount, int chunkLength, ByteBuffer src, int srcOffset, int payloadLength) {
    ByteBuffer b = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, MAGIC);
    b.putShort(4, FORMAT);
    b.putShort(6, (short) versionUtf8.length);
    b.putLong(8, versionHash);
    b.putInt(16, chunk);
    b.putInt(20, page);
    b.putInt(24, pageCount);
    b.putInt(28, chunkLength);
    b.putInt(32, payloadLength);
    java.util.Arrays.fill(value, 40, value.length, (byte) 0);
    System.arraycopy(versionUtf8, 0, value, 40, versionUtf8.length);
    src.duplicate().position(srcOffset).limit(srcOffset + payloadLength)
        .get(value, HEADER_BYTES, payloadLength);
    b.putInt(CRC_OFFSET, crc(value, payloadLength));
  }

  /** The CRC32C a page with {@code payloadLength} payload bytes must carry. */
  static int crc(byte[] value, int payloadLength) {
    return crc(value, value, HEADER_BYTES, payloadLength);
  }

  /** The CRC32C of a page whose payload is {@code payload}'s position to limit (not moved). */
  static int crc(byte[] header, ByteBuffer payload) {
    CRC32C crc = new CRC32C();
    crc.update(header, 0, CRC_OFFSET);
    crc.update(header, CRC_OFFSET + 4, HEADER_BYTES - CRC_OFFSET - 4);
    crc.update(payload.duplicate());
    return (int) crc.getValue();
  }

  /** The CRC32C of a page whose header and payload lie in separate arrays. */
  static int crc(byte[] header, byte[] payload, int payloadOffset, int payloadLength) {
    return crc(header, ByteBuffer.wrap(payload, payloadOffset, payloadLength));
  }

  /**
   * Checks that {@code header} (the first {@link #HEADER_BYTES} of a stored value of {@code
   * valueLength} bytes) is the header of page {@code page} of the chunk identified by the
   * arguments; returns null when it is, otherwise why not. A header that passes carries the
   * payload length {@link #expectedPayload} gives.
   */
  static String checkHeader(byte[] header, long valueLength, int valueSize, int pageSize,
      byte[] versionUtf8, long versionHash, int chunk, int page, int pageCount,
      long chunkLength) {
    if (valueLength != valueSize) {
      return "page " + page + " has " + valueLength + " bytes, expected " + valueSize;
    }
    Header h = Header.read(ByteBuffer.wrap(header));
    if (!h.plausible(pageSize)) {
      return "page " + page + " header is malformed";
    }
    if (h.versionHash() != versionHash || h.chunk() != chunk || h.pageIndex() != page
        || h.pageCount() != pageCount || h.chunkLength() != chunkLength
        || h.versionLength() != versionUtf8.length
        || !java.util.Arrays.equals(header, 40, 40 + versionUtf8.length, versionUtf8, 0,
            versionUtf8.length)) {
      return "page " + page + " belongs to another chunk";
    }
    return null;
  }

  /** The version string stored in a header whose bytes are {@code header}. */
  static String version(byte[] header, int versionLength) {
    return new String(header, 40, versionLength, StandardCharsets.UTF_8);
  }
}
