package dev.trainfeed.server.contract;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.TextFormat;
import dev.trainfeed.proto.v1.DataPlaneProto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The wire contract must not change by accident: the compiled descriptor of
 * {@code trainfeed/v1/dataplane.proto} is compared with a committed snapshot. After a deliberate,
 * compatible change (new fields or messages), regenerate it with
 * {@code mvn -pl server test -Dtest=WireContractSnapshotTest -Dtrainfeed.updateSnapshot=true}.
 */
class WireContractSnapshotTest {
  private static final Path SNAPSHOT = Path.of("src/test/resources/contract/dataplane.descriptor.txt");

  @Test
  void descriptorMatchesSnapshot() throws Exception {
    FileDescriptorProto file = DataPlaneProto.getDescriptor().toProto();
    String actual = TextFormat.printer().printToString(file);
    if (Boolean.getBoolean("trainfeed.updateSnapshot")) {
      Files.writeString(SNAPSHOT, actual, StandardCharsets.UTF_8);
    }
    assertThat(actual)
        .as("dataplane.proto changed; names and numbers are a contract (see the test's Javadoc)")
        .isEqualTo(Files.readString(SNAPSHOT, StandardCharsets.UTF_8));
  }

  @Test
  void contractNamesFromTheDesignAreThere() {
    var d = DataPlaneProto.getDescriptor();
    assertThat(d.getPackage()).isEqualTo("trainfeed.v1");
    assertThat(d.findServiceByName("DataPlane").getMethods()).extracting(m -> m.getName())
        .containsExactly("ListDatasets", "GetDataset", "StreamBatches", "ListModels", "Synthesize");
    assertThat(d.findMessageTypeByName("StreamBatchesRequest").findFieldByName("shuffle_window")
        .getNumber()).isEqualTo(13);
    assertThat(d.findMessageTypeByName("Batch").findFieldByName("padding").getNumber())
        .isEqualTo(7);
    assertThat(d.getDependencies()).isEmpty();
  }
}
