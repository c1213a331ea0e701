"""MNIST handwritten digits from IDX files (the format of the original distribution).

An IDX file is a big-endian header -- two zero bytes, a type code (0x08 = unsigned byte), the number
of dimensions -- then one 4-byte size per dimension, then the raw values. The first four bytes
read as one number are the "magic number": 0x00000803 for MNIST images ``(N, 28, 28)``,
0x00000801 for its labels ``(N,)``. Files may be gzipped (told by their first bytes, whatever
their name).

>>> x, y = load_mnist("data/mnist", split="test")      # doctest: +SKIP
>>> x.shape, x.dtype, y.shape
((10000, 28, 28), dtype('uint8'), (10000,))

Every file is checked before its values are read: the header must declare what MNIST declares
(magic number, 28x28 images, at most the split's 60 000 or 10 000 items, as many labels as
images), and no more bytes are read, or decompressed, than the header declares -- so a damaged
header or a gzip bomb cannot fill the memory. Labels must be digits 0..9. Anything else is a
``DataError`` that names the file, what is wrong, and where to get the original.

With no path, the four files are downloaded once into a cache folder (``$ILDL_CACHE/mnist``, by
default ``~/.cache/ildl/mnist``) and checked against their published MD5 checksums. Offline, the
error says which files to place where; ``ildl.data.make_digits`` is a fallback needing no files.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import math
import os
import struct
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np

from ..atomic import write_bytes_atomically
from ..cache import cache_dir as shared_cache_dir
from ..errors import ArgumentError, DataError, DownloadError, MissingFileError

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SPLIT_SIZES = {"train": 60_000, "test": 10_000}  # the most items a file of the split may hold
ITEM_SHAPES = {"images": (28, 28), "labels": ()}  # a file holds N of these
N_CLASSES = 10  # labels are the digits 0..9

_UNSIGNED_BYTE = 0x08
_IDX_TYPES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32",
              0x0D: "float32", 0x0E: "float64"}
_GZIP_START = b"\x1f\x8b"
_CHUNK = 1 << 20  # bytes read at a time: memory grows with what a file holds, not what it claims

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
# The largest canonical file (train images) has 9.9 MB: a bigger answer is not MNIST.
_MAX_DOWNLOAD_BYTES = 16 << 20


def cache_dir() -> str:
    """The folder MNIST is downloaded to: ``$ILDL_CACHE/mnist`` or ``~/.cache/ildl/mnist``."""
    return shared_cache_dir("mnist")


# --------------------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------------------

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
                content = response.read(_MAX_DOWNLOAD_BYTES + 1)
        except (urllib.error.URLError, OSError) as error:
            problems.append(f"{mirror}: {error}")
            continue
        if len(content) > _MAX_DOWNLOAD_BYTES:
            problems.append(f"{mirror}: more than {_MAX_DOWNLOAD_BYTES:,} bytes, larger than "
                            "any MNIST file")
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
    verifying what is missing; return the folder. Files already there are checked too, and
    downloaded again when their MD5 differs."""
    folder = os.fspath(folder or cache_dir())
    checksums = checksums or MD5
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ArgumentError(f"{folder!r} is a file; download_mnist needs a folder to put the MNIST "
                            "files in (it is created if missing)")
    os.makedirs(folder, exist_ok=True)
    missing = []
    for name, expected in checksums.items():
        path = os.path.join(folder, name)
        if os.path.isfile(path) and _md5(path) == expected:
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


# --------------------------------------------------------------------------------------
# IDX files
# --------------------------------------------------------------------------------------

_MNIST_STEMS = {stem for stems in FILES.values() for stem in stems}


def _how_to_replace(path: str) -> str:
    """The fix for a damaged or wrong file: where its original is, for the four MNIST files."""
    stem = os.path.basename(path).removesuffix(".gz")
    if stem not in _MNIST_STEMS:
        return "Fix: replace it with an intact copy of the file."
    folder = os.path.dirname(os.path.abspath(path))
    return (f"Fix: replace it with the original, {MIRRORS[0]}{stem}.gz, or let "
            f"ildl.data.download_mnist({folder!r}) download the four MNIST files there and check "
            "their MD5.")


def _is_gzipped(path: str) -> bool:
    # By content, not by name: browsers sometimes save a .gz already unpacked, under its .gz name.
    with open(path, "rb") as file:
        return file.read(2) == _GZIP_START


