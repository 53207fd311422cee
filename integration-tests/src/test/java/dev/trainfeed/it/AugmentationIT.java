package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.client.Augmentation;
import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.DType;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.client.TrainFeedException;
import dev.trainfeed.server.cli.Main;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Augmentation end to end: PNGs ingested with {@code --images} into many chunks, a real server
 * process, and the Java SDK streaming augmented batches.
 */
class AugmentationIT {
  private static final int N = 60;
  private static final int SIDE = 8;
  private static final int SAMPLE = SIDE * SIDE * 3;
  @TempDir static Path tmp;
  static ServerProcess server;
  static TrainFeedClient client;

  @BeforeAll
  static void start() throws Exception {
    Path src = tmp.resolve("pngs");
    for (int i = 0; i < N; i++) {
      Path dir = src.resolve("class" + (i % 3));
      Files.createDirectories(dir);
      BufferedImage img = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < SIDE; y++) {
        for (int x = 0; x < SIDE; x++) {
          img.setRGB(x, y, ((i * 13 + x * 29) & 0xff) << 16 | ((y * 31 + i) & 0xff) << 8
              | ((x * y * 7 + i * 3) & 0xff));
        }
      }
      assertThat(ImageIO.write(img, "png", dir.resolve("img" + i + ".png").toFile())).isTrue();
    }
    Path data = tmp.resolve("data");
    // About 200 bytes per sample, 1 KiB chunks: a dozen chunks.
    int rc = Main.run(new String[] {"ingest", "--data-dir", data.toString(), "--name", "pics",
        "--images", src.toString(), "--size", SIDE + "x" + SIDE, "--chunk-size", "1k", "--quiet"},
        Map.of());
    assertThat(rc).as("ingest exit status").isZero();
    server = ServerProcess.start(data, 0, "--cache-size", "8m");
    client = TrainFeedClient.builder().target(server.target()).build();
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.terminateWithoutLeaks();
    }
  }

  private static List<Batch> read(Augmentation aug) {
    List<Batch> out = new ArrayList<>();
    var b = client.batches("pics").batchSize(7).shuffle(5L);
    if (aug != null) {
      b.augment(aug);
    }
    try (BatchIterator it = b.open()) {
      it.forEachRemaining(out::add);
    }
    return out;
  }

  /** Every image by sample id, as uint8 values. */
  private static Map<Long, byte[]> images(List<Batch> batches) {
    Map<Long, byte[]> out = new HashMap<>();
    for (Batch b : batches) {
      byte[] all = b.tensor("image").toByteArray();
      for (int i = 0; i < b.size(); i++) {
        byte[] one = new byte[SAMPLE];
        System.arraycopy(all, i * SAMPLE, one, 0, SAMPLE);
        out.put(b.sampleIds()[i], one);
      }
    }
    return out;
  }

  @Test
  void flipAndNormalizeGiveExactlyTheMirroredImageAsFloat32() {
    Map<Long, byte[]> plain = images(read(null));
    assertThat(plain).hasSize(N);
    List<Batch> aug = read(Augmentation.builder().horizontalFlip(1)
        .normalize(new double[] {0.5}, new double[] {0.5}).build());
    for (Batch b : aug) {
      assertThat(b.tensor("image").dtype()).isEqualTo(DType.FLOAT32);
      assertThat(b.tensor("image").shape()).containsExactly(b.size(), SIDE, SIDE, 3);
      float[] v = b.tensor("image").toFloatArray();
      for (int i = 0; i < b.size(); i++) {
        byte[] src = plain.get(b.sampleIds()[i]);
        for (int y = 0; y < SIDE; y++) {
          for (int x = 0; x < SIDE; x++) {
            for (int c = 0; c < 3; c++) {
              int stored = src[(y * SIDE + (SIDE - 1 - x)) * 3 + c] & 0xff;
              assertThat(v[i * SAMPLE + (y * SIDE + x) * 3 + c])
                  .isEqualTo((float) ((stored / 255.0 - 0.5) / 0.5));
            }
          }
        }
      }
    }
  }

  @Test
  void randomAugmentationIsReproducibleAndResumesExactly() {
    Augmentation aug = Augmentation.builder().horizontalFlip(0.5).rotation(0.5, 15).crop(0.5, 2)
        .noise(0.5, 0.05).brightnessContrast(0.5, 0.2, 0.2).cutout(0.5, 3).build();
    List<Batch> first = read(aug);
    Map<Long, byte[]> a = images(first);
    Map<Long, byte[]> plain = images(read(null));
    assertThat(images(read(aug))).containsExactlyInAnyOrderEntriesOf(a);
    long changed = a.keySet().stream()
        .filter(id -> !java.util.Arrays.equals(a.get(id), plain.get(id))).count();
    assertThat(changed).isGreaterThan(N / 2);

    List<Batch> rest = new ArrayList<>();
    try (BatchIterator it = client.batches("pics").batchSize(7).shuffle(5L).augment(aug)
        .resumeFrom(first.get(3).resumeToken()).open()) {
      it.forEachRemaining(rest::add);
    }
    assertThat(rest).hasSize(first.size() - 4);
    for (int i = 0; i < rest.size(); i++) {
      assertThat(rest.get(i).tensor("image").toByteArray())
          .isEqualTo(first.get(4 + i).tensor("image").toByteArray());
    }

    Augmentation other = Augmentation.builder().horizontalFlip(0.5).build();
    assertThatThrownBy(() -> {
      try (BatchIterator it = client.batches("pics").batchSize(7).shuffle(5L).augment(other)
          .resumeFrom(first.get(3).resumeToken()).open()) {
        it.next();
      }
    }).isInstanceOfSatisfying(TrainFeedException.class, e -> {
      assertThat(e.code()).isEqualTo(TrainFeedException.Code.FAILED_PRECONDITION);
      assertThat(e.getMessage()).contains("augment");
    });
  }

  @Test
  void badSpecIsInvalidArgumentNamingTheField() {
    assertThatThrownBy(() -> read(Augmentation.builder().cutout(1, 9).build()))
        .isInstanceOfSatisfying(TrainFeedException.class, e -> {
          assertThat(e.code()).isEqualTo(TrainFeedException.Code.INVALID_ARGUMENT);
          assertThat(e.getMessage()).contains("augment.cutout.size 9 is larger than the image");
        });
    assertThatThrownBy(() -> read(Augmentation.builder().field("label").horizontalFlip(1)
        .build())).isInstanceOfSatisfying(TrainFeedException.class, e ->
            assertThat(e.code()).isEqualTo(TrainFeedException.Code.INVALID_ARGUMENT));
  }
}
