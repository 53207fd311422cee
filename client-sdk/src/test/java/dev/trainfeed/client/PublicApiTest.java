package dev.trainfeed.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The public API names no generated, gRPC, protobuf or internal type, so they can change freely. */
class PublicApiTest {
  private static final List<String> FORBIDDEN =
      List.of("dev.trainfeed.proto", "io.grpc", "com.google.protobuf", "dev.trainfeed.client.internal");

  @Test
  void noPublicSignatureMentionsAGeneratedOrGrpcType() throws Exception {
    List<Class<?>> classes = publicClasses();
    assertThat(classes).extracting(Class::getSimpleName).contains("TrainFeedClient", "Builder",
        "BatchStreamBuilder", "BatchIterator", "Batch", "Tensor", "DType", "ResumeToken",
        "DatasetInfo", "FieldInfo", "TrainFeedException", "Code", "Sleeper");
    List<String> offending = new ArrayList<>();
    for (Class<?> c : classes) {
      List<String> signatures = new ArrayList<>();
      signatures.add(String.valueOf(c.getGenericSuperclass()));
      Stream.of(c.getGenericInterfaces()).forEach(t -> signatures.add(t.getTypeName()));
      for (Method m : c.getDeclaredMethods()) {
        if (visible(m.getModifiers()) && !m.isSynthetic()) {
          signatures.add(signature(m));
        }
      }
      for (Constructor<?> k : c.getDeclaredConstructors()) {
        if (visible(k.getModifiers())) {
          signatures.add(signature(k));
        }
      }
      for (Field f : c.getDeclaredFields()) {
        if (visible(f.getModifiers())) {
          signatures.add(f.toGenericString());
        }
      }
      for (String s : signatures) {
        if (FORBIDDEN.stream().anyMatch(s::contains)) {
          offending.add(c.getName() + ": " + s);
        }
      }
    }
    assertThat(offending).isEmpty();
  }

  private static String signature(Executable e) {
    return e.toGenericString() + " " + List.of(e.getGenericExceptionTypes());
  }

  private static boolean visible(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  private static List<Class<?>> publicClasses()
      throws IOException, URISyntaxException, ClassNotFoundException {
    Path root = Path.of(TrainFeedClient.class.getProtectionDomain().getCodeSource().getLocation()
        .toURI()).resolve("dev/trainfeed/client");
    List<Class<?>> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(root)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".class")).toList()) {
        String name = p.getFileName().toString();
        Class<?> c = Class.forName("dev.trainfeed.client." + name.substring(0, name.length() - 6));
        if (isPubliclyReachable(c)) {
          out.add(c);
        }
      }
    }
    return out;
  }

  private static boolean isPubliclyReachable(Class<?> c) {
    for (Class<?> k = c; k != null; k = k.getDeclaringClass()) {
      if (!visible(k.getModifiers())) {
        return false;
      }
    }
    return !c.isAnonymousClass() && !c.isLocalClass();
  }
}
