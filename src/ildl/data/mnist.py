"""MNIST handwritten digits from IDX files (the format of the original distribution).

An IDX file is a big-endian header -- two zero bytes, a type code (0x08 = unsigned byte), the number
of dimensions -- then one 4-byte size per dimension, then the raw values. Files may be gzipped.

>>> x, y = load_mnist("data/mnist", split="test")      # doctest: +SKIP
>>> x.shape, x.dtype, y.shape
((10000, 28, 28), dtype('uint8'), (10000,))

With no path, the four files are downloaded once into a cache folder (``$ILDL_CACHE/mnist``, by
default ``~/.cache/ildl/mnist``) and checked against their published MD5 checksums. Offline, the
error says which files to place where; ``ildl.data.make_digits`` is a fallback needing no files.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request

import numpy as np

from ..atomic import write_bytes_atomically
from ..cache import cache_dir as shared_cache_dir
from ..errors import DataError, DownloadError, MissingFileError

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_UNSIGNED_BYTE = 0x08

# Where the canonical gzipped files are served, tried in order.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# MD5 of the canonical .gz files, as published with the dataset's mirrors.
MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


def cache_dir() -> str:
    """The folder MNIST is downloaded to: ``$ILDL_CACHE/mnist`` or ``~/.cache/ildl/mnist``."""
    return shared_cache_dir("mnist")


def _md5(path: str) -> str:
    with open(path, "rb") as file:
        return hashlib.md5(file.read()).hexdigest()


def _download_file(name: str, folder: str, mirrors, checksums, timeout: float) -> str:
    """Fetch ``name`` from the first mirror that serves it with the right checksum; written
    atomically, so an interrupted download never leaves a partial file under the final name."""
    target = os.path.join(folder, name)
    problems = []
    for mirror in mirrors:
        try:
            with urllib.request.urlopen(mirror + name, timeout=timeout) as response:
                content = response.read()
        except (urllib.error.URLError, OSError) as error:
            problems.append(f"{mirror}: {error}")
            continue
        digest = hashlib.md5(content).hexdigest()
        if digest != checksums[name]:
            problems.append(f"{mirror}: checksum {digest} != expected {checksums[name]}")
            continue
        write_bytes_atomically(target, content)
        return target
    raise DownloadError("; ".join(problems))


def download_mnist(folder: str | None = None, mirrors=MIRRORS, checksums=None,
                   timeout: float = 30.0) -> str:
    """Make sure the four MNIST files are in ``folder`` (default ``cache_dir()``), downloading and
    verifying what is missing; return the folder. Files already there are checked too."""
    folder = folder or cache_dir()
    checksums = checksums or MD5
    os.makedirs(folder, exist_ok=True)
    missing = []
    for name, expected in checksums.items():
        path = os.path.join(folder, name)
        if os.path.exists(path) and _md5(path) == expected:
            continue
        try:
            _download_file(name, folder, mirrors, checksums, timeout)
        except ConnectionError as error:
            missing.append(f"{name} ({error})")
    if missing:
        raise MissingFileError(
            f"MNIST could not be downloaded into {folder!r}. Place these gzipped IDX files there "
            f"(from the MNIST distribution) or pass load_mnist(path=...) a folder holding them: "
            f"{', '.join(sorted(checksums))}. What failed: {'; '.join(missing)}"
        )
    return folder


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file of unsigned bytes (``.gz`` or plain) into a uint8 array of its shape."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as file:
            content = file.read()
    except (OSError, EOFError) as error:
        raise DataError(f"cannot read IDX file {path!r}: {error}") from None
    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise DataError(f"{path!r} is not an IDX file (it does not start with two zero bytes)")
    if content[2] != _UNSIGNED_BYTE:
        raise DataError(f"{path!r} holds IDX type 0x{content[2]:02x}; only unsigned bytes "
                        "(0x08), as in MNIST, are supported")
    ndim = content[3]
    header_size = 4 + 4 * ndim
    shape = tuple(int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + int(np.prod(shape))
    if len(content) != expected:
        raise DataError(f"{path!r} declares shape {shape} ({expected} bytes with its header) but "
                        f"holds {len(content)} bytes; the file is truncated or damaged")
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


def _find(directory: str, stem: str) -> str:
    for candidate in (stem + ".gz", stem):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    raise MissingFileError(f"MNIST file {stem}(.gz) not found in {directory!r}; place the IDX "
                           "files there (from the MNIST distribution) or pass another directory")


def load_mnist(path: str | os.PathLike | None = None,
               split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 28, 28)`` uint8 and labels ``(N,)`` uint8 of one split (``"train"``: 60 000,
    ``"test"``: 10 000) from a folder holding the MNIST IDX files, gzipped or not; with no
    ``path``, from the download cache (downloading once, see ``download_mnist``)."""
    if split not in FILES:
        raise DataError(f"split must be one of {sorted(FILES)}, got {split!r}")
    directory = download_mnist() if path is None else os.fspath(path)
    images_stem, labels_stem = FILES[split]
    images = read_idx(_find(directory, images_stem))
    labels = read_idx(_find(directory, labels_stem))
    if len(images) != len(labels):
        raise DataError(f"MNIST {split} split in {directory!r} has {len(images)} images but "
                        f"{len(labels)} labels")
    return images, labels
