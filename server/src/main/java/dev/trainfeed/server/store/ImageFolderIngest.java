package dev.trainfeed.server.store;

import java.awt.AlphaComposite;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Ingests a folder of images in class sub-folders, like Keras {@code flow_from_directory}: the
 * sub-folders of {@code dir} in name order are classes 0 … K-1 (int64 field {@code label}); every
 * {@code .png .jpg .jpeg .bmp} file below a class folder (other files and hidden entries are
 * ignored) is decoded with ImageIO, converted to RGB channel order (grayscale and palette images
 * expanded, alpha dropped as PIL's {@code convert("RGB")} does), resized bilinearly to H×W and
 * stored as the uint8 field {@code image} of shape [H, W, 3].
 *
 * <p>Because a block shuffle cannot mix chunks that each hold one class, samples are stored in an
 * order shuffled by {@code java.util.Random(seed)} (the same on every JVM) unless {@code
 * keepSourceOrder} is set, in which case they follow class, then relative path order. Each sample's
 * path relative to {@code dir} (with {@code /} separators) goes to the manifest's {@code sources}.
 */
public final class ImageFolderIngest implements IngestSource {
  private static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp");
  private static final Pattern SIZE = Pattern.compile("([1-9][0-9]*)[xX]([1-9][0-9]*)");
  /** Largest height or width: 16384 pixels. */
  public static final int MAX_SIDE = 16384;

  private record Entry(String source, Path path, long label) {}

  private final Path dir;
  private final int height;
  private final int width;
  private final boolean keepSourceOrder;
  private final long seed;
  private List<Entry> entries;
  private List<String> classes;
  private Schema schema;

  /**
   * A source reading the class folders in {@code dir}.
   *
   * @param height output height in pixels, 1 to {@link #MAX_SIDE}
   * @param width output width in pixels, 1 to {@link #MAX_SIDE}
   * @param keepSourceOrder store in class, then path order instead of shuffled (default false)
   * @param seed seed of the shuffle (default 0); ignored with {@code keepSourceOrder}
   */
  public ImageFolderIngest(Path dir, int height, int width, boolean keepSourceOrder, long seed) {
    if (height < 1 || height > MAX_SIDE || width < 1 || width > MAX_SIDE) {
      throw new IllegalArgumentException("image size " + height + "x" + width + " is out of "
          + "range: height and width must be 1 to " + MAX_SIDE);
    }
    this.dir = dir;
    this.height = height;
    this.width = width;
    this.keepSourceOrder = keepSourceOrder;
    this.seed = seed;
  }

  /**
   * Parses a size written {@code HxW} (for example {@code 224x224}) into {@code {height, width}}.
   *
   * @throws IllegalArgumentException the text is not two positive integers joined by x
   */
  public static int[] parseSize(String hxw) {
    Matcher m = SIZE.matcher(hxw == null ? "" : hxw.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("image size '" + hxw + "' is invalid: write HEIGHTxWIDTH, "
          + "for example 224x224");
    }
    try {
      return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("image size '" + hxw + "' is too large; height and width "
          + "must be 1 to " + MAX_SIDE);
    }
  }

  /** Class names in label order, 0 … K-1. */
  public List<String> classes() throws IOException {
    inspect();
    return classes;
  }

  @Override
  public Schema inspect() throws IOException {
    if (schema != null) {
      return schema;
    }
    if (!Files.isDirectory(dir)) {
      throw new MalformedSourceException("image folder " + dir + " does not exist or is not a "
          + "directory");
    }
    List<Path> classDirs = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        if (Files.isDirectory(p) && !hidden(p.getFileName())) {
          classDirs.add(p);
        }
      }
    }
    if (classDirs.isEmpty()) {
      throw new MalformedSourceException("image folder " + dir + " has no class sub-folders; put "
          + "the images of each class in a folder named after it");
    }
    classDirs.sort(Comparator.comparing(p -> p.getFileName().toString()));
    List<Entry> found = new ArrayList<>();
    for (int label = 0; label < classDirs.size(); label++) {
      List<Path> files;
      try (Stream<Path> walk = Files.walk(classDirs.get(label))) {
        files = walk.filter(p -> Files.isRegularFile(p) && isImage(p)
            && !hidden(dir.relativize(p))).toList();
      }
      List<Entry> cls = new ArrayList<>();
      for (Path p : files) {
        cls.add(new Entry(relative(p), p, label));
      }
      cls.sort(Comparator.comparing(Entry::source));
      found.addAll(cls);
    }
    if (found.isEmpty()) {
      throw new MalformedSourceException("image folder " + dir + " holds no .png, .jpg, .jpeg or "
          + ".bmp files in its class sub-folders");
    }
    if (!keepSourceOrder) {
      Collections.shuffle(found, new Random(seed));
    }
    entries = found;
    classes = classDirs.stream().map(p -> p.getFileName().toString()).toList();
    schema = new Schema(List.of(new FieldSpec("image", DType.UINT8, height, width, 3),
        new FieldSpec("label", DType.INT64)), found.size(), true);
    return schema;
  }

  @Override
  public void writeTo(DatasetWriter writer, IngestProgress progress) throws IOException {
    inspect();
    ByteBuffer label = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    long done = 0;
    for (Entry e : entries) {
      byte[] image = decode(e.path());
      label.clear().putLong(e.label());
      writer.append(e.source(), image, label.array());
      progress.onProgress(++done, entries.size());
    }
  }

  /** Decodes {@code file} to H×W×3 RGB bytes. */
  private byte[] decode(Path file) throws IOException {
    BufferedImage src;
    try {
      src = ImageIO.read(file.toFile());
    } catch (IOException | RuntimeException e) {
      throw new MalformedSourceException(file + " cannot be decoded as an image: " + e, e);
    }
    if (src == null) {
      throw new MalformedSourceException(file + " is not a readable PNG, JPEG or BMP image");
    }
    BufferedImage dst = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = dst.createGraphics();
    try {
      // Src (not SrcOver) copies colour and drops alpha, as PIL's convert("RGB") does; drawing
      // (unlike getRGB) keeps gray levels instead of applying the linear-gray colour transform.
      g.setComposite(AlphaComposite.Src);
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION,
          RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(src, 0, 0, width, height, null);
    } finally {
      g.dispose();
    }
    byte[] bgr = ((DataBufferByte) dst.getRaster().getDataBuffer()).getData();
    for (int i = 0; i < bgr.length; i += 3) {
      byte b = bgr[i];
      bgr[i] = bgr[i + 2];
      bgr[i + 2] = b;
    }
    return bgr;
  }

  private String relative(Path p) {
    List<String> parts = new ArrayList<>();
    dir.relativize(p).forEach(x -> parts.add(x.toString()));
    return String.join("/", parts);
  }

  private static boolean isImage(Path p) {
    String n = p.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  private static boolean hidden(Path relative) {
    for (Path part : relative) {
      if (part.toString().startsWith(".")) {
        return true;
      }
    }
    return false;
  }
}
