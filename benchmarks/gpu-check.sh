#!/usr/bin/env bash
# GPU check for synthesis: builds the server with the onnxruntime_gpu jar (-Pgpu), runs the
# synthesis benchmark with --device cuda on this host, and prints the provider it got and
# samples/s beside the CPU figures of the same run. Needs a CUDA 12 + cuDNN 9 host and Maven
# Central (the GPU jar is ~740 MB and is fetched once into ~/.m2). Exits non-zero when the CUDA
# provider did not load. Usage: benchmarks/gpu-check.sh [MODEL] [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="${1:-digits-cgan}"
SECONDS_PER="${2:-10}"
cd "$ROOT"

echo "== CUDA libraries the provider needs:"
for lib in libcudart.so.12 libcublasLt.so.12 libcublas.so.12 libcurand.so.10 libcufft.so.11 libcudnn.so.9; do
  found=MISSING
  ldconfig -p 2>/dev/null | grep -q " $lib " && found=found
  IFS=: read -ra dirs <<< "${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}"; do [ -n "$d" ] && [ -e "$d/$lib" ] && found=found; done
  echo "   $found $lib"
done
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

echo "== build with -Pgpu"
mvn -B -q -Pgpu -Dmaven.test.skip=true -pl benchmarks -am package
# The copy step keeps jars of earlier builds; only the GPU runtime may be on the class path.
rm -f benchmarks/target/lib/onnxruntime-[0-9]*.jar
CP="benchmarks/target/classes:benchmarks/target/lib/*"
# The GPU jar unpacks its native libraries on every start unless pointed at an unpacked copy.
NATIVE="$ROOT/.trainfeed/onnxruntime-native"
if [ ! -d "$NATIVE" ]; then
  mkdir -p "$NATIVE"
  (cd "$NATIVE" && unzip -q -j -o "$ROOT"/benchmarks/target/lib/onnxruntime_gpu-*.jar 'ai/onnxruntime/native/linux-x64/*')
fi

echo "== CPU baseline"
java -Donnxruntime.native.path="$NATIVE" -cp "$CP" dev.trainfeed.bench.synth.SynthBenchmark \
  models "$MODEL" --device cpu --seconds "$SECONDS_PER" || true
echo "== CUDA"
OUT="$(java -Donnxruntime.native.path="$NATIVE" -cp "$CP" dev.trainfeed.bench.synth.SynthBenchmark \
  models "$MODEL" --device cuda --seconds "$SECONDS_PER" 2>&1 || true)"
echo "$OUT"
if echo "$OUT" | grep -q '"provider":"cuda:'; then
  echo "gpu-check: CUDA provider loaded"
else
  echo "gpu-check: the CUDA provider did NOT load" >&2
  exit 1
fi
