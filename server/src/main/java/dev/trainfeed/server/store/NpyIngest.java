package dev.trainfeed.server.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ingests a folder of {@code FIELD.npy} files: one field per file, named after the file stem, fields
 * in name order; the first dimension counts samples and must agree between files, the remaining
 * dimensions are the shape of one sample.
 *
 * <p>Supported: npy format versions 1.0, 2.0 and 3.0; C order; dtypes {@code u1 i1 i4 i8 f2 f4 f8}.
 * Big-endian arrays ({@code >i4} …) are converted to little-endian while reading. Files are read
 * in blocks of about 1 MiB of samples, never whole. Other files in the folder are ignored.
 */
public final class NpyIngest implements IngestSource {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int BLOCK_BYTES = 1 << 20;
  private static final Map<String, DType> DTYPES = Map.of("u1", DType.UINT8, "i1", DType.INT8,
      "i4", DType.INT32, "i8", DType.INT64, "f2", DType.FLOAT16, "f4", DType.FLOAT32,
      "f8", DType.FLOAT64);
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /** One parsed file: its field, where its data starts and whether it needs a byte swap. */
  private record NpyFile(Path path, FieldSpec field, boolean bigEndian, long numSamples,
      long dataOffset) {}

  private final Path dir;
  private List<NpyFile> files;
  private Schema schema;

  /** A source reading the {@code *.npy} files in {@code dir}. */
  public NpyIngest(Path dir) {
    this.dir = dir;
  }

