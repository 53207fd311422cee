#!/usr/bin/env python3
"""How much faster per sample the bundled cGAN generator's architecture runs in large batches
than in batches of 8, on each device PyTorch sees (CUDA when present, and the CPU).

This bounds what packing sixteen concurrent requests of 8 into one run of 128 can gain on a
host, the premise of the synthesis batching target (>= 3x). It runs models/train.py's
Generator in PyTorch with its initial weights (time does not depend on the weights), not the
exported ONNX model through ONNX Runtime: it is evidence about the hardware, not a figure of the
server. Prints one JSON line per device.
Usage: python3 benchmarks/gpu_batch_scaling.py [--seconds S]
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "models"))
from train import CLASSES, GAN_LATENT, Generator  # noqa: E402

BATCHES = (1, 8, 32, 64, 128, 1024)


def rate(g, batch, device, seconds):
    z = torch.randn(batch, GAN_LATENT, device=device)
    label = torch.arange(batch, device=device) % CLASSES
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    with torch.inference_mode():
        for _ in range(20):
            g(z, label)
        sync()
        n = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            g(z, label)
            n += 1
        sync()
        return n * batch / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0, help="timed seconds per batch size")
    args = ap.parse_args()
    devices = [torch.device("cuda")] if torch.cuda.is_available() else []
    devices.append(torch.device("cpu"))
    for device in devices:
        g = Generator().to(device).eval()
        rates = {b: rate(g, b, device, args.seconds) for b in BATCHES}
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        print(json.dumps({
            "benchmark": "gan_batch_scaling_torch", "device": name, "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "samples_per_s_by_batch": {str(b): round(r) for b, r in rates.items()},
            "batch128_vs_batch8": round(rates[128] / rates[8], 2)}), flush=True)


if __name__ == "__main__":
    main()
