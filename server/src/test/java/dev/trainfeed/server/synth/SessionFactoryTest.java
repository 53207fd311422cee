package dev.trainfeed.server.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Provider choice on this host, which has no GPU: the CUDA fallback paths. */
class SessionFactoryTest {
  private static final CudaLibraries NONE = CudaLibraries.of(Map.of(), Set.of());

  private static byte[] gan() throws Exception {
    return Files.readAllBytes(BundledModels.source().resolve(BundledModels.GAN)
        .resolve("model.onnx"));
  }

  @Test
  void autoWithoutCudaLibrariesRunsOnCpuAfterOneWarningNamingTheLibrary() throws Exception {
    List<String> warnings = new ArrayList<>();
    SessionFactory f = new SessionFactory(Device.AUTO, NONE, 1, warnings::add);
    SessionFactory.Opened a = f.open(gan());
    SessionFactory.Opened b = f.open(gan());
    try {
      assertThat(a.provider()).isEqualTo("cpu");
      assertThat(b.provider()).isEqualTo("cpu");
      assertThat(warnings).hasSize(1);
      assertThat(warnings.get(0)).contains("libcudart.so.12 missing").contains("CPU");
    } finally {
      a.session().close();
      b.session().close();
    }
  }

  @Test
  void autoWhereLibrariesResolveButTheProviderDoesNotLoadFallsBackToCpu() throws Exception {
    // The CPU-only ONNX Runtime jar has no CUDA provider, as on a host built without -Pgpu.
    List<String> warnings = new ArrayList<>();
    CudaLibraries all = CudaLibraries.of(Map.of(), new HashSet<>(CudaLibraries.REQUIRED));
    SessionFactory f = new SessionFactory(Device.AUTO, all, 1, warnings::add);
    SessionFactory.Opened a = f.open(gan());
    try {
      assertThat(a.provider()).isEqualTo("cpu");
      assertThat(warnings).singleElement().asString().contains("CUDA execution provider");
    } finally {
      a.session().close();
    }
  }

  @Test
  void explicitCudaWithoutLibrariesIsAStartupError() {
    assertThatThrownBy(() -> new SessionFactory(Device.parse("cuda:1"), NONE, 1, w -> { }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("--device cuda:1")
        .hasMessageContaining("libcublasLt.so.12")
        .hasMessageContaining("--device auto or --device cpu");
  }

  @Test
  void explicitCudaWhereTheProviderDoesNotLoadNamesTheGpuBuild() {
    CudaLibraries all = CudaLibraries.of(Map.of(), new HashSet<>(CudaLibraries.REQUIRED));
    SessionFactory f = new SessionFactory(Device.parse("cuda"), all, 1, w -> { });
    assertThatThrownBy(() -> f.open(gan())).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("-Pgpu");
  }

  @Test
  void libraryLookupSearchesLdLibraryPath() throws Exception {
    var dir = Files.createTempDirectory("cuda");
    try {
      Files.createFile(dir.resolve("libcublasLt.so.12"));
      CudaLibraries c = CudaLibraries.of(Map.of("LD_LIBRARY_PATH", "/nonexistent:" + dir),
          Set.of("libcudart.so.12"));
      assertThat(c.missing()).doesNotContain("libcublasLt.so.12", "libcudart.so.12")
          .contains("libcudnn.so.9");
    } finally {
      Files.delete(dir.resolve("libcublasLt.so.12"));
      Files.delete(dir);
    }
  }

  @Test
  void deviceFlagParses() {
    assertThat(Device.parse("AUTO")).isEqualTo(Device.AUTO);
    assertThat(Device.parse("cuda:3").gpu()).isEqualTo(3);
    assertThat(Device.parse("cuda")).hasToString("cuda:0");
    assertThatThrownBy(() -> Device.parse("tpu")).hasMessageContaining("auto, cpu, cuda");
    assertThatThrownBy(() -> Device.parse("cuda:x")).hasMessageContaining("GPU index");
  }
}
