package dev.trainfeed.demo;

import dev.trainfeed.server.cli.Main;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * A synthetic dataset for {@code trainfeed bench --embedded}: {@code image} (uint8 [sampleBytes])
 * filled from a seeded generator and {@code label} (int64), written as {@code .npy} files and
 * ingested with the real ingest command.
 */
final class SyntheticDataset {
  private SyntheticDataset() {}

  /**
   * Writes and ingests about {@code totalBytes} of samples into {@code dataDir} as {@code name}.
   *
   * @return the number of samples written
   */
  static long create(Path dataDir, String name, long totalBytes, int sampleBytes, long chunkBytes,
      long seed) throws IOException {
    long n = Math.max(1, totalBytes / (sampleBytes + 8L));
    Path src = Files.createDirectories(dataDir.resolve("bench-source"));
    SplittableRandom random = new SplittableRandom(seed);
    writeNpy(src.resolve("image.npy"), "|u1", new long[] {n, sampleBytes}, n * sampleBytes,
        random, false);
    writeNpy(src.resolve("label.npy"), "<i8", new long[] {n}, n * 8, random, true);
    int rc = Main.run(new String[] {"ingest", "--data-dir", dataDir.toString(), "--name", name,
        "--npy", src.toString(), "--chunk-size", Long.toString(chunkBytes)}, java.util.Map.of());
    if (rc != 0) {
      throw new IOException("ingest of the synthetic dataset failed (exit " + rc + ")");
    }
    try (var files = Files.list(src)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.delete(p);
      }
    }
    Files.delete(src);
    return n;
  }

  private static void writeNpy(Path file, String descr, long[] shape, long bytes,
      SplittableRandom random, boolean labels) throws IOException {
    StringBuilder dims = new StringBuilder();
    for (long d : shape) {
      dims.append(d).append(", ");
    }
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': ("
        + dims.toString().strip().replaceAll(",$", shape.length == 1 ? "," : "") + "), }";
    int unpadded = 10 + dict.length() + 1;
    String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
    ByteBuffer head = ByteBuffer.allocate(10 + header.length()).order(ByteOrder.LITTLE_ENDIAN);
    head.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1)
        .put((byte) 0).putShort((short) header.length())
        .put(header.getBytes(StandardCharsets.US_ASCII)).flip();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      ch.write(head);
      ByteBuffer block = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      long written = 0;
      long label = 0;
      while (written < bytes) {
        block.clear();
        int len = (int) Math.min(block.capacity(), bytes - written);
        block.limit(len);
        while (block.remaining() >= 8) {
          block.putLong(labels ? (label++ % 10) : random.nextLong());
        }
        while (block.hasRemaining()) {
          block.put((byte) random.nextInt());
        }
        block.flip();
        while (block.hasRemaining()) {
          ch.write(block);
        }
        written += len;
      }
    }
  }
}
