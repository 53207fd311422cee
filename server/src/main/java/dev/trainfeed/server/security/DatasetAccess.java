package dev.trainfeed.server.security;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Set;

/**
 * Which datasets the caller of the current gRPC call may read. {@link AuthInterceptor} puts the
 * caller's access into the call's {@link Context}; without a token file every caller reads
 * everything ({@link #ALL}).
 */
public final class DatasetAccess {
  /** Access to every dataset: the caller of a server without {@code --auth-tokens}. */
  public static final DatasetAccess ALL = new DatasetAccess(null, "anonymous");
  static final Context.Key<DatasetAccess> KEY = Context.key("trainfeed-dataset-access");

  private final Set<String> datasets;
  private final String principal;

  /**
   * Creates an access rule.
   *
   * @param datasets the dataset names allowed, or null for all
   * @param principal a name for logs and messages (never the token itself)
   */
  DatasetAccess(Set<String> datasets, String principal) {
    this.datasets = datasets == null ? null : Set.copyOf(datasets);
    this.principal = principal;
  }

  /** The access of the current call: what its token allows, or {@link #ALL}. */
  public static DatasetAccess current() {
    DatasetAccess a = KEY.get();
    return a == null ? ALL : a;
  }

  /** Whether {@code dataset} (a name, without {@code @VERSION}) may be read. */
  public boolean allows(String dataset) {
    return datasets == null || datasets.contains(dataset);
  }

  /**
   * Throws {@code PERMISSION_DENIED} unless {@code dataset} may be read.
   *
   * @param dataset a dataset name without {@code @VERSION}
   */
  public void check(String dataset) throws StatusRuntimeException {
    if (!allows(dataset)) {
      throw Status.PERMISSION_DENIED.withDescription("the token of " + principal + " may not "
          + "read dataset '" + dataset + "'; add it to that token's line in the --auth-tokens "
          + "file or use another token").asRuntimeException();
    }
  }

  /** The datasets allowed, or null for all. */
  public Set<String> datasets() {
    return datasets;
  }

  /** The name of the caller, such as {@code "token on line 3 of tokens.txt"}. */
  public String principal() {
    return principal;
  }

  @Override
  public String toString() {
    return principal + (datasets == null ? " (all datasets)" : " " + datasets);
  }
}