  @Override
  public Schema inspect() throws IOException {
    if (schema != null) {
      return schema;
    }
    if (!Files.isDirectory(dir)) {
      throw new MalformedSourceException("npy folder " + dir + " does not exist or is not a "
          + "directory");
    }
    List<Path> paths = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*.npy")) {
      entries.forEach(paths::add);
    }
    if (paths.isEmpty()) {
      throw new MalformedSourceException("npy folder " + dir + " holds no .npy files; put one "
          + "FIELD.npy per field there");
    }
    paths.sort(Comparator.comparing(p -> p.getFileName().toString()));
    List<NpyFile> parsed = new ArrayList<>();
    for (Path p : paths) {
      NpyFile f = parseHeader(p);
      if (!parsed.isEmpty() && parsed.get(0).numSamples() != f.numSamples()) {
        throw new MalformedSourceException("npy files disagree on the number of samples: "
            + parsed.get(0).path() + " has " + parsed.get(0).numSamples() + ", " + p + " has "
            + f.numSamples() + "; the first dimension of every file must be the same");
      }
      parsed.add(f);
    }
    if (parsed.get(0).numSamples() == 0) {
      throw new MalformedSourceException("npy files in " + dir + " hold 0 samples");
    }
    files = parsed;
    schema = new Schema(parsed.stream().map(NpyFile::field).toList(),
        parsed.get(0).numSamples(), false);
    return schema;
  }

  @Override
  public void writeTo(DatasetWriter writer, IngestProgress progress) throws IOException {
    inspect();
    long total = schema.numSamples();
    long sampleBytes = files.stream().mapToLong(f -> f.field().sampleBytes()).sum();
    int block = (int) Math.max(1, Math.min(total, BLOCK_BYTES / sampleBytes));
    FileChannel[] channels = new FileChannel[files.size()];
    ByteBuffer[] buffers = new ByteBuffer[files.size()];
    try {
      for (int i = 0; i < files.size(); i++) {
        channels[i] = FileChannel.open(files.get(i).path(), StandardOpenOption.READ);
        channels[i].position(files.get(i).dataOffset());
        buffers[i] = ByteBuffer.allocate(Math.toIntExact(block * files.get(i).field().sampleBytes()));
      }
      long done = 0;
      while (done < total) {
        int n = (int) Math.min(block, total - done);
        for (int i = 0; i < files.size(); i++) {
          NpyFile f = files.get(i);
          ByteBuffer b = buffers[i].clear().limit(Math.toIntExact(n * f.field().sampleBytes()));
          while (b.hasRemaining()) {
            if (channels[i].read(b) < 0) {
              throw new MalformedSourceException(f.path() + " is truncated: it ended while reading "
                  + "sample " + (done + n) + " of " + total);
            }
          }
          b.flip();
          if (f.bigEndian()) {
            swapBytes(b, f.field().dtype().byteSize());
          }
        }
        writer.appendColumns(n, buffers);
        done += n;
        progress.onProgress(done, total);
      }
    } finally {
      for (FileChannel ch : channels) {
        if (ch != null) {
          ch.close();
        }
      }
    }
  }

  private static NpyFile parseHeader(Path path) throws IOException {
    String stem = path.getFileName().toString();
    stem = stem.substring(0, stem.length() - ".npy".length());
    if (stem.isEmpty()) {
      throw new MalformedSourceException(path + " has no field name: name it FIELD.npy");
    }
    long fileSize = Files.size(path);
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      ByteBuffer pre = readExactly(ch, path, 10, "its preamble");
      byte[] magic = new byte[MAGIC.length];
      pre.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new MalformedSourceException(path + " is not an npy file: it does not start with "
            + "the magic \\x93NUMPY");
      }
      int major = pre.get() & 0xff;
      int minor = pre.get() & 0xff;
      long headerLen;
      int preamble;
      if (major == 1) {
        headerLen = pre.order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
        preamble = 10;
      } else if (major == 2 || major == 3) {
        ByteBuffer len = readExactly(ch, path, 2, "its header length");
        headerLen = pre.order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffffL
            | (len.order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffffL) << 16;
        preamble = 12;
      } else {
        throw new MalformedSourceException(path + " uses npy format version " + major + "." + minor
            + "; supported are 1.0, 2.0 and 3.0");
      }
      if (headerLen > 1 << 20) {
        throw new MalformedSourceException(path + " declares a " + headerLen + "-byte header; "
            + "the file is damaged");
      }
      ByteBuffer hb = readExactly(ch, path, (int) headerLen, "its header");
      String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8
          : StandardCharsets.ISO_8859_1);
      long dataOffset = preamble + headerLen;
      return parseDict(path, stem, header, dataOffset, fileSize);
    }
  }

  private static NpyFile parseDict(Path path, String field, String header, long dataOffset,
      long fileSize) throws MalformedSourceException {
    Matcher descr = DESCR.matcher(header);
    Matcher fortran = FORTRAN.matcher(header);
    Matcher shapeM = SHAPE.matcher(header);
    if (!descr.find()) {
      String problem = header.contains("'descr'") ? "has a structured or unsupported dtype in "
          + "header " + header.trim() + "; use one plain array per field" : "has a header without "
          + "'descr': " + header.trim();
      throw new MalformedSourceException(path + " " + problem);
    }
    if (!fortran.find() || !shapeM.find()) {
      throw new MalformedSourceException(path + " has a malformed header: " + header.trim());
    }
    if (fortran.group(1).equals("True")) {
      throw new MalformedSourceException(path + " is in Fortran order; save it in C order, for "
          + "example with numpy.ascontiguousarray");
    }
    String d = descr.group(1);
    char order = d.isEmpty() ? '?' : d.charAt(0);
    String code = order == '<' || order == '>' || order == '|' ? d.substring(1) : d;
    DType dtype = DTYPES.get(code);
    if (dtype == null || (order == '|' && dtype.byteSize() > 1) || order == '=') {
      throw new MalformedSourceException(path + " has unsupported dtype '" + d + "'; supported "
          + "are |u1 |i1 <i4 <i8 <f2 <f4 <f8 (big-endian > is converted)");
    }
    List<Long> dims = new ArrayList<>();
    for (String s : shapeM.group(1).split(",")) {
      String t = s.trim();
      if (t.endsWith("L")) {
        t = t.substring(0, t.length() - 1); // Python 2 long literals
      }
      if (!t.isEmpty()) {
        try {
          dims.add(Long.parseLong(t));
        } catch (NumberFormatException e) {
          throw new MalformedSourceException(path + " has a malformed shape (" + shapeM.group(1)
              + ")");
        }
      }
    }
    if (dims.isEmpty()) {
      throw new MalformedSourceException(path + " holds a scalar; the first dimension must count "
          + "samples");
    }
    long[] sampleShape = dims.subList(1, dims.size()).stream().mapToLong(Long::longValue).toArray();
    if (dims.get(0) < 0 || Arrays.stream(sampleShape).anyMatch(x -> x <= 0)) {
      throw new MalformedSourceException(path + " has shape " + dims + "; every sample dimension "
          + "must be positive");
    }
    FieldSpec spec;
    long expected;
    try {
      spec = new FieldSpec(field, dtype, sampleShape);
      expected = Math.addExact(dataOffset, Math.multiplyExact(dims.get(0), spec.sampleBytes()));
    } catch (ArithmeticException e) {
      throw new MalformedSourceException(path + " has shape " + dims + ", too large to store");
    }
    if (fileSize < expected) {
      throw new MalformedSourceException(path + " is truncated: shape " + dims + " needs "
          + expected + " bytes, the file has " + fileSize);
    }
    if (fileSize > expected) {
      throw new MalformedSourceException(path + " has " + (fileSize - expected) + " bytes after "
          + "the data that shape " + dims + " declares; the file is damaged");
    }
    return new NpyFile(path, spec, order == '>', dims.get(0), dataOffset);
  }

  private static ByteBuffer readExactly(FileChannel ch, Path path, int n, String what)
      throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new MalformedSourceException(path + " is truncated: it ends inside " + what);
      }
    }
    return b.flip();
  }

  private static void swapBytes(ByteBuffer b, int size) {
    if (size == 1) {
      return;
    }
    byte[] a = b.array();
    for (int i = b.position(); i < b.limit(); i += size) {
      for (int j = 0; j < size / 2; j++) {
        byte t = a[i + j];
        a[i + j] = a[i + size - 1 - j];
        a[i + size - 1 - j] = t;
      }
    }
  }
}
