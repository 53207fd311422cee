#!/usr/bin/python3
"""Derives the test-only autoencoder (kind ae) from the bundled VAE: the VAE's mean encoder
(image -> mu, no noise input) and its decoder. Tests use it for the paths only an `ae` has
(Synthesize refuses it with FAILED_PRECONDITION). Run from the repository root after train.py:
  /usr/bin/python3 models/make_ae_fixture.py
"""
import os
import shutil

import onnx.utils

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
vae = os.path.join(ROOT, "models", "digits-vae")
out = os.path.join(ROOT, "server", "src", "test", "resources", "models", "digits-ae")
os.makedirs(out, exist_ok=True)
onnx.utils.extract_model(os.path.join(vae, "encoder.onnx"), os.path.join(out, "encoder.onnx"),
                         ["image"], ["mu"])
shutil.copy(os.path.join(vae, "decoder.onnx"), os.path.join(out, "decoder.onnx"))
with open(os.path.join(out, "descriptor.yaml"), "w") as f:
    f.write("""# Test fixture: the bundled VAE's mean encoder and decoder as a plain autoencoder.
kind: ae
latent_dim: 16
generator:
  file: decoder.onnx
  latent_input: z
  output: image
encoder:
  file: encoder.onnx
  input: image
  mean_output: mu
field:
  name: image
  dtype: uint8
  shape: [8, 8]
  model_range: [-1.0, 1.0]
  field_range: [0, 16]
""")
print("wrote", out)
