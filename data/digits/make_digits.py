#!/usr/bin/python3
"""Writes the bundled digits data set as TrainFeed .npy ingest input.

Source: the 8x8 optical handwritten digits that scikit-learn ships
(sklearn/datasets/data/digits.csv.gz, Debian package python3-sklearn), originally the UCI
"Optical Recognition of Handwritten Digits" data set (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0).
scikit-learn itself is BSD-3-Clause. 1797 samples; pixel values 0..16, labels 0..9.

Outputs (in this folder): image.npy uint8 [1797, 8, 8] (values 0..16), label.npy int64 [1797].
Run: /usr/bin/python3 data/digits/make_digits.py
"""
import gzip
import os

import numpy as np

SRC = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
here = os.path.dirname(os.path.abspath(__file__))
with gzip.open(SRC, "rt") as f:
    rows = np.loadtxt(f, delimiter=",", dtype=np.int64)
images = rows[:, :64].astype(np.uint8).reshape(-1, 8, 8)
labels = rows[:, 64].astype(np.int64)
np.save(os.path.join(here, "image.npy"), images)
np.save(os.path.join(here, "label.npy"), labels)
print(images.shape, labels.shape, np.bincount(labels))