@contextlib.contextmanager
def _idx_file(path: str) -> Iterator[BinaryIO]:
    """The bytes of the IDX file at ``path``, decompressed if it is gzipped; gzip's complaints
    about a damaged file, and the system's about an unreadable one, become a ``DataError``
    naming it."""
    if not os.path.exists(path):
        raise MissingFileError(f"no IDX file at {path!r}")
    if not os.path.isfile(path):
        raise DataError(f"{path!r} is a folder, not an IDX file")
    try:
        with (gzip.open if _is_gzipped(path) else open)(path, "rb") as file:
            yield file
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DataError(
            f"{path!r} is a damaged gzip file ({type(error).__name__}: {error}): it is truncated "
            f"or some of its bytes have changed. {_how_to_replace(path)}") from None
    except OSError as error:  # no permission to read it, say
        raise DataError(f"{path!r} cannot be read: {error.strerror or error}") from None


def _read_header(file, path: str) -> tuple[int, ...]:
    """The shape declared by the header at the start of ``file`` (the file is left after it)."""
    start = file.read(4)
    if len(start) < 4 or start[:2] != b"\0\0":
        found = f"it starts with bytes [{start.hex(' ')}]" if start else "it is empty"
        raise DataError(
            f"{path!r} is not an IDX file: {found}, where an IDX file starts with two zero "
            "bytes, its type code and its number of dimensions ([00 00 08 03] for MNIST images, "
            f"[00 00 08 01] for labels). {_how_to_replace(path)}")
    type_code, ndim = start[2], start[3]
    if type_code != _UNSIGNED_BYTE:
        kind = _IDX_TYPES.get(type_code, "not an IDX type")
        raise DataError(
            f"{path!r} declares IDX values of type 0x{type_code:02x} ({kind}) in its header; MNIST "
            f"files hold unsigned bytes (type 0x08), the only type read here. "
            f"{_how_to_replace(path)}")
    sizes = file.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise DataError(
            f"{path!r} ends inside its header: it declares {ndim} dimensions, whose sizes take "
            f"{4 * ndim} bytes, but only {len(sizes)} follow. {_how_to_replace(path)}")
    return struct.unpack(f">{ndim}I", sizes)


def _read_values(file, path: str, shape: tuple[int, ...]) -> bytearray:
    """Exactly the ``prod(shape)`` bytes the header declares; one more is asked for to tell a file
    that holds more, and reading in chunks keeps memory to what the file really holds."""
    declared = math.prod(shape)
    values = bytearray()
    while len(values) <= declared:
        chunk = file.read(min(_CHUNK, declared + 1 - len(values)))
        if not chunk:
            break
        values += chunk
    if len(values) != declared:
        found = "more" if len(values) > declared else f"only {len(values):,}"
        raise DataError(
            f"{path!r} declares shape {shape} in its header, that is {declared:,} bytes of "
            f"values, but holds {found}: the file is truncated or damaged. "
            f"{_how_to_replace(path)}")
    return values


def read_idx_shape(path: str | os.PathLike) -> tuple[int, ...]:
    """The shape an IDX file (``.gz`` or plain) declares in its header, checked to be an IDX
    header of unsigned bytes; none of its values are read."""
    path = os.fspath(path)
    with _idx_file(path) as file:
        return _read_header(file, path)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file of unsigned bytes (``.gz`` or plain) into a uint8 array of its shape.
    No more bytes are read, or decompressed, than its header declares (plus one, to see that the
    file ends there)."""
    path = os.fspath(path)
    with _idx_file(path) as file:
        shape = _read_header(file, path)
        values = _read_values(file, path, shape)
    return np.frombuffer(values, dtype=np.uint8).reshape(shape)


# --------------------------------------------------------------------------------------
# The MNIST splits
# --------------------------------------------------------------------------------------

def _layout(kind: str) -> str:
    """``(N, 28, 28)`` or ``(N,)``."""
    item_shape = ITEM_SHAPES[kind]
    return f"(N, {', '.join(map(str, item_shape))})" if item_shape else "(N,)"


def _check_declared_shape(path: str, shape: tuple[int, ...], kind: str, split: str) -> None:
    """The header of an MNIST ``kind`` ("images" or "labels") file of ``split`` must declare
    ``(N, 28, 28)`` or ``(N,)`` with N at most the split's size: checked before reading values."""
    item_shape = ITEM_SHAPES[kind]
    if len(shape) != 1 + len(item_shape) or shape[1:] != item_shape:
        other = "labels" if kind == "images" else "images"
        swapped = (f"; that is the layout of MNIST {other}: are the image and label files swapped?"
                   if len(shape) == 1 + len(ITEM_SHAPES[other]) else "")
        raise DataError(
            f"{path!r} declares shape {shape} in its IDX header (magic number "
            f"0x{0x800 + len(shape):08x}), but MNIST {kind} have shape {_layout(kind)} (magic "
            f"number 0x{0x801 + len(item_shape):08x}){swapped}. {_how_to_replace(path)}")
    if shape[0] > SPLIT_SIZES[split]:
        raise DataError(
            f"{path!r} declares {shape[0]:,} {kind} in its IDX header, more than the "
            f"{SPLIT_SIZES[split]:,} of MNIST's {split} split: the header is damaged or the file "
            f"is not MNIST's. {_how_to_replace(path)}")


