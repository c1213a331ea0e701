"""MNIST IDX reader: hand-built files, damaged files, and the real test set when available."""

import gzip
import os
import struct

import numpy as np
import pytest

from ildl.data import load_mnist, read_idx

MNIST_DIR = os.environ.get("ILDL_MNIST_DIR")
# Published class counts of the MNIST test set (LeCun et al.), digits 0..9.
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def write_idx(path, array, compress):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", size) for size in array.shape)
    opener = gzip.open if compress else open
    with opener(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trips_hand_built_files(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, size=(5, 4, 3))
    path = tmp_path / ("images.idx" + (".gz" if compress else ""))
    write_idx(path, images, compress)
    np.testing.assert_array_equal(read_idx(path), images)


def test_load_mnist_finds_plain_and_gzipped_files(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, size=(6, 28, 28))
    labels = np.arange(6) % 10
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, compress=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels, compress=False)
    x, y = load_mnist(tmp_path, split="test")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_truncated_idx_file_is_refused_with_sizes(tmp_path):
    path = tmp_path / "cut.idx"
    write_idx(path, np.zeros((4, 4), dtype=np.uint8), compress=False)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(path)


def test_non_idx_file_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path, split="test")
    with pytest.raises(ValueError, match="split"):
        load_mnist(tmp_path, split="validation")


@pytest.mark.skipif(not MNIST_DIR, reason="set ILDL_MNIST_DIR to a folder with the MNIST IDX files")
def test_real_mnist_test_set():
    x, y = load_mnist(MNIST_DIR, split="test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y, minlength=10).tolist() == MNIST_TEST_COUNTS
