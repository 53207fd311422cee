package dev.trainfeed.server.store;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Ingests MNIST-style IDX files: an images file (magic {@code 0x00000803}: unsigned bytes,
 * dimensions [n, rows, cols]) and a labels file (magic {@code 0x00000801}: unsigned bytes [n]) give
 * the uint8 field {@code image} of shape [rows, cols] and the int64 field {@code label}. Either file
 * may be gzip-compressed (recognised by its content, not its name). Read in blocks, never whole.
 */
public final class IdxIngest implements IngestSource {
  private static final int IMAGES_MAGIC = 0x00000803;
  private static final int LABELS_MAGIC = 0x00000801;
  private static final int BLOCK_BYTES = 1 << 20;

  private final Path images;
  private final Path labels;
  private Schema schema;
  private int rows;
  private int cols;

  /** A source reading {@code images} and {@code labels} (plain or gzip). */
  public IdxIngest(Path images, Path labels) {
    this.images = images;
    this.labels = labels;
  }

  @Override
  public Schema inspect() throws IOException {
    if (schema != null) {
      return schema;
    }
    long n;
    long numLabels;
    try (DataInputStream img = open(images); DataInputStream lab = open(labels)) {
      int[] imgDims = header(img, images, IMAGES_MAGIC, 3, "images");
      int[] labDims = header(lab, labels, LABELS_MAGIC, 1, "labels");
      n = imgDims[0];
      numLabels = labDims[0];
      rows = imgDims[1];
      cols = imgDims[2];
    }
    if (n != numLabels) {
      throw new MalformedSourceException("IDX files disagree: " + images + " holds " + n
          + " images, " + labels + " holds " + numLabels + " labels");
    }
    if ((long) rows * cols > WriterOptions.MAX_CHUNK_SIZE_BYTES) {
      throw new MalformedSourceException(images + " declares " + rows + "x" + cols + " images, "
          + "over the 1 GiB limit of one sample");
    }
    if (n == 0 || rows == 0 || cols == 0) {
      throw new MalformedSourceException(images + " holds no pixels (shape [" + n + ", " + rows
          + ", " + cols + "])");
    }
    checkPlainSize(images, 16 + n * rows * cols);
    checkPlainSize(labels, 8 + n);
    schema = new Schema(List.of(new FieldSpec("image", DType.UINT8, rows, cols),
        new FieldSpec("label", DType.INT64)), n, false);
    return schema;
  }

  @Override
  public void writeTo(DatasetWriter writer, IngestProgress progress) throws IOException {
    inspect();
    long total = schema.numSamples();
    int imageBytes = rows * cols;
    int block = (int) Math.max(1, Math.min(total, BLOCK_BYTES / imageBytes));
    byte[] img = new byte[block * imageBytes];
    byte[] lab = new byte[block];
    ByteBuffer labels64 = ByteBuffer.allocate(block * 8).order(ByteOrder.LITTLE_ENDIAN);
    try (DataInputStream imgIn = open(images); DataInputStream labIn = open(labels)) {
      imgIn.skipNBytes(16);
      labIn.skipNBytes(8);
      long done = 0;
      while (done < total) {
        int n = (int) Math.min(block, total - done);
        readFully(imgIn, img, n * imageBytes, images, done, total);
        readFully(labIn, lab, n, labels, done, total);
        labels64.clear();
        for (int i = 0; i < n; i++) {
          labels64.putLong(lab[i] & 0xff);
        }
        writer.appendColumns(n, ByteBuffer.wrap(img, 0, n * imageBytes), labels64.flip());
        done += n;
        progress.onProgress(done, total);
      }
      checkEnd(imgIn, images, total);
      checkEnd(labIn, labels, total);
    }
  }

  /** Opens {@code file}, transparently un-gzipping it when it starts with the gzip magic. */
  private static DataInputStream open(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new MalformedSourceException("IDX file " + file + " does not exist");
    }
    InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    try {
      if (gzipped(in)) {
        in = new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
      }
    } catch (IOException e) {
      in.close();
      throw new MalformedSourceException(file + " is not a valid gzip file: " + e.getMessage(), e);
    }
    return new DataInputStream(in);
  }

  private static boolean gzipped(InputStream in) throws IOException {
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    return b0 == 0x1f && b1 == 0x8b;
  }

  private static int[] header(DataInputStream in, Path file, int magic, int ndims, String what)
      throws IOException {
    try {
      int m = in.readInt();
      if (m != magic) {
        throw new MalformedSourceException(file + " is not an IDX " + what + " file: magic is 0x"
            + String.format("%08x", m) + ", expected 0x" + String.format("%08x", magic)
            + " (unsigned bytes, " + ndims + " dimension" + (ndims > 1 ? "s" : "") + ")");
      }
      int[] dims = new int[ndims];
      for (int i = 0; i < ndims; i++) {
        dims[i] = in.readInt();
        if (dims[i] < 0) {
          throw new MalformedSourceException(file + " declares a negative dimension " + dims[i]);
        }
      }
      return dims;
    } catch (EOFException e) {
      throw new MalformedSourceException(file + " is truncated: it ends inside its header", e);
    }
  }

  private static void checkPlainSize(Path file, long expected) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
      if (gzipped(in)) {
        return; // a gzip stream's length is checked while reading
      }
    }
    long size = Files.size(file);
    if (size != expected) {
      throw new MalformedSourceException(file + " is " + size + " bytes, its header declares "
          + expected + (size < expected ? "; the file is truncated" : "; the file is damaged"));
    }
  }

  private static void readFully(InputStream in, byte[] buf, int len, Path file, long done,
      long total) throws IOException {
    int got;
    try {
      got = in.readNBytes(buf, 0, len);
    } catch (EOFException | ZipException e) {
      throw new MalformedSourceException(file + " is damaged near item " + done + " of " + total
          + ": " + e.getMessage(), e);
    }
    if (got < len) {
      throw new MalformedSourceException(file + " is truncated: it ends near item " + done
          + " of " + total);
    }
  }

  private static void checkEnd(InputStream in, Path file, long total) throws IOException {
    if (in.read() >= 0) {
      throw new MalformedSourceException(file + " has data after the " + total + " items its "
          + "header declares; the file is damaged");
    }
  }
}
