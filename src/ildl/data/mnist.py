"""MNIST handwritten digits from IDX files (the format of the original distribution).

An IDX file is a big-endian header -- two zero bytes, a type code (0x08 = unsigned byte), the number
of dimensions -- then one 4-byte size per dimension, then the raw values. Files may be gzipped.

>>> x, y = load_mnist("data/mnist", split="test")      # doctest: +SKIP
>>> x.shape, x.dtype, y.shape
((10000, 28, 28), dtype('uint8'), (10000,))
"""

from __future__ import annotations

import gzip
import os

import numpy as np

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_UNSIGNED_BYTE = 0x08


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file of unsigned bytes (``.gz`` or plain) into a uint8 array of its shape."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as file:
            content = file.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"cannot read IDX file {path!r}: {error}") from None
    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise ValueError(f"{path!r} is not an IDX file (it does not start with two zero bytes)")
    if content[2] != _UNSIGNED_BYTE:
        raise ValueError(f"{path!r} holds IDX type 0x{content[2]:02x}; only unsigned bytes "
                         "(0x08), as in MNIST, are supported")
    ndim = content[3]
    header_size = 4 + 4 * ndim
    shape = tuple(int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + int(np.prod(shape))
    if len(content) != expected:
        raise ValueError(f"{path!r} declares shape {shape} ({expected} bytes with its header) but "
                         f"holds {len(content)} bytes; the file is truncated or damaged")
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


def _find(directory: str, stem: str) -> str:
    for candidate in (stem + ".gz", stem):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"MNIST file {stem}(.gz) not found in {directory!r}; place the IDX "
                            "files there (from the MNIST distribution) or pass another directory")


def load_mnist(path: str | os.PathLike, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 28, 28)`` uint8 and labels ``(N,)`` uint8 of one split (``"train"`` or
    ``"test"``) from a directory holding the MNIST IDX files, gzipped or not."""
    if split not in FILES:
        raise ValueError(f"split must be one of {sorted(FILES)}, got {split!r}")
    directory = os.fspath(path)
    images_stem, labels_stem = FILES[split]
    images = read_idx(_find(directory, images_stem))
    labels = read_idx(_find(directory, labels_stem))
    if len(images) != len(labels):
        raise ValueError(f"MNIST {split} split in {directory!r} has {len(images)} images but "
                         f"{len(labels)} labels")
    return images, labels