def _check_labels(path: str, labels: np.ndarray) -> None:
    outside = np.flatnonzero(labels >= N_CLASSES)
    if outside.size:
        first = int(outside[0])
        raise DataError(
            f"{path!r} holds label {labels[first]} at position {first} ({outside.size:,} of "
            f"{len(labels):,} labels are outside 0..{N_CLASSES - 1}); MNIST labels are the digits "
            f"0 to {N_CLASSES - 1}. {_how_to_replace(path)}")


def _check_folder(directory: str) -> None:
    fix = ("pass the folder that holds the MNIST IDX files, or none (load_mnist(); `ildl nn "
           "mnist` without --data-dir) to download them once into the cache")
    if not os.path.exists(directory):
        raise MissingFileError(f"MNIST folder {directory!r} does not exist; {fix}")
    if not os.path.isdir(directory):
        raise ArgumentError(f"{directory!r} is a file, not a folder; {fix}")


def _find_file(directory: str, stem: str) -> str | None:
    for candidate in (stem + ".gz", stem):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    return None


def has_split(directory: str | os.PathLike, split: str) -> bool:
    """Whether ``directory`` holds any file of ``split`` (its images or labels, gzipped or not)."""
    return any(_find_file(os.fspath(directory), stem) for stem in FILES[split])


def _split_paths(directory: str, split: str) -> tuple[str, str]:
    paths = [_find_file(directory, stem) for stem in FILES[split]]
    for stem, path in zip(FILES[split], paths):
        if path is None:
            names = " and ".join(f"{name}.gz" for name in FILES[split])
            raise MissingFileError(
                f"MNIST file {stem}(.gz) not found in {directory!r}; the {split} split needs "
                f"{names} there (gzipped or not). Fix: download them from {MIRRORS[0]} into that "
                "folder, or pass no folder (load_mnist(); `ildl nn mnist` without --data-dir) to "
                "download them once into the cache")
    return paths[0], paths[1]


def load_mnist(path: str | os.PathLike | None = None,
               split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 28, 28)`` uint8 and labels ``(N,)`` uint8 of one split (``"train"``: 60 000,
    ``"test"``: 10 000) from a folder holding the MNIST IDX files, gzipped or not; with no
    ``path``, from the download cache (downloading once, see ``download_mnist``).

    Both headers are checked (see the module docstring) before any values are read; a file that
    does not hold what MNIST declares raises ``DataError`` naming it."""
    if split not in FILES:
        raise ArgumentError(f"split must be one of {sorted(FILES)}, got {split!r}")
    directory = download_mnist() if path is None else os.fspath(path)
    _check_folder(directory)
    images_path, labels_path = _split_paths(directory, split)
    images_shape, labels_shape = read_idx_shape(images_path), read_idx_shape(labels_path)
    _check_declared_shape(images_path, images_shape, "images", split)
    _check_declared_shape(labels_path, labels_shape, "labels", split)
    if images_shape[0] != labels_shape[0]:
        raise DataError(
            f"the MNIST {split} split has {images_shape[0]:,} images ({images_path!r}) but "
            f"{labels_shape[0]:,} labels ({labels_path!r}); every image needs its label (both "
            "counts are declared in the files' IDX headers). Fix: replace both "
            f"with the originals from {MIRRORS[0]}, or let ildl.data.download_mnist({directory!r}) "
            "download the four MNIST files there and check their MD5.")
    images, labels = read_idx(images_path), read_idx(labels_path)
    _check_labels(labels_path, labels)
    return images, labels
