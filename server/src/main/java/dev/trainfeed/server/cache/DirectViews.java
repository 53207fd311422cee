package dev.trainfeed.server.cache;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.ref.Reference;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-only {@link ByteBuffer} views of native memory the cache's map has mapped, so a stream can
 * send a cached page without first copying it onto the heap.
 *
 * <p>The JDK makes such views only for JNI ({@code NewDirectByteBuffer}), through a private
 * {@code DirectByteBuffer} constructor: {@code (long, int)} up to Java 20, {@code (long, long)}
 * since. It is reached with the {@code --add-opens java.base/java.nio} that Chronicle Map needs
 * anyway. Where it cannot be reached, {@link #available()} is false and the cache copies instead.
 * A view owns nothing: it has no cleaner, and reading it after the memory is unmapped crashes the
 * JVM, which is why the cache pins what it hands out.
 */
final class DirectViews {
  private static final Logger LOG = LoggerFactory.getLogger(DirectViews.class);
  private static final MethodHandle CONSTRUCTOR = find();

  private DirectViews() {}

  /** Whether {@link #view} works in this JVM. */
  static boolean available() {
    return CONSTRUCTOR != null;
  }

  /**
   * A read-only little-endian view of {@code length} bytes at {@code address}: position 0, limit
   * and capacity {@code length}.
   *
   * @throws IllegalStateException when {@link #available()} is false
   */
  static ByteBuffer view(long address, int length) {
    if (CONSTRUCTOR == null) {
      throw new IllegalStateException("direct views are not available in this JVM");
    }
    try {
      ByteBuffer b = (ByteBuffer) CONSTRUCTOR.invokeExact(address, length);
      return b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("could not make a view of native memory", t);
    }
  }

  private static MethodHandle find() {
    try {
      Class<?> direct = Class.forName("java.nio.DirectByteBuffer");
      MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(direct, MethodHandles.lookup());
      MethodHandle h;
      try {
        h = lookup.findConstructor(direct, MethodType.methodType(void.class, long.class,
            long.class));
      } catch (NoSuchMethodException older) {
        h = lookup.findConstructor(direct, MethodType.methodType(void.class, long.class,
            int.class));
      }
      h = h.asType(MethodType.methodType(ByteBuffer.class, long.class, int.class));
      // Prove it on memory of our own before trusting it with the map's.
      ByteBuffer probe = ByteBuffer.allocateDirect(8);
      probe.putLong(0, 0x0102030405060708L);
      long address = (long) MethodHandles.privateLookupIn(Buffer.class, MethodHandles.lookup())
          .findGetter(Buffer.class, "address", long.class).invoke((Buffer) probe);
      ByteBuffer v = (ByteBuffer) h.invoke(address, 8);
      boolean same = v.capacity() == 8 && v.getLong(0) == 0x0102030405060708L;
      Reference.reachabilityFence(probe);
      if (!same) {
        throw new IllegalStateException("the view did not read back what was written");
      }
      return h;
    } catch (Throwable t) {
      LOG.info("Cached chunks are copied onto the heap for each stream: no direct views of the "
          + "cache's memory in this JVM ({}); start it with --add-opens "
          + "java.base/java.nio=ALL-UNNAMED", t.toString());
      return null;
    }
  }
}
