package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.client.Batch;
import dev.trainfeed.server.cli.Main;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Datasets whose bytes are a function of the sample id, written as real {@code .npy} files and
 * ingested through the real command line, so that every received byte can be checked.
 * Fields: {@code x} float32 [3] = id·3 + k, {@code label} int64 = id mod 10, {@code img} uint8
 * [2, 2] = (id + k) mod 256.
 */
final class TestData {
  private TestData() {}

  static void writeNpy(Path file, String descr, long[] shape, byte[] data) throws IOException {
    String dims = Arrays.stream(shape).mapToObj(Long::toString)
        .collect(Collectors.joining(", ", "(", shape.length == 1 ? ",)" : ")"));
    StringBuilder header = new StringBuilder("{'descr': '" + descr
        + "', 'fortran_order': False, 'shape': " + dims + ", }");
    while ((10 + header.length() + 1) % 64 != 0) {
      header.append(' ');
    }
    header.append('\n');
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
      out.write(header.length() & 0xff);
      out.write(header.length() >> 8);
      out.write(header.toString().getBytes(StandardCharsets.US_ASCII));
      out.write(data);
    }
  }

  /** Writes the three fields for {@code n} samples into {@code dir}. */
  static void writeSource(Path dir, int n) throws IOException {
    Files.createDirectories(dir);
    ByteBuffer x = ByteBuffer.allocate(n * 12).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer label = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
    byte[] img = new byte[n * 4];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < 3; k++) {
        x.putFloat(i * 3f + k);
      }
      label.putLong(i % 10);
      for (int k = 0; k < 4; k++) {
        img[i * 4 + k] = (byte) (i + k);
      }
    }
    writeNpy(dir.resolve("x.npy"), "<f4", new long[] {n, 3}, x.array());
    writeNpy(dir.resolve("label.npy"), "<i8", new long[] {n}, label.array());
    writeNpy(dir.resolve("img.npy"), "|u1", new long[] {n, 2, 2}, img);
  }

  /** Ingests {@code n} samples as {@code name} in chunks of about {@code chunkSize} bytes. */
  static void ingest(Path dataDir, String name, int n, String chunkSize) throws IOException {
    Path src = dataDir.getParent().resolve("src-" + name);
    writeSource(src, n);
    int rc = Main.run(new String[] {"ingest", "--data-dir", dataDir.toString(), "--name", name,
        "--npy", src.toString(), "--chunk-size", chunkSize, "--quiet"}, Map.of());
    assertThat(rc).as("ingest exit status").isZero();
  }

  /** Asserts that every tensor of {@code b} holds exactly the bytes of its sample ids. */
  static void assertBytes(Batch b) {
    long[] ids = b.sampleIds();
    float[] x = b.tensor("x").toFloatArray();
    long[] label = b.tensor("label").toLongArray();
    byte[] img = b.tensor("img").toByteArray();
    assertThat(b.tensor("img").shape()).containsExactly(ids.length, 2, 2);
    for (int i = 0; i < ids.length; i++) {
      for (int k = 0; k < 3; k++) {
        assertThat(x[i * 3 + k]).isEqualTo(ids[i] * 3f + k);
      }
      assertThat(label[i]).isEqualTo(ids[i] % 10);
      for (int k = 0; k < 4; k++) {
        assertThat(img[i * 4 + k]).isEqualTo((byte) (ids[i] + k));
      }
    }
  }
}
