package dev.trainfeed.server.stream;

import dev.trainfeed.proto.v1.DType;
import dev.trainfeed.proto.v1.DatasetInfo;
import dev.trainfeed.proto.v1.FieldSpec;
import dev.trainfeed.server.store.DatasetManifest;

/** Converts store types to their wire form. */
final class DatasetInfos {
  private DatasetInfos() {}

  static DatasetInfo toProto(DatasetManifest m) {
    DatasetInfo.Builder b = DatasetInfo.newBuilder()
        .setName(m.name())
        .setVersion(m.version())
        .setNumSamples(m.numSamples())
        .setNumChunks(m.chunks().size())
        .setSizeBytes(m.sizeBytes())
        .setStoredBytes(m.storedBytes());
    for (dev.trainfeed.server.store.FieldSpec f : m.fields()) {
      b.addFields(toProto(f));
    }
    return b.build();
  }

  static FieldSpec toProto(dev.trainfeed.server.store.FieldSpec f) {
    FieldSpec.Builder b = FieldSpec.newBuilder()
        .setName(f.name())
        .setDtype(DType.forNumber(f.dtype().wireNumber()));
    for (long d : f.shape()) {
      b.addShape(d);
    }
    return b.build();
  }
}
