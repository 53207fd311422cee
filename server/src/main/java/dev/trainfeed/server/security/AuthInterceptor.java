package dev.trainfeed.server.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Checks {@code authorization: Bearer TOKEN} on every call and puts the token's {@link
 * DatasetAccess} into the call's {@link Context}. A missing, malformed or unknown token ends the
 * call with {@code UNAUTHENTICATED} before the service sees it. Calls to {@link #OPEN_SERVICES}
 * (the health service, for load-balancer and Kubernetes probes) need no token. Server reflection
 * does need one: it is only useful to people with access, and tools such as grpcurl can send the
 * header ({@code -H 'authorization: Bearer TOKEN'}).
 */
public final class AuthInterceptor implements ServerInterceptor {
  /** Services callable without a token. */
  public static final Set<String> OPEN_SERVICES = Set.of("grpc.health.v1.Health");
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final String BEARER = "Bearer ";

  private final Supplier<AuthTokens> tokens;

  /** Creates the interceptor; {@code tokens} is asked on every call, so reloads apply at once. */
  public AuthInterceptor(Supplier<AuthTokens> tokens) {
    this.tokens = tokens;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (OPEN_SERVICES.contains(call.getMethodDescriptor().getServiceName())) {
      return next.startCall(call, headers);
    }
    String header = headers.get(AUTHORIZATION);
    Status refusal = null;
    Optional<DatasetAccess> access = Optional.empty();
    if (header == null) {
      refusal = Status.UNAUTHENTICATED.withDescription("this server needs a bearer token: send "
          + "the header 'authorization: Bearer TOKEN'");
    } else if (!header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      refusal = Status.UNAUTHENTICATED.withDescription("the authorization header must read "
          + "'Bearer TOKEN'");
    } else {
      access = tokens.get().lookup(header.substring(BEARER.length()).strip());
      if (access.isEmpty()) {
        refusal = Status.UNAUTHENTICATED.withDescription("the bearer token is not known to this "
            + "server; ask its operator for a token listed in its --auth-tokens file");
      }
    }
    if (refusal != null) {
      call.close(refusal, new Metadata());
      return new ServerCall.Listener<>() {};
    }
    Context ctx = Context.current().withValue(DatasetAccess.KEY, access.get());
    return Contexts.interceptCall(ctx, call, headers, next);
  }
}
