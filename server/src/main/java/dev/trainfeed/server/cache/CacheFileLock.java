package dev.trainfeed.server.cache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive OS lock on {@code <cache file>.lock}, held for the life of a cache. The file holds
 * the owner's pid for the error message a second opener gets. The lock file is left in place on
 * release: deleting it would let two openers lock different inodes of the same path.
 */
final class CacheFileLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private CacheFileLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Locks {@code lockFile} or throws {@link CacheFileInUseException} naming the holder. */
  static CacheFileLock acquire(Path cacheFile, Path lockFile) throws IOException {
    FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      ch.close();
      throw new CacheFileInUseException("cache file " + cacheFile
          + " is in use by another TrainFeed server (pid " + holderPid(lockFile)
          + "); give each server its own --cache-file");
    }
    try {
      ch.truncate(0);
      ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
          .getBytes(StandardCharsets.US_ASCII)), 0);
      ch.force(true);
    } catch (IOException e) {
      lock.release();
      ch.close();
      throw e;
    }
    return new CacheFileLock(ch, lock);
  }

  private static String holderPid(Path lockFile) {
    try {
      String s = Files.readString(lockFile, StandardCharsets.US_ASCII).trim();
      return s.isEmpty() ? "unknown" : s;
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
