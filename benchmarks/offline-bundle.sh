#!/usr/bin/env bash
# Packs what a checkout needs to run offline on an x86-64 Linux host that has no Maven Central and
# maybe no Java (a GPU machine, say): the built jars and class paths of the server, the SDK, the
# demo/bench client and the benchmarks, laid out as in the checkout, plus a jlink-made Java
# runtime in .trainfeed/jre (with javac, which Chronicle Map needs). ONNX Runtime keeps only its
# linux-x64 natives; jars shared by several modules are stored once (hard links).
# On the host, in a checkout of the same commit:
#   tar -xJmf BUNDLE && export JAVA_HOME=$PWD/.trainfeed/jre && ./trainfeed demo
#   benchmarks/gpu-check.sh --bundle BUNDLE        (unpacks it the same way)
# Usage: benchmarks/offline-bundle.sh OUT.tar.xz [MAVEN_ARGS...]   (e.g. -Pgpu for the GPU jar)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 OUT.tar.xz [MAVEN_ARGS...]" >&2; exit 2; }
OUT_FILE="$(realpath -m "$1")"
shift
cd "$ROOT"

mvn -B -q -Dmaven.test.skip=true "$@" -pl proto,server,client-sdk,demo,benchmarks -am package
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
JARS="$STAGE/.jars"
mkdir -p "$JARS"
gpu=false
ls demo/target/lib/onnxruntime_gpu-*.jar >/dev/null 2>&1 && gpu=true

# One processed copy of each jar: ONNX Runtime trimmed to linux-x64, every jar stored rather than
# deflated so that xz compresses across all the class files (the tarball halves).
prepared() {
  local jar="$1" name
  name="$(basename "$jar")"
  if [ ! -f "$JARS/$name" ]; then
    cp "$jar" "$JARS/$name"
    case "$name" in
      onnxruntime*.jar)
        zip -q -d "$JARS/$name" 'ai/onnxruntime/native/linux-aarch64/*' \
          'ai/onnxruntime/native/osx-*' 'ai/onnxruntime/native/win-*' || true ;;
    esac
    mkdir "$STAGE/x"
    unzip -q "$JARS/$name" -d "$STAGE/x"
    rm "$JARS/$name"
    (cd "$STAGE/x" && zip -q -0 -r -X "$JARS/$name" .)
    rm -rf "$STAGE/x"
  fi
  echo "$JARS/$name"
}

for m in proto server client-sdk demo benchmarks; do
  mkdir -p "$STAGE/$m/target"
  for jar in "$m"/target/trainfeed-*.jar; do
    case "$jar" in *-sources.jar|*-javadoc.jar|*-tests.jar) continue ;; esac
    [ -f "$jar" ] && ln "$(prepared "$jar")" "$STAGE/$jar"
  done
  if [ "$m" = benchmarks ]; then
    cp -r "$m/target/classes" "$STAGE/$m/target/"
  fi
  if [ -d "$m/target/lib" ]; then
    mkdir -p "$STAGE/$m/target/lib"
    for jar in "$m"/target/lib/*.jar; do
      # The copy step keeps jars of earlier builds: with the GPU jar, only it may be on the path.
      case "$(basename "$jar")" in onnxruntime-[0-9]*.jar) $gpu && continue ;; esac
      ln "$(prepared "$jar")" "$STAGE/$jar"
    done
  fi
done
rm -rf "$JARS"
# The modules TrainFeed, gRPC, Netty, Chronicle Map (which compiles code: jdk.compiler),
# Micrometer, ImageIO and the /metrics endpoint (jdk.httpserver) use; jdk.unsupported for
# sun.misc.Unsafe, jdk.management for the OS bean. jdeps --print-module-deps lists a subset.
jlink --add-modules java.base,java.compiler,java.desktop,java.logging,java.management,java.naming,java.net.http,java.scripting,java.security.jgss,java.sql,java.xml,jdk.compiler,jdk.crypto.ec,jdk.httpserver,jdk.management,jdk.unsupported,jdk.zipfs \
  --strip-debug --no-header-files --no-man-pages --output "$STAGE/.trainfeed/jre"
XZ_OPT="-6 -T0" tar -C "$STAGE" -cJf "$OUT_FILE" .
echo "offline-bundle: $OUT_FILE ($(du -h "$OUT_FILE" | cut -f1))"
