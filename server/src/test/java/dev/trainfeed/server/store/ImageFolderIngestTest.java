package dev.trainfeed.server.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderIngestTest {
  private static final int H = 4;
  private static final int W = 5;

  @TempDir
  Path src;
  @TempDir
  Path dataDir;

  private static int rgb(int x, int y, int k) {
    return ((x * 50 + k) & 0xff) << 16 | ((y * 60 + k * 3) & 0xff) << 8 | (x * y * 9 + k) & 0xff;
  }

  private void write(String rel, int type, String format, int k) throws IOException {
    BufferedImage img = new BufferedImage(W, H, type);
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        if (type == BufferedImage.TYPE_BYTE_GRAY) {
          img.getRaster().setSample(x, y, 0, (x * 40 + y * 7 + k) & 0xff);
        } else {
          img.setRGB(x, y, type == BufferedImage.TYPE_INT_ARGB ? 0x80000000 | rgb(x, y, k)
              : rgb(x, y, k));
        }
      }
    }
    Path file = src.resolve(rel);
    Files.createDirectories(file.getParent());
    assertThat(ImageIO.write(img, format, file.toFile())).as(rel).isTrue();
  }

  /** Three classes, 12 images each, of every supported kind, plus files to ignore. */
  private void writeTree() throws IOException {
    for (int k = 0; k < 12; k++) {
      write("cat/rgb" + k + ".png", BufferedImage.TYPE_INT_RGB, "png", k);
      write("dog/bmp" + k + ".BMP", BufferedImage.TYPE_3BYTE_BGR, "bmp", k);
      if (k % 3 == 0) {
        write("zebra/gray" + k + ".png", BufferedImage.TYPE_BYTE_GRAY, "png", k);
      } else if (k % 3 == 1) {
        write("zebra/sub/alpha" + k + ".png", BufferedImage.TYPE_INT_ARGB, "png", k);
      } else {
        write("zebra/photo" + k + ".jpg", BufferedImage.TYPE_INT_RGB, "jpg", k);
      }
    }
    write("zebra/palette.png", BufferedImage.TYPE_BYTE_INDEXED, "png", 0);
    Files.writeString(src.resolve("cat/notes.txt"), "ignored");
    Files.writeString(src.resolve("cat/.hidden.png"), "ignored");
    Files.createDirectories(src.resolve(".git"));
    Files.writeString(src.resolve("loose.png"), "not in a class folder, ignored");
  }

  private DatasetManifest ingest(boolean keepOrder, long seed, int h, int w) throws IOException {
    return Ingest.run(IngestOptions.builder().dataDir(dataDir).name("img")
        .source(new ImageFolderIngest(src, h, w, keepOrder, seed))
        .writerOptions(WriterOptions.builder().chunkSizeBytes(200).build()).build());
  }

  @Test
  void classesLabelsPixelsAndSources() throws IOException {
    writeTree();
    DatasetManifest m = ingest(true, 0, H, W);
    assertThat(m.fields()).containsExactly(new FieldSpec("image", DType.UINT8, H, W, 3),
        new FieldSpec("label", DType.INT64));
    assertThat(m.numSamples()).isEqualTo(37);
    assertThat(m.chunks().size()).isGreaterThan(12);
    assertThat(m.sources()).isSorted().contains("zebra/sub/alpha1.png", "dog/bmp3.BMP")
        .doesNotContain("cat/.hidden.png", "loose.png");
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      for (int i = 0; i < m.numSamples(); i++) {
        String source = m.sources().get(i);
        long label = TestData.int64(TestData.field(store, m, i, "label"));
        assertThat(label).as(source).isEqualTo(source.startsWith("cat/") ? 0
            : source.startsWith("dog/") ? 1 : 2);
        byte[] px = TestData.field(store, m, i, "image");
        String stem = source.replaceAll(".*/", "").replaceAll("\\..*", "");
        int k = stem.startsWith("palette") ? 0 : Integer.parseInt(stem.replaceAll("\\D", ""));
        for (int y = 0; y < H; y++) {
          for (int x = 0; x < W; x++) {
            int o = (y * W + x) * 3;
            int r = px[o] & 0xff;
            int g = px[o + 1] & 0xff;
            int b = px[o + 2] & 0xff;
            int want = rgb(x, y, k);
            String at = source + " pixel " + x + "," + y;
            if (stem.startsWith("gray")) {
              int v = (x * 40 + y * 7 + k) & 0xff;
              assertThat(new int[] {r, g, b}).as(at).containsExactly(v, v, v);
            } else if (stem.startsWith("rgb") || stem.startsWith("bmp")) {
              assertThat(new int[] {r, g, b}).as(at)
                  .containsExactly(want >> 16, want >> 8 & 0xff, want & 0xff);
            } else if (stem.startsWith("alpha")) {
              assertThat(Math.abs(r - (want >> 16))).as(at).isLessThanOrEqualTo(2);
              assertThat(Math.abs(g - (want >> 8 & 0xff))).as(at).isLessThanOrEqualTo(2);
              assertThat(Math.abs(b - (want & 0xff))).as(at).isLessThanOrEqualTo(2);
            }
          }
        }
      }
    }
  }

  @Test
  void shuffledBySeedByDefaultAndDeterministic() throws IOException {
    writeTree();
    List<String> sorted = ingest(true, 0, H, W).sources();
    DatasetManifest a = ingest(false, 0, H, W);
    DatasetManifest b = ingest(false, 0, H, W);
    DatasetManifest c = ingest(false, 1, H, W);
    assertThat(a.sources()).isNotEqualTo(sorted).containsExactlyInAnyOrderElementsOf(sorted);
    assertThat(b.version()).isEqualTo(a.version());
    assertThat(b.sources()).isEqualTo(a.sources());
    assertThat(c.sources()).isNotEqualTo(a.sources());
    assertThat(c.version()).isNotEqualTo(a.version());
    // The classes are interleaved, not one class per run of chunks.
    List<Long> labels = new ArrayList<>();
    try (LocalChunkStore store = new LocalChunkStore(dataDir)) {
      for (int i = 0; i < a.numSamples(); i++) {
        labels.add(TestData.int64(TestData.field(store, a, i, "label")));
      }
    }
    assertThat(labels).isNotEqualTo(labels.stream().sorted().toList());
  }

  @Test
  void resizesToTheRequestedShape() throws IOException {
    write("a/x.png", BufferedImage.TYPE_INT_RGB, "png", 1);
    DatasetManifest m = ingest(false, 0, 2, 3);
    assertThat(m.fields().get(0)).isEqualTo(new FieldSpec("image", DType.UINT8, 2, 3, 3));
    assertThat(m.sources()).containsExactly("a/x.png");
  }

  @Test
  void unreadableImageNamesTheFile() throws IOException {
    write("a/good.png", BufferedImage.TYPE_INT_RGB, "png", 1);
    Files.write(src.resolve("a/broken.png"), new byte[] {1, 2, 3, 4});
    assertThatThrownBy(() -> ingest(false, 0, H, W)).isInstanceOf(MalformedSourceException.class)
        .hasMessageContaining("broken.png");
    TestData.assertNothingPublished(dataDir, "img");
  }

  @Test
  void folderWithoutClassesOrImages() throws IOException {
    Files.writeString(src.resolve("x.png"), "x");
    assertThatThrownBy(() -> ingest(false, 0, H, W)).isInstanceOf(MalformedSourceException.class)
        .hasMessageContaining("no class sub-folders");
    Files.createDirectories(src.resolve("empty"));
    assertThatThrownBy(() -> ingest(false, 0, H, W)).isInstanceOf(MalformedSourceException.class)
        .hasMessageContaining("holds no .png");
    TestData.assertNothingPublished(dataDir, "img");
  }

  @Test
  void sizeParsingAndBounds() {
    assertThat(ImageFolderIngest.parseSize("28x32")).containsExactly(28, 32);
    assertThat(ImageFolderIngest.parseSize("224X224")).containsExactly(224, 224);
    for (String bad : List.of("28", "0x5", "ax5", "5x", "-1x5", "99999999999x1")) {
      assertThatThrownBy(() -> ImageFolderIngest.parseSize(bad))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(bad);
    }
    assertThatThrownBy(() -> new ImageFolderIngest(src, 20000, 1, false, 0))
        .hasMessageContaining("1 to 16384");
    assertThat(IntStream.of(ImageFolderIngest.parseSize("1x1")).sum()).isEqualTo(2);
  }
}
