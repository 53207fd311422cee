#!/usr/bin/env bash
# GPU check for synthesis. Reports the host (GPU, which CUDA and cuDNN libraries resolve), then
# runs the synthesis benchmark on this host three ways, --device cpu, auto and cuda, and prints
# the provider each got and samples/s; where PyTorch sees a GPU it also prints how the
# generator's architecture scales with batch size there (benchmarks/gpu_batch_scaling.py).
# Without --bundle it builds the server with the onnxruntime_gpu jar (-Pgpu), which needs Maven
# Central (the GPU jar is ~640 MB, fetched once into ~/.m2). With --bundle FILE it runs offline
# from a tarball made by benchmarks/offline-bundle.sh, unpacked over this checkout (its own Java
# runtime and class paths).
# The ONNX Runtime CUDA provider needs CUDA 12 + cuDNN 9. Exits non-zero when it did not load.
# Usage: benchmarks/gpu-check.sh [--bundle FILE] [MODEL] [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE=""
if [ "${1:-}" = "--bundle" ]; then
  BUNDLE="$(realpath "$2")"
  shift 2
fi
MODEL="${1:-digits-cgan}"
SECONDS_PER="${2:-10}"
cd "$ROOT"

echo "== host"
nproc | sed 's/^/   cores: /'
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version \
  --format=csv,noheader | sed 's/^/   gpu: /'
echo "== CUDA libraries the provider needs (LD_LIBRARY_PATH, ldconfig):"
for lib in libcudart.so.12 libcublasLt.so.12 libcublas.so.12 libcurand.so.10 libcufft.so.11 libcudnn.so.9; do
  found=MISSING
  ldconfig -p 2>/dev/null | grep -q " $lib " && found=found
  IFS=: read -ra dirs <<< "${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}"; do [ -n "$d" ] && [ -e "$d/$lib" ] && found=found; done
  echo "   $found $lib"
done
echo "   CUDA runtimes the loader knows: $(ldconfig -p 2>/dev/null | grep -o 'libcudart\.so\.[0-9]*' | sort -u | tr '\n' ' ')"

if [ -n "$BUNDLE" ]; then
  echo "== unpack $BUNDLE over this checkout"
  # -m: the unpacked jars must look newer than the sources, or the launcher would rebuild them.
  tar -xJmf "$BUNDLE" -C "$ROOT"
  JAVA="$ROOT/.trainfeed/jre/bin/java"
else
  echo "== build with -Pgpu"
  mvn -B -q -Pgpu -Dmaven.test.skip=true -pl benchmarks -am package
  # The copy step keeps jars of earlier builds; only the GPU runtime may be on the class path.
  rm -f benchmarks/target/lib/onnxruntime-[0-9]*.jar
  JAVA=java
fi
CP="benchmarks/target/classes:benchmarks/target/lib/*"
MODELS=models
"$JAVA" -version 2>&1 | head -1 | sed 's/^/   java: /'
JAVA_ARGS=()
GPU_JAR="$(ls benchmarks/target/lib/onnxruntime_gpu-*.jar 2>/dev/null | head -n 1 || true)"
if [ -n "$GPU_JAR" ]; then
  # The GPU jar unpacks its native libraries on every start unless pointed at an unpacked copy.
  NATIVE="$ROOT/.trainfeed/onnxruntime-native"
  if [ ! -d "$NATIVE" ]; then
    mkdir -p "$NATIVE"
    (cd "$NATIVE" && unzip -q -j -o "$GPU_JAR" 'ai/onnxruntime/native/linux-x64/*')
  fi
  JAVA_ARGS+=("-Donnxruntime.native.path=$NATIVE")
else
  echo "   note: the class path has the CPU-only ONNX Runtime jar; --device cuda cannot load"
fi

bench() {
  "$JAVA" "${JAVA_ARGS[@]}" -cp "$CP" dev.trainfeed.bench.synth.SynthBenchmark \
    "$MODELS" "$MODEL" --device "$1" --seconds "$SECONDS_PER" 2>&1
}
echo "== --device cpu"
bench cpu || true
echo "== --device auto"
bench auto || true
echo "== --device cuda"
CUDA_OUT="$(bench cuda || true)"
echo "$CUDA_OUT"

if command -v python3 >/dev/null && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "== the generator's batch scaling in PyTorch (hardware evidence, not the server)"
  python3 "$ROOT/benchmarks/gpu_batch_scaling.py" || true
fi

if echo "$CUDA_OUT" | grep -q '"provider":"cuda:'; then
  echo "gpu-check: CUDA provider loaded"
else
  echo "gpu-check: the CUDA provider did NOT load" >&2
  exit 1
fi
